"""Cell-level parsing for bank-statement CSVs: dates, amounts, direction words, currencies.
Pure: standard library and decimal only; values in, values out.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

DATE_ORDERS = ("DMY", "MDY", "YMD")


def fold(text: str) -> str:
    """Casefold and strip accents, so 'Débit', 'DEBIT' and 'debit' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=1 << 12)
def norm_name(text: str) -> str:
    """A header reduced to lowercase words: 'Auftraggeber/Empfänger' -> 'auftraggeber empfanger'."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(text).replace("ß", "ss")).split())


# ---------------------------------------------------------------- dates

_MONTHS: dict[str, int] = {}
for _num, _names in enumerate(
    [
        "jan january januar janvier janv enero ene januari",
        "feb february februar fevrier fevr fev febrero februari",
        "mar march marz maerz mars marzo maart mrt",
        "apr april avril avr abril",
        "may mai mayo mei",
        "jun june juni juin junio",
        "jul july juli juillet juil julio",
        "aug august aout agosto ago augustus",
        "sep sept september septembre septiembre setiembre set",
        "oct october oktober okt octobre octubre",
        "nov november novembre noviembre",
        "dec december dezember dez decembre diciembre dic",
    ],
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _num

# Words that may sit next to a written date without changing it ("5 de enero de 2023", "Mon, 3 Jan").
_DATE_FILLERS = {
    "de",
    "del",
    "of",
    "the",
    "le",
    "den",
    "der",
    "st",
    "nd",
    "rd",
    "th",
    "er",
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mo",
    "di",
    "mi",
    "do",
    "fr",
    "sa",
    "so",
}

_TIME_TAIL = re.compile(
    r"(?:[T ]|,\s*|\s+)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[ap]\.?m\.?)?\s*"
    r"(?:z|utc|gmt|[+-]\d{2}:?\d{2}|[a-z]{3,4})?$",
    re.IGNORECASE,
)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\.?|(\d{4}):(\d{2}):(\d{2})")
_NUMERIC = re.compile(r"(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})\.?")


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:
        # A pivot keeps 2-digit years near today without reading the clock (domain code is pure).
        y += 2000 if y < 70 else 1900
    return y


def _make(y: int, m: int, d: int) -> datetime.date | None:
    if not 1900 <= y <= 2200:
        return None
    try:
        return datetime.date(y, m, d)
    except ValueError:
        return None


class DateShape:
    """What one raw date value allows: a fixed date, or a numeric a/b/y whose order the column decides."""

    __slots__ = ("a", "b", "fixed", "sep", "y")

    def __init__(
        self, fixed: datetime.date | None = None, a: int = 0, b: int = 0, y: int = 0, sep: str = ""
    ) -> None:
        self.fixed, self.a, self.b, self.y, self.sep = fixed, a, b, y, sep

    def resolve(self, order: str) -> datetime.date | None:
        if self.fixed is not None:
            return self.fixed
        if order == "MDY":
            return _make(self.y, self.a, self.b)
        return _make(self.y, self.b, self.a)  # DMY (and YMD columns meeting a d/m/y value)

    def fits(self, order: str) -> bool:
        return self.resolve(order) is not None


@functools.lru_cache(maxsize=1 << 16)  # dates repeat on every row of a day: parse each once
def date_shape(raw: str) -> DateShape | None:
    """Classify a raw date cell; None when it is not a date at all ('pending', '', 'abc')."""
    s = raw.strip().strip('"').strip()
    if not s or len(s) > 60:
        return None
    s = _TIME_TAIL.sub("", s).strip()
    if m := _COMPACT.fullmatch(s):
        d = _make(int(m[1]), int(m[2]), int(m[3]))
        return DateShape(fixed=d) if d else None
    if m := _ISO.fullmatch(s):  # "2012-03-01", "2012/3/1", "2012:03:01" (a 4-digit year is no time)
        y, mo, dd = (m[1], m[2], m[3]) if m[1] else (m[4], m[5], m[6])
        d = _make(int(y), int(mo), int(dd))
        return DateShape(fixed=d) if d else None
    if m := _NUMERIC.fullmatch(s):
        shape = DateShape(a=int(m[1]), b=int(m[3]), y=_year(m[4]), sep=m[2])
        return shape if (shape.fits("DMY") or shape.fits("MDY")) else None
    return _written_date(s)


def _written_date(s: str) -> DateShape | None:
    tokens = re.findall(r"[^\W\d_]+|\d+", fold(s))
    month = None
    month_first = False
    numbers: list[str] = []
    for tok in tokens:
        if tok.isdigit():
            numbers.append(tok)
        elif tok in _MONTHS and month is None:
            month = _MONTHS[tok]
            month_first = not numbers
        elif tok not in _DATE_FILLERS:
            return None
    if month is None or len(numbers) != 2:
        return None
    if len(numbers[0]) == 4:
        year, day = numbers
    elif len(numbers[1]) in (2, 4):
        day, year = numbers
    else:
        return None
    if len(day) > 2 or len(year) == 3:
        return None
    del month_first  # "Dec 25, 2018" and "25 Dec 2018" both give day then year
    d = _make(_year(year), month, int(day))
    return DateShape(fixed=d) if d else None


# ---------------------------------------------------------------- amounts

CURRENCY_SYMBOLS = {
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "R$": "BRL",
    "C$": "CAD",
    "A$": "AUD",
    "CA$": "CAD",
    "AU$": "AUD",
    "zł": "PLN",
    "kr": "SEK",
    "Fr.": "CHF",
    "fr.": "CHF",
    "₺": "TRY",
    "₽": "RUB",
    "RM": "MYR",
}
_SYMBOL_RE = "|".join(re.escape(s) for s in sorted(CURRENCY_SYMBOLS, key=len, reverse=True))
# A bare 3-letter code counts only when spaced off ("EUR 12,00") or well known ("EUR12"), so a header
# such as "VWZ1" is not read as VWZ 1.
COMMON_CODES = "USD|EUR|GBP|CHF|JPY|CAD|AUD|NZD|SEK|NOK|DKK|PLN|CZK|HUF|MXN|BRL|INR|CNY|HKD|SGD|ZAR"
_LEAD = re.compile(rf"^(?:([A-Z]{{3}})\s+|({COMMON_CODES})|({_SYMBOL_RE})\s*)")
_TRAIL = re.compile(rf"(?:\s+([A-Z]{{3}})|({COMMON_CODES})|\s*({_SYMBOL_RE}))$")
_BODY = re.compile(r"(?:[0-9]|[.,][0-9])[0-9.,' \u00a0\u202f\u2009\u2019]*")
# Ten or more bare digits (no sign, separator or currency) are an identifier (account numbers, card numbers,
# references: 12345678901, 1111222233334444), never money: a billion without a separator is no statement line.
ID_DIGITS = 10
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009'\u2019")
_MINUSES = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-"})


class AmountShape:
    """A raw amount split into sign, digits-with-separators and an optional currency."""

    __slots__ = ("body", "currency", "negative")

    def __init__(self, negative: bool, body: str, currency: str | None) -> None:
        self.negative, self.body, self.currency = negative, body, currency

    def decimal_vote(self) -> str | None:
        """The decimal separator this value proves ('.' or ','), or None when it says nothing."""
        body = self.body
        dot, comma = body.rfind("."), body.rfind(",")
        if dot >= 0 and comma >= 0:
            return "." if dot > comma else ","
        if dot < 0 and comma < 0:
            return None
        sep = "." if dot >= 0 else ","
        if body.count(sep) > 1:
            return "," if sep == "." else "."
        idx = body.index(sep)
        if len(body) - idx - 1 != 3 or body[:idx] in ("", "0"):
            return sep
        return None  # "1,234": a thousands group or three decimals; the column decides

    def value(self, decimal_sep: str) -> Decimal | None:
        group = "," if decimal_sep == "." else "."
        body = self.body
        if body.count(decimal_sep) > 1:
            return None
        int_part, _, frac = body.partition(decimal_sep)
        if group in frac:
            return None
        if group in int_part:
            groups = int_part.split(group)
            if not (1 <= len(groups[0]) <= 3) or any(len(g) != 3 for g in groups[1:]):
                return None
            int_part = "".join(groups)
        if not int_part and not frac:
            return None
        if not re.fullmatch(r"[0-9]*", int_part) or not re.fullmatch(r"[0-9]*", frac):
            return None
        try:
            d = Decimal(f"{int_part or '0'}.{frac or '0'}")
        except InvalidOperation:  # pragma: no cover - the regexes above make this unreachable
            return None
        return -d if self.negative else d


@functools.lru_cache(maxsize=1 << 16)  # shapes are immutable; common amounts repeat
def amount_shape(raw: str) -> AmountShape | None:
    """Split '-$1,036.47', '(12.34)', '12.34-', 'EUR 12,00', '1 234,56 €', '12.00 CR' into parts."""
    s = raw.translate(_MINUSES).strip()
    if not s or len(s) > 40:
        return None
    negative = False
    currency: str | None = None
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    upper_tail = s[-3:].upper()
    if upper_tail in (" CR", " DR") or (len(s) > 2 and s[-2:].upper() in ("CR", "DR") and s[-3].isdigit()):
        negative = negative or s[-2:].upper() == "DR"
        s = s[:-2].strip()
    for _ in range(2):  # sign and currency come in either order: "-$5", "$-5", "EUR -5"
        if s[:1] in "+-" and s[:1]:
            negative = negative or s[0] == "-"
            s = s[1:].strip()
        if m := _LEAD.match(s):
            currency = currency or m[1] or m[2] or CURRENCY_SYMBOLS[m[3]]
            s = s[m.end() :]
    for _ in range(2):
        if s[-1:] in ("+", "-") and s[-1:]:
            negative = negative or s[-1] == "-"
            s = s[:-1].strip()
        if m := _TRAIL.search(s):
            currency = currency or m[1] or m[2] or CURRENCY_SYMBOLS[m[3]]
            s = s[: m.start()]
    s = s.strip()
    if not _BODY.fullmatch(s):
        return None
    body = s.translate(_SPACES)
    if not body or body[-1] in ".,":
        return None
    if len(body) >= ID_DIGITS and body.isdigit() and not negative and currency is None:
        return None  # an account, card or reference number, not money
    return AmountShape(negative, body, currency)


def parse_amount(raw: str, decimal_sep: str) -> Decimal | None:
    shape = amount_shape(raw)
    return shape.value(decimal_sep) if shape else None


# ---------------------------------------------------------------- direction and currency words

DEBIT_WORDS = {
    "debit",
    "d",
    "dr",
    "db",
    "deb",
    "af",
    "s",
    "soll",
    "withdrawal",
    "out",
    "debe",
    "cargo",
    "minus",
    "-",
    "uitgaand",
    "lastschrift",
    "belastung",
}
CREDIT_WORDS = {
    "credit",
    "c",
    "cr",
    "cred",
    "bij",
    "k",  # kredit / kreditas (D/K in Baltic, Slavic and Nordic exports)
    "h",
    "haben",
    "deposit",
    "in",
    "haber",
    "abono",
    "plus",
    "+",
    "inkomend",
    "gutschrift",
}


def direction_of(raw: str) -> int | None:
    """-1 for a debit word (money out), +1 for a credit word, None for anything else."""
    word = fold(raw).strip().rstrip(".")
    if word in DEBIT_WORDS:
        return -1
    if word in CREDIT_WORDS:
        return 1
    return None


def currency_code(raw: str) -> str | None:
    s = raw.strip()
    if re.fullmatch(r"[A-Za-z]{3}", s):
        return s.upper()
    return CURRENCY_SYMBOLS.get(s)
