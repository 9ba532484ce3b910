"""Accuracy of CSV detection on the real exports in ../shared/data/bank-csv/csv2ofx (as a new user).

Each input with an expected/<name>.json goes through domain detect_format + read_statement with default
options; prints per file rows exact (date+amount), signs right (date+|amount| matched, sign agrees), totals,
and each open question the file left with the answer taken (--quiet: totals only).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

from finjobs.domain.statements import StatementFormat, StatementRow, detect_format, read_statement
from finjobs.errors import InputError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "bank-csv" / "csv2ofx"


def _expected(data_dir: Path, name: str) -> list[tuple[str, Decimal]]:
    data = json.loads((data_dir / "expected" / f"{name}.json").read_text())
    return [(r["date"], Decimal(r["amount"])) for r in data["rows"]]


def _read(path: Path) -> tuple[list[tuple[str, Decimal]], StatementFormat]:
    def opener():  # type: ignore[no-untyped-def]
        return path.open("rb")

    fmt = detect_format(opener, source=path.name)
    got = []
    for item in read_statement(opener, fmt, source=path.name):
        if isinstance(item, StatementRow):
            got.append((item.date.isoformat(), Decimal(item.amount_minor) / 100))
    return got, fmt


def score(expected: list[tuple[str, Decimal]], got: list[tuple[str, Decimal]]) -> tuple[int, int]:
    """(rows exact, signs right): multiset matches on (date, amount) and on (date, |amount|) + sign."""
    exact = sum((Counter(expected) & Counter(got)).values())
    mag_got = Counter((d, abs(a), a < 0) for d, a in got)
    mag_exp = Counter((d, abs(a), a < 0) for d, a in expected if a != 0)
    signs = sum((mag_exp & mag_got).values())
    return exact, signs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--quiet", action="store_true", help="print the totals only")
    args = parser.parse_args()
    data_dir: Path = args.data
    files = rows = signs = n_rows = n_signs = n_files = 0
    questions: Counter[str] = Counter()
    for path in sorted((data_dir / "input").glob("*.csv")):
        if not (data_dir / "expected" / f"{path.name}.json").exists():
            continue
        expected = _expected(data_dir, path.name)
        fmt: StatementFormat | None = None
        try:
            got, fmt = _read(path)
            error = ""
        except InputError as exc:
            got, error = [], f" error={exc}"
        exact, right = score(expected, got)
        n_sign = sum(1 for _, a in expected if a != 0)
        ok = exact == len(expected) == len(got)
        if not args.quiet:
            print(
                f"{path.name:40s} rows {exact}/{len(expected)} (read {len(got)}) signs {right}/{n_sign}"
                f"{' exact' if ok else ''}{error}"
            )
        for question, answer in zip(fmt.open_questions, fmt.assumptions, strict=False) if fmt else ():
            questions[question.partition(":")[0] if question.startswith("sign:") else question] += 1
            if not args.quiet:
                print(f"    open question: {question}\n      assumed: {answer}")
        n_files += 1
        files += ok
        rows += exact
        n_rows += len(expected)
        signs += right
        n_signs += n_sign
    print(f"files_exact={files}/{n_files} rows_exact={rows}/{n_rows} signs_right={signs}/{n_signs}")
    print("open_questions=" + (", ".join(f"{q!r}: {n}" for q, n in sorted(questions.items())) or "none"))


if __name__ == "__main__":
    main()
