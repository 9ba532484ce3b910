#!/usr/bin/env python3
"""Generate synthetic, labelled receipt photos (SROIE layout: img/NNN.jpg + key/NNN.json), seeded.

Writes only under the OUT_DIR it is given (plus a manifest.jsonl of ground truth); reads fonts from
/usr/share/fonts/truetype/dejavu/ when present. Stdlib + Pillow only.

    .venv/bin/python scripts/make_receipts.py OUT_DIR [--count 40] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import zlib
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

# Pillow is imported inside the rendering functions so build_receipt() stays a pure, cheap function.

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {
    "mono": "DejaVuSansMono.ttf",
    "mono-bold": "DejaVuSansMono-Bold.ttf",
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "cond": "DejaVuSansCondensed.ttf",
    "cond-bold": "DejaVuSansCondensed-Bold.ttf",
    "serif": "DejaVuSerif.ttf",
    "serif-bold": "DejaVuSerif-Bold.ttf",
}
MIN_HEIGHT, MAX_HEIGHT = 600, 2500
MIN_WIDTH = 300

MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()  # noqa: SIM905

# ----------------------------------------------------------------------------- content model


@dataclass(frozen=True)
class Line:
    """One printed line: parts are (text, x as a fraction of the paper's text width, anchor l/c/r)."""

    parts: tuple[tuple[str, float, str], ...]
    style: str = "normal"  # normal | bold | big | rule | blank

    @property
    def text(self) -> str:
        return "  ".join(p[0] for p in self.parts)


@dataclass(frozen=True)
class Item:
    desc: str
    qty: int
    unit_minor: int
    amount_minor: int
    tax_code: str  # "SR" (standard rated) or "ZR" (zero rated); "" where the receipt prints none


@dataclass(frozen=True)
class Receipt:
    """A receipt's printed lines plus the ground truth behind them (money in integer minor units)."""

    lines: tuple[Line, ...]
    company: str
    date_printed: str
    date_iso: str
    date_style: str  # a DATE_STYLES key, e.g. "mm/dd/yyyy" (month-first on US receipts)
    address: str
    total_printed: str  # the amount on the final total line, spaces removed (the key's "total")
    total_line: int  # index into lines of the line that prints the payable total
    region: str  # MY | US | UK
    currency: str  # MYR | USD | GBP
    items: tuple[Item, ...]
    subtotal_minor: int
    service_minor: int
    tax_minor: int
    tax_inclusive: bool
    rounding_minor: int
    total_minor: int
    tendered_minor: int
    change_minor: int
    payment: str  # CASH | CARD

    def key(self) -> dict[str, str]:
        return {
            "company": self.company,
            "date": self.date_printed,
            "address": self.address,
            "total": self.total_printed,
        }


# ----------------------------------------------------------------------------- word lists

# fmt: off
MY_CORES = [
    "SRI MAJU", "ZHENG HUI", "SOON HUAT", "YONG FATT", "KIM LEONG", "AIK HUAT", "BERKAT JAYA",
    "SINAR BAHAGIA", "MUTIARA", "HOCK SENG", "TECK GUAN", "SENG HENG", "WAH LEE", "ANNUR", "AL-AMIN",
    "SELERA KAMPUNG", "MEWAH", "CAHAYA BARU", "GOLDEN HARVEST", "LIAN HING", "HUP SENG", "KWONG WAH",
    "TAN CHAY YEE", "MAJU JAYA", "PERMAS", "BINTANG TIMUR", "SEGAR", "UNIHAKKA", "GUAN HUAT",
    "CHOP KIAN HIN", "SAM SAM", "D.I.Y.", "SIN KIM HIN", "RAHMAT",
]
MY_KIND_WORDS = {
    "grocery": (["KEDAI RUNCIT", "PASAR MINI", "SYARIKAT", "PERNIAGAAN"],
                 ["MINI MARKET", "SUPERMARKET", "MART", "STORE"]),
    "restaurant": (["RESTORAN", "KEDAI MAKAN", "RESTAURANT"],
                    ["CAFE", "KOPITIAM", "FOOD CORNER", "RESTAURANT"]),
    "hardware": (["KEDAI PERKAKASAN", "PERNIAGAAN"],
                  ["HARDWARE", "MACHINERY", "BUILDING MATERIALS", "TRADING CO"]),
    "stationery": (["KEDAI BUKU", "SYARIKAT"],
                    ["BOOK STORE", "STATIONERY", "BOOKSTORE & STATIONERY"]),
    "pharmacy": (["FARMASI", "KEDAI UBAT"],
                  ["PHARMACY", "MEDICAL HALL", "DISPENSARY"]),
}
MY_SUFFIXES = ["SDN BHD", "SDN. BHD.", "S/B", "ENTERPRISE", "TRADING", "(M) SDN BHD", "SDN BHD", "", ""]
WEST_CORES = [
    "CORNER", "MAPLE STREET", "BLUE RIVER", "OLD TOWN", "GREENLEAF", "HARBOUR", "RED LION", "SUNRISE",
    "NORTHSIDE", "OAK & IVY", "PENNY LANE", "HILLTOP", "RIVERSIDE", "KINGSWAY", "BAKER STREET", "MILLER'S",
    "O'NEILL'S", "ROSIE'S", "THE DAILY", "FRANKLIN", "BRIGHTON", "WILLOW",
]
WEST_KIND_WORDS = {
    "grocery": ["MARKET", "GROCERY", "FOOD STORE", "CONVENIENCE", "PANTRY"],
    "restaurant": ["DINER", "BAKERY", "CAFE", "COFFEE CO", "KITCHEN", "PIZZERIA", "GRILL"],
    "hardware": ["HARDWARE", "HOME & GARDEN", "TOOL SUPPLY"],
    "stationery": ["BOOKS", "OFFICE SUPPLY", "PAPER CO"],
    "pharmacy": ["PHARMACY", "CHEMIST", "DRUG STORE"],
}
WEST_SUFFIXES = {"US": ["INC", "LLC", "INC.", "", ""], "UK": ["LTD", "LIMITED", "LTD.", "", ""]}
ITEMS: dict[str, list[tuple[str, int, int]]] = {  # description, min and max unit price in minor units
    "grocery": [
        ("MILO 1KG", 1890, 2690), ("GARDENIA BREAD 400G", 280, 420), ("MAGGI KARI 5S", 520, 690),
        ("MINYAK MASAK BURUH 5KG", 2290, 2790), ("GULA PASIR 1KG", 250, 290),
        ("TELUR GRED A 30S", 1150, 1450), ("BERAS SST5 10KG", 2600, 3500), ("DUTCH LADY UHT 1L", 590, 720),
        ("SARDIN AYAM 425G", 450, 620), ("KICAP MANIS JALEN 345ML", 320, 420),
        ("BISKUT MARIE 300G", 380, 520), ("AIR MINERAL 1.5L", 120, 220),
        ("TISSUE SOFT 10 ROLL", 1290, 1690), ("SABUN DAIA 3KG", 1690, 2290), ("SUSU PEKAT F&N", 290, 380),
        ("BANANAS 2LB", 129, 199), ("MILK 1 GAL WHOLE", 329, 499), ("EGGS LARGE DOZEN", 249, 459),
        ("Cheddar Cheese 200g", 225, 399), ("Orange Juice 1L", 159, 289), ("Pasta Fusilli 500g", 95, 189),
    ],
    "restaurant": [
        ("NASI LEMAK AYAM", 650, 1290), ("TEH TARIK", 160, 260), ("KOPI O AIS", 150, 250),
        ("ROTI CANAI", 110, 180), ("MEE GORENG MAMAK", 550, 850), ("NASI KANDAR", 750, 1500),
        ("TEH O AIS LIMAU", 180, 280), ("AIR SIRAP", 120, 200), ("CHAPATI", 150, 220),
        ("1 MEAT + 3 VEGE", 650, 790), ("ADD VEGETABLE", 50, 150), ("CHICKEN RICE", 600, 900),
        ("Latte Large", 395, 550), ("Americano", 275, 395), ("Blueberry Muffin", 250, 350),
        ("Croissant", 195, 295), ("Club Sandwich", 750, 1150), ("Bagel w/ Cream Cheese", 325, 475),
        ("Fish & Chips", 995, 1450), ("Cheeseburger", 899, 1299), ("Soup of the Day", 450, 650),
    ],
    "hardware": [
        ('PVC PIPE 1/2" 10FT', 650, 990), ("SCREW 8X1 (100PCS)", 350, 590), ("CABLE TIE 200MM", 290, 490),
        ('PAINT BRUSH 2"', 390, 790), ("WD-40 277ML", 1290, 1690), ("MASKING TAPE 24MM", 190, 350),
        ("SILICONE SEALANT CLEAR", 890, 1490), ("CHOPPING BOARD 35.5x25.5CM", 1500, 2200),
        ("BOPP TAPE 48MM*100M CLEAR", 290, 420), ("AIR PRESSURE SPRAYER 1.5L", 690, 1190),
        ("LED BULB 12W E27", 690, 1290), ("EXTENSION CORD 3 WAY", 1590, 2990), ("HAMMER 16OZ", 1890, 3590),
        ("GARDEN HOSE 15M", 2490, 4990), ("Wood Glue 250ml", 399, 699), ("Drill Bit Set 10pc", 1299, 2499),
    ],
    "stationery": [
        ("A4 PAPER 80GSM 500S", 1190, 1590), ("PEN PILOT G2 0.5 BLUE", 450, 690),
        ("EXERCISE BOOK 80PG", 120, 250), ("STAPLER NO.10", 590, 990), ("CORRECTION TAPE", 250, 490),
        ("FILE FOLDER A4", 150, 350), ("BUKU LATIHAN 120M/S", 180, 300), ("GLUE STICK 21G", 220, 390),
        ("HIGHLIGHTER 4 COLOUR", 590, 890), ("Notebook A5 Ruled", 299, 599), ("Envelopes C5 x25", 249, 449),
        ("Printer Ink Black", 1899, 2999),
    ],
    "pharmacy": [
        ("PANADOL ACTIFAST 20S", 890, 1290), ("VITAMIN C 1000MG 30S", 2290, 3590),
        ("HANDSAPLAST 10S", 350, 590), ("DETTOL ANTISEPTIC 500ML", 1390, 1890),
        ("FACE MASK 50S", 1290, 2590), ("STREPSILS HONEY 16S", 890, 1190),
        ("MINYAK CAP KAPAK 28ML", 1090, 1490), ("Ibuprofen 200mg 16", 199, 499),
        ("Hand Sanitiser 50ml", 149, 299), ("Toothpaste 100ml", 199, 399), ("Cough Syrup 150ml", 499, 899),
    ],
}
# Items that only make sense outside Malaysia, even though they print in capitals.
WEST_ONLY = {"BANANAS 2LB", "EGGS LARGE DOZEN", "MILK 1 GAL WHOLE"}
MY_PLACES = [  # town, postcode, state
    ("JOHOR BAHRU", "81100", "JOHOR"), ("PETALING JAYA", "47400", "SELANGOR"),
    ("KLANG", "41150", "SELANGOR"), ("SERI KEMBANGAN", "43300", "SELANGOR"),
    ("KUALA LUMPUR", "50450", "W.P. KUALA LUMPUR"), ("SHAH ALAM", "40150", "SELANGOR"),
    ("IPOH", "30450", "PERAK"), ("GEORGE TOWN", "10200", "PULAU PINANG"), ("MELAKA", "75200", "MELAKA"),
    ("SEREMBAN", "70200", "NEGERI SEMBILAN"), ("KUANTAN", "25200", "PAHANG"), ("MASAI", "81750", "JOHOR"),
    ("PENGERANG", "81620", "JOHOR"), ("KAJANG", "43000", "SELANGOR"),
]
MY_STREET_NAMES = [
    "SAGU", "DEDAP", "PERMAS", "HARMONI", "PUTRA", "ANGSA", "KURAU", "TAMPOI", "MERANTI", "BUNGA RAYA",
    "SS21", "KPB", "INDAH", "MUTIARA", "SETIA", "MAWAR", "TUN RAZAK",
]
MY_AREAS = [
    "TAMAN DAYA", "TAMAN JOHOR JAYA", "BANDAR BARU PERMAS JAYA", "TAMAN DESA HARMONI", "TAMAN SRI PUTRA",
    "TAMAN BERKELEY", "KAWASAN PERINDUSTRIAN BALAKONG", "DAMANSARA UPTOWN", "TAMAN MOLEK",
    "BANDAR SRI DAMANSARA", "TAMAN MELAWATI", "SUNGAI RENGIT",
]
US_PLACES = [  # city, state, ZIP
    ("Springfield", "IL", "62704"), ("Portland", "OR", "97205"), ("Austin", "TX", "78701"),
    ("Columbus", "OH", "43215"), ("Madison", "WI", "53703"), ("Raleigh", "NC", "27601"),
    ("Boise", "ID", "83702"), ("Albany", "NY", "12207"),
]
US_STREETS = [
    "Maple Ave", "Main St", "Oak Street", "W 5th St", "Elm Blvd", "Broadway", "Market St", "Lake Rd",
]
UK_PLACES = [  # town, postcode
    ("Bristol", "BS1 4DJ"), ("Leeds", "LS1 6AB"), ("York", "YO1 7HH"), ("Cardiff", "CF10 1EP"),
    ("Norwich", "NR2 1NT"), ("Bath", "BA1 1LT"), ("Glasgow", "G1 2FF"), ("Brighton", "BN1 1UG"),
]
UK_STREETS = ["High Street", "Church Road", "Station Road", "Queen Street", "Mill Lane", "Victoria Road"]
NAMES = [
    "AMIRAH", "SITI", "AHMAD", "LIM", "TAN", "KUMAR", "NURUL", "WEI LING", "JOHN", "SARAH", "DAVE", "PRIYA",
    "MEI", "HAFIZ", "KAREN", "TOM",
]
# fmt: on


# ----------------------------------------------------------------------------- money & dates


def fmt_amount(minor: int, commas: bool = False) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    w = f"{whole:,}" if commas else str(whole)
    return f"{sign}{w}.{cents:02d}"


def round_to_5_sen(minor: int) -> int:
    """Malaysian cash rounding: nearest 5 sen (1,2 -> down; 3,4 -> up to 5; 6,7 -> 5; 8,9 -> up)."""
    r = minor % 5
    return minor - r if r <= 2 else minor + (5 - r)


def pct(minor: int, rate_tenths: int) -> int:
    """minor * rate% (rate in tenths of a percent), rounded half up: integer arithmetic only."""
    return (minor * rate_tenths + 500) // 1000


def pct_inclusive(minor: int, rate_tenths: int) -> int:
    """The tax contained in a tax-inclusive amount, rounded half up."""
    return (2 * minor * rate_tenths + (1000 + rate_tenths)) // (2 * (1000 + rate_tenths))


def format_date(d: date, style: str) -> str:
    mon = MONTHS[d.month - 1]
    return {
        "dd/mm/yyyy": f"{d.day:02d}/{d.month:02d}/{d.year}",
        "dd-mm-yy": f"{d.day:02d}-{d.month:02d}-{d.year % 100:02d}",
        "dd-mm-yyyy": f"{d.day:02d}-{d.month:02d}-{d.year}",
        "dd.mm.yyyy": f"{d.day:02d}.{d.month:02d}.{d.year}",
        "dd/mm/yy": f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}",
        "d/m/yyyy": f"{d.day}/{d.month}/{d.year}",
        "dd MON yyyy": f"{d.day:02d} {mon} {d.year}",
        "d Mon yyyy": f"{d.day} {mon.title()} {d.year}",
        "yyyy-mm-dd": d.isoformat(),
        "MON dd, yyyy": f"{mon} {d.day:02d}, {d.year}",
        "dd-Mon-yyyy": f"{d.day:02d}-{mon.title()}-{d.year}",
        "mm/dd/yyyy": f"{d.month:02d}/{d.day:02d}/{d.year}",
        "mm/dd/yy": f"{d.month:02d}/{d.day:02d}/{d.year % 100:02d}",
        "m/d/yyyy": f"{d.month}/{d.day}/{d.year}",
    }[style]


