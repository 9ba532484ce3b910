"""How much the starter rule table (finjobs/domain/category_starter.py) categorises, and how often it
agrees with the files' own categories, on the real exports in ../shared/data/bank-csv/csv2ofx and the
sample generator's payees (finjobs/sample_data.py, the demo's and the benchmarks' data).

Prints per source: rows, categorised share, and, where a file has a Category column whose value names
a standard category (FILE_NAMES below: a file category that names none, e.g. 'Expenses', is not
counted), agreement = starter category equals the file's, over the rows both categorised.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

from finjobs import sample_data
from finjobs.domain.category_starter import StarterTable
from finjobs.domain.statements import StatementRow, detect_format, read_statement
from finjobs.errors import InputError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "bank-csv" / "csv2ofx"

# a bank's category name -> the standard category it means (first word found, lower-cased)
FILE_NAMES = (
    ("payment/credit", "Transfers"),
    ("transfer", "Transfers"),
    ("gas", "Fuel"),
    ("fuel", "Fuel"),
    ("travel", "Travel"),
    ("groceries", "Groceries"),
    ("restaurant", "Eating out"),
    ("food & dining", "Eating out"),
    ("rent", "Rent/Mortgage"),
    ("mortgage", "Rent/Mortgage"),
    ("utilities", "Utilities"),
    ("shopping", "Shopping"),
    ("health", "Health"),
    ("pharmacy", "Health"),
    ("insurance", "Insurance"),
    ("income", "Income"),
    ("paycheck", "Income"),
    ("salary", "Income"),
    ("fee", "Fees"),
    ("atm", "Cash"),
    ("cash", "Cash"),
    ("subscription", "Subscriptions"),
)


def standard_name(file_category: str) -> str:
    low = file_category.lower()
    return next((std for word, std in FILE_NAMES if word in low), "")


def expected_rows(data_dir: Path) -> Iterator[tuple[str, str, int]]:
    """(source, payee, amount in minor units) from expected/*.json."""
    for path in sorted((data_dir / "expected").glob("*.json")):
        for r in json.loads(path.read_text())["rows"]:
            payee = r.get("payee") or ""
            yield path.name, payee, round(float(r["amount"]) * 100)


def file_category_rows(data_dir: Path) -> Iterator[tuple[str, str, int, str]]:
    """(file, description, amount, the file's category) for inputs read with a Category column."""
    for path in sorted((data_dir / "input").glob("*.csv")):

        def opener(path: Path = path):  # type: ignore[no-untyped-def]
            return path.open("rb")

        try:
            fmt = detect_format(opener, source=path.name)
            rows = [r for r in read_statement(opener, fmt, source=path.name) if isinstance(r, StatementRow)]
        except InputError:
            continue
        for r in rows:
            if r.category:
                yield path.name, r.description, r.amount_minor, r.category


def _line(label: str, n: int, categorised: int, agree: int | None = None, compared: int = 0) -> str:
    share = f"{categorised / n:.3f}" if n else "-"
    out = f"{label:<44} rows={n:<5} categorised={categorised:<5} share={share}"
    if agree is not None:
        rate = f"{agree / compared:.3f}" if compared else "-"
        out += f" agree={agree}/{compared} ({rate})"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every row and its category")
    args = parser.parse_args()
    table = StarterTable()

    n = got = 0
    for source, payee, amount in expected_rows(args.data):
        category = table.category(payee, amount)
        n, got = n + 1, got + bool(category)
        if args.verbose:
            print(f"  {source:<36} {amount:>9} {payee[:50]:<50} -> {category}")
    print(_line("csv2ofx expected/*.json payees", n, got))

    n = got = agree = compared = 0
    for source, description, amount, file_category in file_category_rows(args.data):
        category, wanted = table.category(description, amount), standard_name(file_category)
        n, got = n + 1, got + bool(category)
        if category and wanted:
            compared, agree = compared + 1, agree + (category == wanted)
        if args.verbose:
            print(f"  {source:<24} {amount:>9} {description[:40]:<40} file={file_category} -> {category}")
    print(_line("csv2ofx inputs with a Category column", n, got, agree, compared))

    n = got = 0
    payees = {(payee, amount < 0) for _day, payee, amount in sample_data.transactions(2000)}
    for payee, negative in sorted(payees):
        category = table.category(payee, -100 if negative else 100)
        n, got = n + 1, got + bool(category)
    print(_line("sample generator distinct payees", n, got))


if __name__ == "__main__":
    main()
