"""Deterministic, realistic sample data for the demo, the tests and the benchmarks: bank-statement CSVs
(pure) and receipt photos (drawn with Pillow, imported only when one is drawn)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterator
from typing import IO

from finjobs.domain.money import format_minor

# (payee, typical amount in cents, spread, visits per 30 days)
_SPENDING = [
    ("STARBUCKS STORE #{n}", 545, 0.25, 14),
    ("WHOLE FOODS MARKET #{n}", 8400, 0.5, 5),
    ("TRADER JOE'S #{n}", 5200, 0.4, 3),
    ("SHELL OIL {n}", 4800, 0.3, 3),
    ("UBER TRIP {n}", 1850, 0.6, 4),
    ("AMAZON MKTPL*{n}", 3600, 0.9, 4),
    ("CHIPOTLE {n}", 1290, 0.2, 3),
    ("CVS/PHARMACY #{n}", 2300, 0.6, 1),
    ("TARGET T-{n}", 6100, 0.7, 2),
    ("DELTA AIR LINES {n}", 38900, 0.4, 0.1),
]
_MONTHLY = [
    (1, "ACME CORP PAYROLL", 520000),
    (3, "RENT - PARKVIEW APTS", -185000),
    (7, "NETFLIX.COM", -1549),
    (12, "SPOTIFY USA", -1199),
    (15, "PG&E WEB ONLINE", -9800),
    (18, "COMCAST XFINITY", -8999),
    (16, "ACME CORP PAYROLL", 520000),
    (22, "GEICO AUTO PAY", -13400),
]

HEADER = ("Date", "Description", "Amount", "Balance")
# the bank's own category for some payees (as a Category column); the others are left to rules
BANK_CATEGORIES = {"WHOLE FOODS": "Groceries", "TRADER JOE": "Groceries", "SHELL": "Fuel", "RENT": "Housing"}
# rules a user would add for the rest (glob -> category): with these the whole sample is categorised
SAMPLE_RULES = {
    "STARBUCKS*": "Coffee",
    "UBER*": "Transport",
    "AMAZON*": "Shopping",
    "TARGET*": "Shopping",
    "CHIPOTLE*": "Eating out",
    "CVS*": "Health",
    "DELTA*": "Travel",
    "NETFLIX*": "Subscriptions",
    "SPOTIFY*": "Subscriptions",
    "PG&E*": "Utilities",
    "COMCAST*": "Utilities",
    "GEICO*": "Insurance",
}


def bank_category(payee: str) -> str:
    return next((c for prefix, c in BANK_CATEGORIES.items() if payee.startswith(prefix)), "")


def transactions(
    n: int, *, seed: int = 7, start: dt.date | None = None, until: dt.date | None = None
) -> Iterator[tuple[dt.date, str, int]]:
    """n rows of (date, description, amount in cents), in date order. A personal account has ~1.6 rows
    a day; big n (benchmarks) is packed into at most ~3 years, as a busy account's export would be."""
    rng = random.Random(seed)
    day = start or dt.date(2025, 1, 1)
    made = 0
    busy = max(1.0, n / (3 * 365 * 1.6))
    while made < n:
        todays: list[tuple[str, int]] = []
        for dom, payee, amount in _MONTHLY:
            if day.day == dom:
                jitter = 1 if amount > 0 else 1 + rng.uniform(-0.03, 0.03) * (payee.startswith("PG&E"))
                todays.append((payee, round(amount * jitter)))
        for payee, cents, spread, per_month in _SPENDING:
            expected = per_month / 30 * busy
            for _ in range(int(expected) + (rng.random() < expected % 1)):
                amount = max(50, round(rng.gauss(cents, cents * spread / 2)))
                todays.append((payee.format(n=rng.randint(100, 999)), -amount))
        for payee, amount in todays:
            if made == n or (until is not None and day > until):
                return
            yield day, payee, amount
            made += 1
        day += dt.timedelta(days=1)


def write_csv(
    out: IO[str],
    n: int,
    *,
    seed: int = 7,
    start: dt.date | None = None,
    until: dt.date | None = None,
    categories: bool = False,
) -> None:
    """A US-style export: MM/DD/YYYY dates, signed amounts, a running balance; with `categories`, a
    Category column that the bank fills for some payees (BANK_CATEGORIES)."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER + (("Category",) if categories else ()))
    balance = 250000
    for day, payee, amount in transactions(n, seed=seed, start=start, until=until):
        balance += amount
        row = (day.strftime("%m/%d/%Y"), payee, format_minor(amount), format_minor(balance))
        writer.writerow(row + ((bank_category(payee),) if categories else ()))


def csv_bytes(
    n: int,
    *,
    seed: int = 7,
    start: dt.date | None = None,
    until: dt.date | None = None,
    categories: bool = False,
) -> bytes:
    buf = io.StringIO()
    write_csv(buf, n, seed=seed, start=start, until=until, categories=categories)
    return buf.getvalue().encode()


def receipt_image(lines: tuple[str, ...], fmt: str = "PNG") -> bytes:
    """A printed-looking receipt photo with these lines, for the demo, the tests and the chaos run.
    Pillow is imported here: only callers that draw receipts need it."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=36)
    im = Image.new("L", (1000, 120 + 70 * len(lines)), 255)
    draw = ImageDraw.Draw(im)
    for i, line in enumerate(lines):
        draw.text((40, 40 + i * 70), line, fill=0, font=font)
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()