DATE_STYLES = {  # region -> (style, weight)
    "MY": [
        ("dd/mm/yyyy", 10),
        ("dd-mm-yy", 4),
        ("dd-mm-yyyy", 3),
        ("dd.mm.yyyy", 2),
        ("dd/mm/yy", 3),
        ("d/m/yyyy", 2),
        ("dd MON yyyy", 3),
        ("d Mon yyyy", 2),
        ("yyyy-mm-dd", 2),
        ("MON dd, yyyy", 1),
    ],
    "US": [("mm/dd/yyyy", 6), ("mm/dd/yy", 4), ("m/d/yyyy", 3), ("MON dd, yyyy", 2), ("yyyy-mm-dd", 1)],
    "UK": [("dd/mm/yyyy", 6), ("dd/mm/yy", 3), ("dd MON yyyy", 2), ("dd-Mon-yyyy", 1), ("dd.mm.yyyy", 1)],
}


def format_time(rng: random.Random, h: int, m: int, s: int) -> str:
    style = rng.choice(["24", "24s", "12", "12s"])
    if style.startswith("24"):
        return f"{h:02d}:{m:02d}" + (f":{s:02d}" if style == "24s" else "")
    h12 = h % 12 or 12
    ampm = "PM" if h >= 12 else "AM"
    return f"{h12:02d}:{m:02d}{ampm}" if style == "12" else f"{h12}:{m:02d} {ampm}"


