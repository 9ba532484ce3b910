"""Accuracy of CSV detection on real bank exports, as a new user (default options).

Sets: `csv2ofx` (../shared/data/bank-csv/csv2ofx, the default) and `public` (tests/data/bank-csv-public,
exports from other open-source projects; see its SOURCES.md); `--set all` scores both. Each input with an
expected/<name>.json goes through domain detect_format + read_statement; prints per file rows exact
(date+amount), signs right (date+|amount| matched, sign agrees), payees in description (the expected
payee text found in a description read), each open question the file left with the answer taken, totals;
`--misses` lists the rows missed, `--quiet` prints the totals only.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

from finjobs.domain.statements import StatementFormat, StatementRow, detect_format, read_statement
from finjobs.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "csv2ofx": ROOT.parent / "shared" / "data" / "bank-csv" / "csv2ofx",
    "public": ROOT / "tests" / "data" / "bank-csv-public",
}


def _expected(data_dir: Path, name: str) -> list[tuple[str, Decimal]]:
    data = json.loads((data_dir / "expected" / f"{name}.json").read_text())
    return [(r["date"], Decimal(r["amount"])) for r in data["rows"]]


def _payees(data_dir: Path, name: str) -> list[str]:
    data = json.loads((data_dir / "expected" / f"{name}.json").read_text())
    return [" ".join(p.split()).casefold() for r in data["rows"] if (p := r.get("payee"))]


def _read(
    path: Path, descriptions: list[str] | None = None
) -> tuple[list[tuple[str, Decimal]], StatementFormat]:
    def opener():  # type: ignore[no-untyped-def]
        return path.open("rb")

    fmt = detect_format(opener, source=path.name)
    got = []
    for item in read_statement(opener, fmt, source=path.name):
        if isinstance(item, StatementRow):
            got.append((item.date.isoformat(), Decimal(item.amount_minor) / 100))
            if descriptions is not None:
                descriptions.append(item.description.casefold())
    return got, fmt


def score(expected: list[tuple[str, Decimal]], got: list[tuple[str, Decimal]]) -> tuple[int, int]:
    """(rows exact, signs right): multiset matches on (date, amount) and on (date, |amount|) + sign."""
    exact = sum((Counter(expected) & Counter(got)).values())
    mag_got = Counter((d, abs(a), a < 0) for d, a in got)
    mag_exp = Counter((d, abs(a), a < 0) for d, a in expected if a != 0)
    signs = sum((mag_exp & mag_got).values())
    return exact, signs


def _inputs(data_dir: Path) -> list[Path]:
    """The CSVs of a set: under input/ (csv2ofx layout) or beside expected/ (public layout)."""
    folder = data_dir / "input" if (data_dir / "input").is_dir() else data_dir
    return [p for p in sorted(folder.glob("*.csv")) if (data_dir / "expected" / f"{p.name}.json").exists()]


def _misses(expected: list[tuple[str, Decimal]], got: list[tuple[str, Decimal]]) -> str:
    missing = sorted((Counter(expected) - Counter(got)).elements())
    extra = sorted((Counter(got) - Counter(expected)).elements())

    def show(rows: list[tuple[str, Decimal]]) -> str:
        return ", ".join(f"{d} {a}" for d, a in rows[:6]) + (" ..." if len(rows) > 6 else "")

    lines = [f"missing: {show(missing)}"] * bool(missing) + [f"extra:   {show(extra)}"] * bool(extra)
    return "".join(f"\n    {line}" for line in lines)


def score_set(name: str, data_dir: Path, misses: bool, quiet: bool, questions: Counter[str]) -> str:
    """Print one line per file of a set and return its totals line."""
    files = rows = signs = n_rows = n_signs = n_files = payees = n_payees = 0
    for path in _inputs(data_dir):
        expected = _expected(data_dir, path.name)
        descriptions: list[str] = []
        fmt: StatementFormat | None = None
        try:
            got, fmt = _read(path, descriptions)
            error = ""
        except InputError as exc:
            got, error = [], f" error={exc}"
        wanted = _payees(data_dir, path.name)
        found = sum(any(p in d for d in descriptions) for p in wanted)
        exact, right = score(expected, got)
        n_sign = sum(1 for _, a in expected if a != 0)
        ok = exact == len(expected) == len(got)
        if not quiet:
            print(
                f"{path.name:40s} rows {exact}/{len(expected)} (read {len(got)}) signs {right}/{n_sign}"
                f" payees {found}/{len(wanted)}"
                f"{' exact' if ok else ''}{error}{_misses(expected, got) if misses and not ok else ''}"
            )
        for question, answer in zip(fmt.open_questions, fmt.assumptions, strict=False) if fmt else ():
            questions[question.partition(":")[0] if question.startswith("sign:") else question] += 1
            if not quiet:
                print(f"    open question: {question}\n      assumed: {answer}")
        n_files += 1
        files += ok
        rows += exact
        n_rows += len(expected)
        signs += right
        n_signs += n_sign
        payees += found
        n_payees += len(wanted)
    return (
        f"set={name} files_exact={files}/{n_files} rows_exact={rows}/{n_rows} signs_right={signs}/{n_signs}"
        f" payees_in_description={payees}/{n_payees}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", dest="which", choices=[*SETS, "all"], default="csv2ofx")
    parser.add_argument("--data", type=Path, help="score this folder instead of a named set")
    parser.add_argument("--misses", action="store_true", help="list the missing and extra rows")
    parser.add_argument("--quiet", action="store_true", help="print the totals only")
    args = parser.parse_args()
    chosen = SETS if args.which == "all" else {args.which: SETS[args.which]}
    if args.data:
        chosen = {"custom": args.data}
    totals = []
    questions: Counter[str] = Counter()
    for name, data_dir in chosen.items():
        print(f"== {name}: {data_dir}")
        totals.append(score_set(name, data_dir, args.misses, args.quiet, questions))
        print(totals[-1])
    if len(totals) > 1:
        print("\n".join(totals))
    print("open_questions=" + (", ".join(f"{q!r}: {n}" for q, n in sorted(questions.items())) or "none"))


if __name__ == "__main__":
    main()
