"""Receipt dates: every date pattern match on a line is a Candidate with features (labelled, four-digit
year, month name, repaired year, ...) weighed by receipt_candidates.WEIGHTS; several readings of a
date line are combined by one vote per part (year, month, day). Pure: stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from finjobs.domain.receipt_candidates import Candidate, best, vote
from finjobs.domain.receipt_lines import _DATE_KW, _OTHER_DATE, fix_digits

_MONTHS = {
    m: i + 1
    for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())  # noqa: SIM905
}
_MON = r"(?P<mon>JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*\.?"
_SEP = r"\s?[/.-]\s?"
# A two-digit year with letters glued on is a four-digit one garbled or cut off at the photo's edge
# ("20/03/20ii" for 20/03/2018): no year at all rather than 2020.
_YEAR = r"(?P<y>\d{4}|\d{2}(?![A-Za-z%]))(?!\d)"
_DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "ymd",
        re.compile(
            r"(?<!\d)(?P<y>(?:19|20)\d{2})" + _SEP + r"(?P<m>\d{1,2})" + _SEP + r"(?P<d>\d{1,2})(?!\d)"
        ),
    ),
    ("dmy", re.compile(r"(?<!\d)(?P<a>\d{1,2})" + _SEP + r"(?P<b>\d{1,2})" + _SEP + _YEAR)),
    ("dmony", re.compile(r"(?<!\d)(?P<d>\d{1,2})\s?[-/. ]?\s?" + _MON + r"\s?[-/., ]?\s?" + _YEAR, re.I)),
    ("mondy", re.compile(_MON + r"\s?(?P<d>\d{1,2})[,.]?\s(?P<y>\d{4})(?!\d)", re.I)),  # "." a misread ","
    ("ymd8", re.compile(r"(?<!\d)(?P<y>20\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?!\d)")),
    # A separator OCR lost: "1202/2018", "12/022018", "12022018" (two-digit day and month only).
    ("dmyg", re.compile(r"(?<![\d/.-])(?P<a>[0-3]\d)(?P<b>[01]\d)[/.-](?P<y>20\d{2})(?!\d)")),
    ("dmyg", re.compile(r"(?<!\d)(?P<a>[0-3]\d)[/.-](?P<b>[01]\d)(?P<y>20\d{2})(?![\d/.-])")),
    ("dmyg", re.compile(r"(?<![\d/.-])(?P<a>[0-3]\d)(?P<b>[01]\d)(?P<y>20[0-3]\d)(?![\d/.-])")),
    # A faint first separator read as a space: dot-matrix "05 02-18" (two-digit day and month only;
    # not before ":", so "12/03 18:20" is no year; a "." only before four digits, so the quantity and
    # price "10 15.26" are no date).
    (
        "dmyg",
        re.compile(
            r"(?<![\d/.-])(?P<a>[0-3]\d) (?P<b>[01]\d)(?:[/-]|\.(?=\d{4}))(?P<y>\d{4}|\d{2})(?![\d:])"
        ),
    ),
]


_TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)")


def _year(y: str) -> int:
    n = int(y)
    return 2000 + n if len(y) == 2 else n


def _mk(y: int, m: int, d: int) -> date | None:
    if not 1990 <= y <= 2099:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def day_first_for(locale_hint: str | None, currency: str) -> bool:
    """Day-first unless the locale is a month-first one (US and a few neighbours)."""
    hint = (locale_hint or "").upper().replace("-", "_")
    if hint in ("US", "EN_US", "PH", "EN_PH", "FM", "CA") or hint.endswith("_US"):
        return False
    return not (not hint and currency == "USD")


def _overlapping(rx: re.Pattern[str], line: str) -> list[re.Match[str]]:
    # "#19- 18/01/2018" must still yield 18/01/2018 after the false start at "19-18/01".
    out, pos = [], 0
    while (m := rx.search(line, pos)) is not None:
        out.append(m)
        pos = m.start() + 1
    return out


def parse_date(
    text: str, *, day_first: bool = True, latest_year: int | None = None
) -> tuple[date | None, float]:
    """The most plausible printed date, with a confidence (a line labelled DATE scores highest)."""
    found = find_date(text, day_first=day_first, latest_year=latest_year)
    return (None, 0.0) if found is None else (found[2], min(1.0, found[0] / 7.0))


def repair_year(year: int, latest_year: int) -> int | None:
    """A printed year after `latest_year` is an OCR slip of one digit ("2078", "2048", "7018" for 2018:
    a thin 1 read as 7 or 4, a 2 as 7). Returns the latest plausible year (1990..latest_year) one digit
    away, or None when there is none."""
    if year <= latest_year:
        return year
    text = f"{year:04d}"
    candidates = {int(text[:i] + digit + text[i + 1 :]) for i in range(len(text)) for digit in "0123456789"}
    plausible = [y for y in candidates if 1990 <= y <= latest_year]
    return max(plausible) if plausible else None


# A round digit read for the 0 of a day's tens ("92/02/2018" for 02/02/2018).
_ZERO_LOOKALIKES = "689"


def _repaired_day(g: dict[str, str], y: int, *, day_first: bool) -> date | None:
    """The date when the day printed over 31 has a 0 misread as a round digit, else None."""
    day_key, month_key = ("a", "b") if day_first else ("b", "a")
    day = g[day_key]
    if len(day) != 2 or day[0] not in _ZERO_LOOKALIKES or int(day) <= 31:
        return None
    return _mk(y, int(g[month_key]), int(day[1]))


def _match_date(
    kind: str, g: dict[str, str], *, day_first: bool, latest_year: int | None
) -> tuple[date, dict[str, float]] | None:
    """The date one pattern match spells and its pattern features, or None when it is no date."""
    f = {"date.found": 1.0}
    y = _year(g["y"])
    if latest_year is not None and y > latest_year:
        fixed = repair_year(y, latest_year)
        if fixed is None:
            return None
        y, f["date.year_repaired"] = fixed, 1.0
    if kind in ("dmy", "dmyg"):
        a, b = int(g["a"]), int(g["b"])
        first, second = ((y, b, a), (y, a, b)) if day_first else ((y, a, b), (y, b, a))
        found = _mk(*first)
        if found is None and max(a, b) <= 31:
            found, f["date.order_swapped"] = _mk(*second), 1.0
        elif found is None:
            found, f["date.day_repaired"] = _repaired_day(g, y, day_first=day_first), 1.0
        if len(g["y"]) == 4:
            f["date.four_digit_year"] = 1.0
        if kind == "dmyg":
            f["date.lost_separator"] = 1.0
    elif kind in ("dmony", "mondy"):
        found = _mk(y, _MONTHS[g["mon"][:3].upper()], int(g["d"]))
        f["date.month_name"] = 1.0
    else:
        found = _mk(y, int(g["m"]), int(g["d"]))
        f["date.year_first" if kind == "ymd" else "date.compact"] = 1.0
    return None if found is None else (found, f)


def date_candidates(
    text: str, *, day_first: bool = True, latest_year: int | None = None
) -> list[Candidate[tuple[int, date]]]:
    """Every printed date (value: (line index, date)) with its features, top line first. Lines naming
    another date (promotions, vouchers, best-before) give none: none beats a wrong one."""
    out: list[Candidate[tuple[int, date]]] = []
    for i, raw in enumerate(text.splitlines()):
        if _OTHER_DATE.search(raw):
            continue
        line = fix_digits(raw)
        line_features = {"date.labelled": 1.0} if _DATE_KW.search(raw) else {}
        if _TIME.search(line):
            line_features["date.time_on_line"] = 1.0
        for kind, rx in _DATE_PATTERNS:
            for m in _overlapping(rx, line):
                read = _match_date(kind, m.groupdict(), day_first=day_first, latest_year=latest_year)
                if read is None:
                    continue
                found, f = read
                before = line[m.start() - 1] if m.start() else " "
                if before.isalnum() or before == "-":
                    f["date.glued"] = 1.0  # e.g. "SX-575-1 1.5L"
                out.append(Candidate((i, found), {**f, **line_features}))
    return out


def find_date(
    text: str, *, day_first: bool = True, latest_year: int | None = None
) -> tuple[float, int, date] | None:
    """(score, line index, date) of the best-scored printed date, or None; earlier lines win ties
    (the issue date sits in the header). With `latest_year`, later years are repaired (repair_year)."""
    top = best(date_candidates(text, day_first=day_first, latest_year=latest_year))
    return None if top is None else (top.score, top.value[0], top.value[1])


# A line that looks like it holds a date even when OCR garbled a digit into a letter ("O6/C2/2016").
# One or two digits first and two or four last, so document numbers ("18299/182/76230") are not dates;
# the first separator may be a lost faint one ("05 02-18"), but then the second is no decimal point
# ("4 489.36" is a quantity and a price).
_DATE_LIKE = re.compile(
    r"(?<!\d)\d{1,2}\s?[/.-]\s?[\dA-Za-z]{1,3}\s?[/.-]\s?\d{2}(?:\d{2})?(?!\d)"
    r"|(?<!\d)\d{1,2} [\dA-Za-z]{2}[/-]\d{2}(?:\d{2})?(?!\d)"
    r"|\b(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)"
    r"[A-Z]*\.?\s*\d{2}",
    re.IGNORECASE,
)


def date_line(text: str, *, day_first: bool = True, latest_year: int | None = None) -> int | None:
    """The line worth a second look for the date: the one the best date came from, else the first
    line that looks like a garbled date."""
    found = find_date(text, day_first=day_first, latest_year=latest_year)
    if found is not None:
        return found[1]
    # A promotion's date is never the sale's (find_date skips it), so its line is no garbled sale date.
    # A line labelled DATE/TARIKH with four digits or more is one, however garbled ("2818-66-12").
    return next(
        (
            i
            for i, ln in enumerate(text.splitlines())
            if not _OTHER_DATE.search(ln)
            and (_DATE_LIKE.search(ln) or (_DATE_KW.search(ln) and len(re.findall(r"\d", ln)) >= 4))
        ),
        None,
    )


def vote_date(readings: Sequence[tuple[float, date | None]], *, latest_year: int) -> date | None:
    """Combine several OCR readings of one date line, each (weight, date parsed from it): year, month
    and day are each decided by one weighted vote, so one misread digit in one reading is outvoted.
    Years after `latest_year` are OCR errors ("2048"), not votes; ties go to the earlier reading."""
    dates = [(w, d) for w, d in readings if d is not None]
    year = vote((d.year, w) for w, d in dates if 1990 <= d.year <= latest_year)
    month = vote((d.month, w) for w, d in dates)
    day = vote((d.day, w) for w, d in dates)
    if year is None or month is None or day is None:
        return None
    try:
        return date(year[0], month[0], day[0])
    except ValueError:
        return None