def wrap_words(text: str, width: int) -> tuple[str, str]:
    """Split text at the last space that keeps the head within width characters (head, rest)."""
    if len(text) <= width:
        return text, ""
    cut = text.rfind(" ", 0, width + 1)
    if cut <= 0:
        return text[:width], text[width:]
    return text[:cut], text[cut + 1 :]


def pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


# ----------------------------------------------------------------------------- line helpers


def center(text: str, style: str = "normal") -> Line:
    return Line(((text, 0.5, "c"),), style)


def left(text: str, style: str = "normal") -> Line:
    return Line(((text, 0.0, "l"),), style)


def lr(a: str, b: str, style: str = "normal") -> Line:
    return Line(((a, 0.0, "l"), (b, 1.0, "r")), style)


def rule(ch: str = "-") -> Line:
    return Line(((ch, 0.0, "l"),), "rule")


BLANK = Line((("", 0.0, "l"),), "blank")


# ----------------------------------------------------------------------------- the builder


@dataclass
class _Ctx:
    prefix: str  # printed before amounts on some lines: "RM", "RM ", "$", "£" or ""
    commas: bool
    tax_codes: bool


def _company(rng: random.Random, region: str, kind: str) -> str:
    if region == "MY":
        pre, post = MY_KIND_WORDS[kind]
        core = rng.choice(
            MY_CORES + (["NASI KANDAR PELITA", "MAMAK CORNER", "D'TANDOOR"] if kind == "restaurant" else [])
        )
        shape = rng.random()
        if shape < 0.35:
            name = f"{rng.choice(pre)} {core}"
        elif shape < 0.7:
            name = f"{core} {rng.choice(post)}"
        else:
            name = core
        suffix = rng.choice(MY_SUFFIXES)
        if core == "D.I.Y.":
            name, suffix = "MR D.I.Y.", rng.choice(["(M) SDN BHD", "(JOHOR) SDN BHD"])
        return f"{name} {suffix}".strip()
    name = f"{rng.choice(WEST_CORES)} {rng.choice(WEST_KIND_WORDS[kind])}"
    suffix = rng.choice(WEST_SUFFIXES[region])
    name = f"{name} {suffix}".strip()
    if rng.random() < 0.3:  # some shops print their name in title case
        name = name.title().replace("'S ", "'s ").replace(" Llc", " LLC").replace(" Ltd", " LTD")
    return name


def _address(rng: random.Random, region: str) -> list[str]:
    if region == "MY":
        town, postcode, state = rng.choice(MY_PLACES)
        no = rng.choice(
            [
                f"NO.{rng.randint(1, 199)}",
                f"NO. {rng.randint(1, 99)}",
                f"LOT {rng.randint(100, 9999)}",
                f"{rng.randint(1, 99)}",
                f"NO.{rng.randint(2, 60)}&{rng.randint(61, 99)}",
            ]
        )
        street = f"JALAN {rng.choice(MY_STREET_NAMES)} {rng.randint(1, 20)}"
        if rng.random() < 0.4:
            street += f"/{rng.randint(1, 9)}"
        area = rng.choice(MY_AREAS)
        shapes = [
            [f"{no}, {street},", f"{area},", f"{postcode} {town}, {state}."],
            [f"{no} {street}", f"{area}", f"{postcode} {town} {state}"],
            [f"{no}, {street}, {area},", f"{postcode} {town}, {state}"],
            [f"{no}, {street},", f"{area}, {postcode} {town}"],
        ]
        lines = []
        for ln in rng.choice(shapes):
            while ln:
                head, ln = wrap_words(ln, 34)
                lines.append(head)
        if rng.random() < 0.25:
            lines = [ln.title() for ln in lines]
        return lines
    if region == "US":
        city, st, zipc = rng.choice(US_PLACES)
        return [f"{rng.randint(10, 9999)} {rng.choice(US_STREETS)}", f"{city}, {st} {zipc}"]
    city, pc = rng.choice(UK_PLACES)
    return [f"{rng.randint(1, 220)} {rng.choice(UK_STREETS)}", f"{city} {pc}"]


def _amt(ctx: _Ctx, minor: int, with_prefix: bool) -> str:
    s = fmt_amount(minor, ctx.commas)
    if with_prefix and ctx.prefix:
        return f"-{ctx.prefix}{s[1:]}" if minor < 0 else f"{ctx.prefix}{s}"
    return s


def build_receipt(rng: random.Random) -> Receipt:
    """Build one receipt's printed lines and ground truth from rng alone (pure; no I/O, no Pillow)."""
    region = rng.choices(["MY", "US", "UK"], weights=[70, 18, 12])[0]
    kind = rng.choice(list(ITEMS))
    currency = {"MY": "MYR", "US": "USD", "UK": "GBP"}[region]
    sym = {"MY": rng.choice(["RM", "RM ", "RM", ""]), "US": "$", "UK": "£"}[region]
    ctx = _Ctx(sym, commas=rng.random() < 0.5, tax_codes=region == "MY" and rng.random() < 0.35)

    if region == "MY":
        d = date(2016, 1, 1) + timedelta(days=rng.randint(0, 4 * 365 - 1))
    else:
        d = date(2017, 1, 1) + timedelta(days=rng.randint(0, 8 * 365 - 1))
    hh, mm, ss = rng.randint(7, 22), rng.randint(0, 59), rng.randint(0, 59)
    date_style = pick(rng, DATE_STYLES[region])
    date_printed = format_date(d, date_style)
    time_printed = format_time(rng, hh, mm, ss)

    # Tax regime follows the calendar in Malaysia: GST 6% until 31 May 2018, 0% until 31 Aug, then SST.
    if region == "MY":
        if rng.random() < 0.2:  # small shops below the registration threshold print no tax at all
            tax_name, rate = "", 0
        elif d < date(2018, 6, 1):
            tax_name, rate = "GST", 60
        elif d < date(2018, 9, 1):
            tax_name, rate = "GST", 0
        else:
            tax_name, rate = ("SST", 60) if kind == "restaurant" else ("SST", rng.choice([0, 100]))
        inclusive = rng.random() < 0.5
    elif region == "US":
        tax_name, rate, inclusive = (
            rng.choice(["TAX", "SALES TAX", "Tax"]),
            rng.choice([50, 60, 70, 80, 88]),
            False,
        )
    else:
        tax_name, rate, inclusive = "VAT", 200, True

    # ---- items
    n_items = rng.choices(range(1, 13), weights=[10, 12, 12, 10, 9, 8, 6, 5, 4, 3, 2, 2])[0]
    catalogue = ITEMS[kind]
    # Title-case descriptions ("Latte Large") belong to US/UK tills; Malaysian ones print in capitals.
    west = [c for c in catalogue if c[0] in WEST_ONLY or c[0][1:2].islower()]
    if region == "MY":
        pool = [c for c in catalogue if c not in west]
    else:
        pool = west
        if rng.random() < 0.5:  # many US/UK tills print everything in capitals
            pool = [(c[0].upper(), c[1], c[2]) for c in pool]
    items: list[Item] = []
    prices: dict[str, int] = {}  # one shop, one price per product
    for _ in range(n_items):
        desc, lo, hi = rng.choice(pool)
        if desc not in prices:
            prices[desc] = rng.randint(lo // 5, hi // 5) * 5 if region == "MY" else rng.randint(lo, hi)
        unit = prices[desc]
        qty = rng.choices([1, 2, 3, 4, 5, 6, 10], weights=[60, 18, 8, 5, 4, 2, 1])[0]
        zr = ctx.tax_codes and zlib.crc32(desc.encode()) % 4 == 0  # a product's tax code is fixed
        code = ("ZR" if zr else "SR") if ctx.tax_codes else ""
        items.append(Item(desc, qty, unit, qty * unit, code))
    subtotal = sum(it.amount_minor for it in items)
    taxable = sum(it.amount_minor for it in items if it.tax_code != "ZR")

    service = pct(subtotal, 100) if kind == "restaurant" and region == "MY" and rng.random() < 0.4 else 0
    # Service charge is standard rated only when every item is (keeps the GST summary simple and exact).
    tax_base = taxable + (service if taxable == subtotal else 0)
    if rate == 0:
        tax = 0
    elif inclusive:
        tax = pct_inclusive(tax_base, rate)
    else:
        tax = pct(tax_base, rate)
    raw_total = subtotal + service + (0 if inclusive else tax)
    total = round_to_5_sen(raw_total) if region == "MY" and rng.random() < 0.8 else raw_total
    rounding = total - raw_total

    payment = "CARD" if rng.random() < (0.15 if region == "MY" else 0.4) else "CASH"
    if payment == "CASH":
        notes = [n for n in (100, 500, 1000, 2000, 5000, 10000) if n >= total]
        choices = [total, *notes[:3]] if notes else [total, ((total // 10000) + 1) * 10000]
        tendered = rng.choice(choices)
    else:
        tendered = total
    change = tendered - total

    # ---- header
    lines: list[Line] = []
    company = _company(rng, region, kind)
    addr = _address(rng, region)
    big = rng.random() < 0.45
    head_align = rng.random() < 0.85
    mk = center if head_align else left
    if rng.random() < 0.15:
        lines += [BLANK] * rng.randint(1, 3)
    regno = f"({rng.randint(100000, 1299999)}-{rng.choice('XUDPKAHTVW')})"
    regno_mode = rng.random() if region == "MY" else 1.0
    lines.append(mk(company, "big" if big else ("bold" if rng.random() < 0.3 else "normal")))
    if regno_mode < 0.35:
        lines.append(mk(rng.choice([regno, f"CO.REG : {regno[1:-1]}", f"Co. No. {regno[1:-1]}"])))
    lines += [mk(a) for a in addr]
    if rng.random() < 0.7:
        tel = (
            f"TEL: 0{rng.randint(3, 9)}-{rng.randint(2000000, 9999999)}"
            if region == "MY"
            else f"Tel: ({rng.randint(200, 989)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
            if region == "US"
            else f"Tel 0{rng.randint(1100, 1999)} {rng.randint(100000, 999999)}"
        )
        lines.append(mk(tel))
    if region == "MY" and tax_name == "GST" and rng.random() < 0.8:
        lines.append(
            mk(
                rng.choice(["GST ID", "GST REG NO", "GST ID. NO", "GST No."])
                + f" : 000{rng.randint(100000000, 999999999)}"
            )
        )
    elif region == "MY" and tax_name == "SST" and rng.random() < 0.6:
        lines.append(mk(f"SST ID : W10-{rng.randint(1000, 1999)}-{rng.randint(10000000, 39999999)}"))
    elif region == "UK" and rng.random() < 0.7:
        lines.append(
            mk(f"VAT Reg No. GB {rng.randint(100, 999)} {rng.randint(1000, 9999)} {rng.randint(10, 99)}")
        )
    if rng.random() < 0.3:
        lines.append(BLANK)

    title = rng.choice(
        [
            "TAX INVOICE",
            "INVOICE",
            "-INVOICE-",
            "RECEIPT",
            "CASH BILL",
            "OFFICIAL RECEIPT",
            "SIMPLIFIED TAX INVOICE",
        ]
        if region == "MY"
        else [
            "RECEIPT",
            "SALES RECEIPT",
            "Receipt",
            "CUSTOMER COPY",
            "VAT RECEIPT" if region == "UK" else "RECEIPT",
        ]
    )
    if rng.random() < 0.85:
        lines.append(center(title, "bold" if rng.random() < 0.4 else "normal"))

    inv = rng.choice(
        [
            f"CS-{rng.randint(10000, 99999)}",
            f"{rng.randint(10000, 19999)}/{rng.randint(100, 199)}/T{rng.randint(1000, 9999)}",
            f"OR{rng.randint(10**12, 10**13 - 1)}",
            f"{rng.randint(100000, 999999)}",
            f"INV{rng.randint(1000, 99999):06d}",
        ]
    )
    inv_label = rng.choice(
        ["INV NO:", "Invoice # :", "INVOICE NO :", "Receipt No:", "BILL NO:", "No:", "Trans #"]
    )
    date_label = rng.choice(
        {
            "MY": ["DATE:", "DATE :", "Date:", "Date", "Tarikh:", "", "DATE", "Trans Date:"],
            "US": ["Date:", "DATE", "", "Date"],
            "UK": ["Date:", "DATE", "", "Date"],
        }[region]
    )
    dl = f"{date_label} {date_printed}".strip()
    has_time = rng.random() < 0.85
    tl = rng.choice(["TIME: ", "Time: ", "", "TIME "])
    time_part = f"{tl}{time_printed}".strip() if has_time else ""
    date_layout = rng.choice(["split", "one", "inv", "three", "footer"])
    cashier = rng.choice(["CASHIER:", "Cashier :", "SERVER:", "Operator:", "Staff"]) + " " + rng.choice(NAMES)

    meta: list[Line] = []
    if date_layout == "split":
        meta.append(lr(f"{inv_label} {inv}", ""))
        meta.append(lr(dl, time_part) if time_part else left(dl))
    elif date_layout == "one":
        meta.append(left(f"{dl} {time_printed}" if has_time else dl))
        meta.append(left(f"{inv_label} {inv}"))
    elif date_layout == "inv":
        meta.append(lr(f"{inv_label} {inv}", f"{date_printed} {time_printed}" if has_time else date_printed))
    elif date_layout == "three":
        meta.append(
            Line(
                (
                    (time_printed if has_time else inv[:6], 0.0, "l"),
                    (inv[-6:], 0.5, "c"),
                    (date_printed, 1.0, "r"),
                )
            )
        )
    if rng.random() < 0.6:
        meta.append(left(cashier))
    if kind == "restaurant" and rng.random() < 0.6:
        meta.append(
            lr(
                rng.choice(["TABLE:", "Table No :", "TBL"]) + f" {rng.randint(1, 40)}",
                rng.choice(["PAX: ", "Guests: "]) + str(rng.randint(1, 6)),
            )
        )
    if rng.random() < 0.3:
        meta.append(left(rng.choice(["POS: ", "TERMINAL ", "Counter "]) + f"{rng.randint(1, 9):02d}"))
    lines += meta
    rule_ch = rng.choice(["-", "-", "=", "*", "."])
    lines.append(rule(rule_ch))

    # ---- items
    item_style = rng.choice(["two_line", "columns", "qty_first", "columns"])
    with_codes = ctx.tax_codes
    if item_style == "columns":
        lines.append(
            Line(
                (
                    ("ITEM" if region == "MY" else "Item", 0.0, "l"),
                    ("QTY", 0.58, "r"),
                    ("PRICE", 0.78, "r"),
                    ("AMOUNT" if not with_codes else "AMT", 0.92 if with_codes else 1.0, "r"),
                )
            )
        )
        lines.append(rule(rule_ch))
    barcode = kind in ("hardware", "grocery") and region == "MY" and rng.random() < 0.4
    at_style = rng.choice(["{q} X {u}", "{q} @ {u}", "@{q} X {p}{u}", "{q} x {u}"])
    amount_prefix = rng.random() < 0.15
    for it in items:
        amt = _amt(ctx, it.amount_minor, amount_prefix)
        unit = fmt_amount(it.unit_minor, ctx.commas)
        code_part = (it.tax_code, 1.0, "r")
        amt_x = 0.9 if with_codes else 1.0
        desc = it.desc
        if item_style == "two_line":
            lines.append(left(desc))
            if barcode:
                lines.append(left(f"{rng.randint(10**12, 10**13 - 1)}"))
            sub = at_style.format(q=it.qty, u=unit, p=ctx.prefix)
            parts: tuple[tuple[str, float, str], ...] = (("  " + sub, 0.0, "l"), (amt, amt_x, "r"))
            lines.append(Line(parts + ((code_part,) if with_codes else ())))
        elif item_style == "columns":
            head, rest = wrap_words(desc, 16)
            parts = (
                (head, 0.0, "l"),
                (str(it.qty), 0.58, "r"),
                (unit, 0.78, "r"),
                (amt, 0.92 if with_codes else 1.0, "r"),
            )
            lines.append(Line(parts + ((code_part,) if with_codes else ())))
            if rest:
                lines.append(left("  " + rest))
        else:
            parts = (
                (f"{it.qty} {desc}" if it.qty > 1 or rng.random() < 0.5 else desc, 0.0, "l"),
                (amt, amt_x, "r"),
            )
            lines.append(Line(parts + ((code_part,) if with_codes else ())))
            if it.qty > 1:
                lines.append(left(f"    {it.qty} @ {unit}"))
    lines.append(rule(rule_ch))
    if rng.random() < 0.4:
        lines.append(lr(f"Item(s) : {len(items)}", f"Qty(s) : {sum(i.qty for i in items)}"))

    # ---- totals
    tot_pref = rng.random() < 0.5

    def money_line(label: str, minor: int, style: str = "normal", pref: bool = tot_pref) -> Line:
        return lr(label, _amt(ctx, minor, pref), style)

    show_sub = service or (tax and not inclusive) or rounding or rng.random() < 0.5
    if show_sub:
        lines.append(
            money_line(
                rng.choice(
                    [
                        "SUBTOTAL",
                        "Sub Total",
                        "SUB-TOTAL",
                        "Total Sales (Excluding GST)" if tax_name == "GST" and not inclusive else "SUBTOTAL",
                    ]
                ),
                subtotal,
            )
        )
    if service:
        lines.append(money_line("SERVICE CHARGE 10%", service))
    if tax_name and not inclusive:
        lines.append(
            money_line(f"{tax_name} {rate // 10}%" if rate % 10 == 0 else f"{tax_name} {rate / 10:.3g}%", tax)
        )
    if region == "MY":
        final_labels = [
            "TOTAL",
            "GRAND TOTAL",
            "TOTAL AMOUNT",
            "NETT TOTAL",
            "AMOUNT DUE",
            "TOTAL (RM)",
            "Total Amount Payable",
        ] + (["Total Sales (Inclusive GST)", "Total Incl. GST"] if tax_name == "GST" else [])
    elif region == "US":
        final_labels = ["TOTAL", "BALANCE DUE", "Amount Due", "TOTAL DUE", "Total"]
    else:
        final_labels = ["TOTAL", "BALANCE DUE", "TOTAL TO PAY", "Total"]
    final_label = rng.choice(final_labels)
    if rounding:
        pre_label = rng.choice(["TOTAL", "Total Sales", "SUB TOTAL (INCL)", "TOTAL BEFORE ROUNDING"])
        if final_label == "TOTAL":
            final_label = "TOTAL ROUNDED"
        lines.append(money_line(pre_label, raw_total))
        lines.append(
            money_line(rng.choice(["ROUNDING ADJ", "ROUNDING ADJUSTMENT", "Rounding", "ROUNDING"]), rounding)
        )
    total_style = rng.choice(["bold", "normal", "big"]) if rng.random() < 0.6 else "normal"
    total_line = len(lines)
    total_text = _amt(ctx, total, tot_pref or rng.random() < 0.3)
    lines.append(lr(final_label, total_text, total_style))
    if tax_name and inclusive and rng.random() < 0.8:
        lbl = f"{tax_name} @{rate // 10}% incl." if rng.random() < 0.5 else f"Incl. {tax_name} {rate // 10}%"
        lines.append(money_line(lbl, tax))
    if payment == "CASH":
        malay = ["TUNAI"] if region == "MY" else []
        lines.append(money_line(rng.choice(["CASH", "TENDERED", "Cash", "CASH TENDERED", *malay]), tendered))
        malay = ["BAKI"] if region == "MY" else []
        lines.append(money_line(rng.choice(["CHANGE", "Change", "CHANGE DUE", *malay]), change))
    else:
        card = rng.choice(["VISA", "MASTERCARD", "DEBIT CARD", "AMEX"])
        lines.append(money_line(f"{card} ****{rng.randint(1000, 9999)}", tendered))
        if rng.random() < 0.5:
            lines.append(left(f"AUTH CODE: {rng.randint(100000, 999999)}"))

    if tax_name == "GST" and rng.random() < 0.45:
        lines.append(rule(rule_ch))
        lines.append(Line((("GST Summary", 0.0, "l"), ("Amount(RM)", 0.7, "r"), ("Tax(RM)", 1.0, "r"))))
        zr_amt = subtotal + service - tax_base
        taxable_net = tax_base - tax if inclusive else tax_base
        lines.append(
            Line(
                (
                    (f"SR @ {rate // 10}%", 0.0, "l"),
                    (fmt_amount(taxable_net), 0.7, "r"),
                    (fmt_amount(tax), 1.0, "r"),
                )
            )
        )
        if zr_amt:
            lines.append(Line((("ZR @ 0%", 0.0, "l"), (fmt_amount(zr_amt), 0.7, "r"), ("0.00", 1.0, "r"))))

    if date_layout == "footer":
        lines.append(rule(rule_ch))
        tail = f"{time_printed} " if has_time else ""
        lines.append(lr(f"{date_printed} {tail}".strip(), f"{inv}"))
        if rng.random() < 0.5:
            lines.append(left(cashier))

    # ---- footer
    lines.append(BLANK)
    thanks = rng.choice(
        [
            "THANK YOU",
            "THANK YOU. PLEASE COME AGAIN",
            "Thank You & Come Again!",
            "TERIMA KASIH",
            "Thank you for shopping with us!",
            "*** THANK YOU ***",
        ]
        if region == "MY"
        else ["THANK YOU", "Thank you for your visit!", "Have a nice day!", "*** THANK YOU ***"]
    )
    lines.append(center(thanks))
    if rng.random() < 0.6:
        policy = rng.choice(
            [
                ["EXCHANGE ARE ALLOWED WITHIN", "7 DAYS WITH RECEIPT.", "STRICTLY NO CASH REFUND."],
                ["Goods sold are not returnable."],
                ["Keep the invoice for applicable returns"],
                ["Returns accepted within 30 days", "with original receipt."],
                ["PRICE INCLUSIVE OF GST"] if tax_name == "GST" and inclusive else ["NO REFUND"],
            ]
        )
        lines += [center(p) for p in policy]
    if rng.random() < 0.25:
        until = d + timedelta(days=rng.randint(7, 60))
        promo_date = format_date(until, pick(rng, DATE_STYLES[region]))
        lines.append(center(rng.choice(["Valid till", "Promo valid until", "Offer ends"]) + f" {promo_date}"))
    if rng.random() < 0.2:
        lines.append(
            center(
                rng.choice(
                    ["Like and Follow Us on Facebook!", "www.example-shop.com", "Wi-Fi: guest / 12345678"]
                )
            )
        )
    if rng.random() < 0.3:
        lines += [BLANK] * rng.randint(1, 3)

    total_key = total_text.replace(" ", "").replace("£", "")
    return Receipt(
        lines=tuple(lines),
        company=company,
        date_printed=date_printed,
        date_iso=d.isoformat(),
        date_style=date_style,
        address=" ".join(addr),
        total_printed=total_key,
        total_line=total_line,
        region=region,
        currency=currency,
        items=tuple(items),
        subtotal_minor=subtotal,
        service_minor=service,
        tax_minor=tax,
        tax_inclusive=inclusive,
        rounding_minor=rounding,
        total_minor=total,
        tendered_minor=tendered,
        change_minor=change,
        payment=payment,
    )


# ----------------------------------------------------------------------------- rendering


@dataclass
class Look:
    """The randomly drawn appearance of one photo (recorded in the manifest)."""

    font: str
    body_px: int
    paper_w: int
    ink: int
    ink_fade: int
    dot_matrix: bool
    background: str
    rotate: float
    skew: bool
    blur: float
    light: float
    noise: int
    quality: int
    torn: bool


def draw_look(rng: random.Random) -> Look:
    font = rng.choices(["mono", "sans", "cond", "serif", "mono-bold"], weights=[40, 20, 20, 10, 10])[0]
    thermal = rng.random() < 0.35
    # Effects are bounded jointly: a dot-matrix print is never also faint, tiny or strongly blurred.
    dot_matrix = font.startswith("mono") and rng.random() < 0.2
    look = Look(
        font=font,
        body_px=rng.randint(15, 24),
        paper_w=rng.randint(300, 500),
        ink=rng.randint(80, 120) if thermal else rng.randint(0, 60),
        ink_fade=rng.randint(0, 30) if thermal else rng.randint(0, 15),
        dot_matrix=dot_matrix,
        background=rng.choices(["scan", "table", "dark"], weights=[45, 40, 15])[0],
        rotate=round(rng.uniform(-3.0, 3.0), 2) if rng.random() < 0.75 else 0.0,
        skew=rng.random() < 0.3,
        blur=round(rng.uniform(0.0, 1.2), 2) if rng.random() < 0.7 else 0.0,
        light=round(rng.uniform(0.0, 0.3), 2) if rng.random() < 0.6 else 0.0,
        noise=rng.randint(0, 22) if rng.random() < 0.6 else 0,
        quality=rng.randint(40, 90),
        torn=rng.random() < 0.3,
    )
    if dot_matrix:
        look.ink, look.ink_fade = min(look.ink, 40), min(look.ink_fade, 10)
        look.body_px, look.blur = max(look.body_px, 19), min(look.blur, 0.5)
        look.paper_w = max(look.paper_w, 420)
    if look.ink > 60:  # faint thermal print: keep the other contrast losses mild
        look.blur, look.light = min(look.blur, 0.6), min(look.light, 0.15)
    return look


_FONT_CACHE: dict[tuple[str, int], Any] = {}
FONTS_USED: Counter[str] = Counter()


def load_font(role: str, size: int) -> Any:
    from PIL import ImageFont

    key = (role, size)
    if key not in _FONT_CACHE:
        path = FONT_DIR / FONT_FILES[role]
        if path.exists():
            _FONT_CACHE[key] = ImageFont.truetype(str(path), size)
        else:
            _FONT_CACHE[key] = ImageFont.load_default(size=size)
    return _FONT_CACHE[key]


def font_label(role: str) -> str:
    path = FONT_DIR / FONT_FILES[role]
    return path.name if path.exists() else f"load_default ({role} wanted)"


def _bold(role: str) -> str:
    return role if role.endswith("-bold") else f"{role}-bold"


def _line_width(line: Line, font: Any, gap: float) -> float:
    if line.style in ("rule", "blank"):
        return 0.0
    return sum(font.getlength(p[0]) for p in line.parts) + gap * (len(line.parts) - 1)


def render_paper(receipt: Receipt, look: Look, rng: random.Random) -> Any:
    """Draw the receipt on a till-roll strip: returns an 'L' image of the paper (ink on paper)."""
    from PIL import Image, ImageDraw

    margin = max(10, look.paper_w // 18)
    text_w = look.paper_w - 2 * margin
    # Shrink the body font until the widest multi-part line fits the roll (real tills choose chars/line).
    size = look.body_px
    while size > 12:
        f = load_font(look.font, size)
        gap = f.getlength("  ")
        # Only column lines set the size; a long single line is shrunk on its own below.
        need = max(
            (
                _line_width(ln, load_font(_bold(look.font), size) if ln.style == "bold" else f, gap)
                for ln in receipt.lines
                if ln.style != "big" and len(ln.parts) > 1
            ),
            default=0.0,
        )
        if need <= text_w:
            break
        size -= 1
    body = load_font(look.font, size)
    FONTS_USED[font_label(look.font)] += 1
    if any(ln.style in ("bold", "big") for ln in receipt.lines):
        FONTS_USED[font_label(_bold(look.font))] += 1
    line_h = int(size * rng.uniform(1.2, 1.5))
    heights = []
    for ln in receipt.lines:
        if ln.style == "big":
            heights.append(int(line_h * 1.5))
        elif ln.style == "blank":
            heights.append(line_h // 2 + 2)
        else:
            heights.append(line_h)
    top = rng.randint(margin, margin * 3)
    height = top + sum(heights) + rng.randint(margin, margin * 4)
    mask = Image.new("L", (look.paper_w, height), 0)
    dr = ImageDraw.Draw(mask)
    y = top
    gap = body.getlength("  ")
    for ln, h in zip(receipt.lines, heights, strict=True):
        font = body
        if ln.style in ("bold", "big"):
            font = load_font(_bold(look.font), size)
        if ln.style == "big":
            big = int(size * 1.45)
            while big > size and _line_width(ln, load_font(_bold(look.font), big), gap) > text_w:
                big -= 1
            font = load_font(_bold(look.font), big)
        elif _line_width(ln, font, gap) > text_w:
            # A line longer than the roll is printed smaller, as tills do with long names.
            role = _bold(look.font) if ln.style == "bold" else look.font
            small = size
            while small > 10 and _line_width(ln, load_font(role, small), gap) > text_w:
                small -= 1
            font = load_font(role, small)
        if ln.style == "rule":
            ch = ln.parts[0][0]
            n = int(text_w / max(1.0, body.getlength(ch)))
            dr.text((margin, y), ch * n, fill=255, font=body)
            y += h
            continue
        prev_end = -1e9
        placed = []
        for text, x, anchor in ln.parts:
            w = font.getlength(text)
            if anchor == "l":
                x0 = margin + x * text_w
            elif anchor == "r":
                x0 = margin + x * text_w - w
            else:
                x0 = margin + x * text_w - w / 2
            placed.append([x0, w, text])
        # Keep parts from overlapping when a proportional font makes a column wider than planned.
        for i, p in enumerate(placed):
            if text and p[0] < prev_end + gap * 0.5 and i > 0:
                p[0] = prev_end + gap * 0.5
            prev_end = p[0] + p[1]
        overflow = prev_end - (margin + text_w)
        if overflow > 0:
            for p in placed:
                p[0] -= overflow
        for x0, _w, text in placed:
            if text:
                dr.text((max(2, x0), y + (h - line_h) // 2), text, fill=255, font=font)
        y += h

    if look.dot_matrix:
        # A dot grid knocks holes in the strokes, then a tiny blur makes the dots round like a pin head.
        from PIL import ImageChops, ImageFilter

        w, h = mask.size
        on = (b"\xff\xff\x00" * (w // 3 + 1))[:w]
        tile = Image.frombytes("L", (w, h), ((on + on + bytes(w)) * (h // 3 + 1))[: w * h])
        mask = ImageChops.multiply(mask, tile).filter(ImageFilter.GaussianBlur(0.6))
        mask = mask.point(lambda v: min(255, v * 2))

    paper_tone = rng.randint(236, 255)
    paper = Image.new("L", mask.size, paper_tone)
    # Thermal ink fades unevenly along the roll: the ink level is a vertical ramp.
    ramp = Image.linear_gradient("L").resize(mask.size)
    if rng.random() < 0.5:
        ramp = ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    ink = ramp.point(lambda v: min(200, look.ink + v * look.ink_fade // 255))
    return Image.composite(ink, paper, mask)


def _noise(rng: random.Random, size: tuple[int, int], amp: int) -> Any:
    from PIL import Image

    raw = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    return raw.point(lambda v: v * 2 * amp // 255)


def photograph(paper: Any, look: Look, rng: random.Random) -> Any:
    """Put the paper on a background and apply the camera/scanner effects; returns an RGB image."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    pw, ph = paper.size
    alpha = Image.new("L", paper.size, 255)
    if look.torn:
        d = ImageDraw.Draw(alpha)
        step = rng.randint(6, 12)
        for edge_y, sign in ((0, 1), (ph - 1, -1)):
            pts = [(0, edge_y)]
            for x in range(0, pw + step, step):
                pts.append((x, edge_y + sign * rng.randint(0, 6)))
            pts.append((pw, edge_y))
            d.polygon(pts, fill=0)
    if look.background == "scan":
        mx, my = rng.randint(20, 300), rng.randint(20, 250)
        bg_rgb = (rng.randint(246, 255),) * 3
    elif look.background == "table":
        mx, my = rng.randint(30, 160), rng.randint(30, 120)
        base = rng.choice([(150, 150, 150), (120, 100, 80), (170, 150, 120), (95, 95, 100)])
        bg_rgb = tuple(max(0, min(255, c + rng.randint(-15, 15))) for c in base)
    else:
        mx, my = rng.randint(20, 90), rng.randint(20, 90)
        bg_rgb = (rng.randint(30, 60),) * 3
    w, h = pw + 2 * mx, ph + 2 * my
    bg = Image.new("RGB", (w, h), bg_rgb)  # type: ignore[arg-type]
    if look.background == "scan":
        d = ImageDraw.Draw(bg)
        for _ in range(rng.randint(5, 60)):
            x, y = rng.randrange(w), rng.randrange(h)
            g = rng.randint(80, 200)
            d.point((x, y), fill=(g, g, g))

    tint = rng.choice([(255, 255, 255), (255, 252, 240), (248, 250, 255), (255, 248, 235)])
    paper_rgb = Image.merge("RGB", [paper.point(lambda v, t=t: v * t // 255) for t in tint])
    if look.skew:
        j = max(2, pw // 40)
        # Source corners outside the paper: the print shrinks into a trapezoid and nothing is cut off.
        quad = (
            -rng.randint(0, j),
            -rng.randint(0, j),
            -rng.randint(0, j),
            ph + rng.randint(0, j),
            pw + rng.randint(0, j),
            ph + rng.randint(0, j),
            pw + rng.randint(0, j),
            -rng.randint(0, j),
        )
        paper_rgb = paper_rgb.transform(paper.size, Image.Transform.QUAD, quad, Image.Resampling.BICUBIC)
        alpha = alpha.transform(paper.size, Image.Transform.QUAD, quad, Image.Resampling.BILINEAR)
    if look.rotate:
        paper_rgb = paper_rgb.rotate(look.rotate, Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))
        alpha = alpha.rotate(look.rotate, Image.Resampling.BILINEAR, expand=True, fillcolor=0)
    ox = (w - paper_rgb.width) // 2 + rng.randint(-mx // 3, mx // 3)
    oy = (h - paper_rgb.height) // 2 + rng.randint(-my // 3, my // 3)
    if look.background != "scan":
        # A soft shadow under the paper, as on a table photo.
        shadow = Image.new("L", (w, h), 0)
        shadow.paste(alpha, (ox + 4, oy + 5))
        shadow = shadow.filter(ImageFilter.GaussianBlur(6)).point(lambda v: v * 2 // 5)
        bg = Image.composite(Image.new("RGB", (w, h), (0, 0, 0)), bg, shadow)
    bg.paste(paper_rgb, (ox, oy), alpha)
    img = bg

    if look.light:
        # Four random corner brightnesses, bilinearly spread: a smooth, edge-free lighting falloff.
        lo = int(255 * (1 - look.light))
        corners = Image.new("L", (2, 2))
        corners.putdata([rng.randint(lo, 255) for _ in range(3)] + [lo])
        if rng.random() < 0.5:
            corners = corners.transpose(Image.Transpose.ROTATE_180)
        light = corners.resize((w, h), Image.Resampling.BILINEAR)
        img = ImageChops.multiply(img, Image.merge("RGB", [light] * 3))
    if look.noise:
        n = _noise(rng, (w, h), look.noise)
        img = ImageChops.add(img, Image.merge("RGB", [n] * 3), 1.0, -look.noise)
        speck = ImageDraw.Draw(img)
        for _ in range(rng.randint(0, 40)):
            x, y = rng.randrange(w), rng.randrange(h)
            g = rng.randint(40, 160)
            speck.point((x, y), fill=(g, g, g))
    if look.blur:
        img = img.filter(ImageFilter.GaussianBlur(look.blur))

    # Fit the photo into the size bounds without shrinking text below what a person can read.
    scale = rng.uniform(0.9, 1.6) if h < 1500 else rng.uniform(0.8, 1.1)
    scale = min(scale, MAX_HEIGHT / h)
    scale = max(scale, MIN_HEIGHT / h, MIN_WIDTH / w)
    if abs(scale - 1.0) > 0.02:
        img = img.resize((round(w * scale), round(h * scale)), Image.Resampling.LANCZOS)
    return img


def make_one(rng: random.Random) -> tuple[Receipt, Look, Any]:
    receipt = build_receipt(rng)
    look = draw_look(rng)
    paper = render_paper(receipt, look, rng)
    return receipt, look, photograph(paper, look, rng)


def jpeg_bytes(img: Any, quality: int) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=False, progressive=False, subsampling=2)
    return buf.getvalue()


def generate(out_dir: Path, count: int = 40, seed: int = 1) -> list[dict[str, Any]]:
    """Write count receipts under out_dir (img/, key/, manifest.jsonl); returns the manifest rows."""
    (out_dir / "img").mkdir(parents=True, exist_ok=True)
    (out_dir / "key").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(count):
        # One independent stream per receipt: receipt i is the same whatever --count is.
        rng = random.Random(f"receipts-{seed}-{i}")
        receipt, look, img = make_one(rng)
        stem = f"{i:03d}"
        (out_dir / "img" / f"{stem}.jpg").write_bytes(jpeg_bytes(img, look.quality))
        (out_dir / "key" / f"{stem}.json").write_text(json.dumps(receipt.key(), indent=4) + "\n")
        rows.append(
            {
                "id": stem,
                "date_iso": receipt.date_iso,
                "date_style": receipt.date_style,
                "region": receipt.region,
                "currency": receipt.currency,
                "total_minor": receipt.total_minor,
                "n_items": len(receipt.items),
                "font": font_label(look.font),
                "size": list(img.size),
                "look": asdict(look),
            }
        )
    with (out_dir / "manifest.jsonl").open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if args.count < 0:
        ap.error("--count must be >= 0")
    FONTS_USED.clear()
    rows = generate(args.out_dir, args.count, args.seed)
    print(f"font dir: {FONT_DIR} ({'present' if FONT_DIR.exists() else 'absent: using PIL load_default'})")
    print("fonts used: " + ", ".join(f"{name} x{n}" for name, n in sorted(FONTS_USED.items()) if n))
    regions = Counter(r["region"] for r in rows)
    heights = [r["size"][1] for r in rows]
    print(f"regions: {dict(sorted(regions.items()))}")
    if rows:
        print(f"image heights: min {min(heights)} max {max(heights)}")
    print(f"wrote {len(rows)} receipts to {args.out_dir} (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
