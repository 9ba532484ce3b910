"""Receipt merchant: each of the first lines of a receipt is a Candidate for the shop's name, with
features (a company word, a clean line of capitals, its position) weighed by
receipt_candidates.WEIGHTS. Pure: stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from finjobs.domain.receipt_candidates import Candidate, best
from finjobs.domain.receipt_lines import Word, amounts, label_line

_COMPANY = re.compile(
    r"\b(S[DO0]N\.?,?\s*BHD|SDE|S/B|BHD|BERHAD|ENTERPRISES?|TRADING|RESTAURANTS?|RESTORAN|STORES?|MART|"
    r"SUPERMARKET|HARDWARE|STATIONERY|BOOKS?|BAKERY|CAFE|KEDAI|PERNIAGAAN|PHARMACY|MARKETING|"
    r"HOLDINGS?|INDUSTRIES|CORPORATION|LTD|LIMITED|PLT|INC|LLC|GMBH|CO\.)\b",
    re.IGNORECASE,
)
_NOT_MERCHANT = re.compile(
    r"\b(TAX\s*INVOICE|INVOICE|RECEIPT|CASH\s*BILL|WELCOME|TEL|FAX|GST|REG|CO\.?\s*NO|JALAN|JLN|LOT|"
    r"NO\.?\s*\d|DATE|CASHIER|TABLE|FORMERLY|LICENSEE|SIMPLIFIED|ORDER|CUSTOMER\s*COPY)\b"
    # Street words mark an address only beside a number: "9401 Oak Street", not "Maple Street Hardware".
    r"|(?=.*\d).*\b(ROAD|RD|STREET|ST|AVENUE|AVE|BLVD|DRIVE|LANE)\b",
    re.IGNORECASE,
)
_REGNO = re.compile(r"\(?\b[A-Z]{0,3}\d{4,}[-\s]?[A-Z]?\)?")


def _line_conf(words: Sequence[Word] | None) -> dict[int, float]:
    if not words:
        return {}
    acc: dict[int, list[float]] = {}
    for w in words:
        if w.conf >= 0 and w.text.strip():
            acc.setdefault(w.line, []).append(w.conf)
    return {k: sum(v) / len(v) for k, v in acc.items()}


_SDN = re.compile(r"\bS[A-Z0]{1,2}\b[.,]?\s*(?=BHD\b)|\bSDE\b", re.IGNORECASE)


def clean_name(line: str) -> str:
    line = _SDN.sub("SDN ", line)
    line = _REGNO.sub(" ", line)
    line = re.sub(r"[^\w&.,'()/@+ -]", " ", line)
    tokens = line.split()
    # Stray marks Tesseract reads at the ends of a header line: "7 AEON CO. (M) BHD h)".
    # A two-digit number is not a mark but part of the name ("99 SPEED MART", "32 PUB & BISTRO").
    while tokens and len(tokens[0]) <= 2 and not any(c.isupper() for c in tokens[0]):
        if re.fullmatch(r"\d\d", tokens[0]) and len(tokens) > 1 and re.match(r"[A-Z]{2}", tokens[1]):
            break
        tokens.pop(0)
    while tokens and len(tokens[-1]) <= 2 and tokens[-1] != "&" and not any(c.isupper() for c in tokens[-1]):
        tokens.pop()
    return " ".join(tokens).strip(" .,-_|:;'")


# Words shops print in their names, for OCR repair: a name word one letter away from one of these
# (same length, 6+ letters) is that word misread ("INTERNATIGNAL", "ENIERPRISE") when the two letters
# are ones OCR takes for each other (_CONFUSED); GRAVEL or BAKERS are words of their own.
NAME_WORDS = (
    "ENTERPRISE", "ENTERPRISES", "TRADING", "RESTAURANT", "RESTORAN", "SUPERMARKET", "HARDWARE",
    "STATIONERY", "STATIONERS", "BAKERY", "PHARMACY", "MARKETING", "HOLDINGS", "INDUSTRIES",
    "CORPORATION", "INTERNATIONAL", "LIMITED", "BERHAD", "PERNIAGAAN", "ELECTRICAL", "TRAVEL",
)  # fmt: skip
# Letters OCR reads for one another on print, by shape: round, upright strokes, bowls, diagonals.
_CONFUSED = ("OGCQDU", "ITLJ", "EFBPR", "HNMK", "SZ", "VYWX")
_SAME_SHAPE = frozenset((a, b) for group in _CONFUSED for a in group for b in group if a != b)
# OCR's digit look-alikes of capitals, in abbreviations ("D.1.Y." for "D.I.Y.", "5/B" for "S/B").
_LOOKALIKE = str.maketrans("0158", "OISB")
_ABBREVIATION = re.compile(r"(?<![\w.])(?:[A-Z0-9][./]){1,3}[A-Z0-9]?\.?(?![\w/])")
# "SON. GHD": BHD with its B misread, after an SDN-like word.
_GHD = re.compile(r"\bS[A-Z0]{1,2}\b[.,]?\s*[G8]HD\b", re.IGNORECASE)
# The legal suffix ends the name: what follows it on the line is noise ("S/B (8KJ", "SDN BHD Hy").
_LEGAL_END = re.compile(
    r"^(.*\b(?:SDN\.?\s*BHD|BHD|S/B|BERHAD|ENTERPRISES?|LTD|LIMITED|PLT|INC|LLC)\b\.?)(.*)$",
    re.IGNORECASE,
)


def _fix_word(word: str) -> str:
    if len(word) < 6 or not word.isalpha():
        return word
    up = word.upper()
    if up in NAME_WORDS:
        return word
    for known in NAME_WORDS:
        if len(known) != len(up):
            continue
        wrong = [(a, b) for a, b in zip(up, known, strict=True) if a != b]
        if len(wrong) == 1 and wrong[0] in _SAME_SHAPE:
            return known if word.isupper() else known.capitalize()
    return word


def repair_name(name: str) -> str:
    """OCR slips in a shop's name that its own shape gives away: digit look-alikes in an abbreviation
    of single capitals, a common name word with one letter wrong, "SDN GHD" for SDN BHD, and marks
    after the legal suffix
    (unless they are a bracketed branch such as "(M)" or a number)."""
    name = _ABBREVIATION.sub(
        lambda m: m.group(0).translate(_LOOKALIKE) if re.search(r"[A-Z]", m.group(0)) else m.group(0), name
    )
    name = re.sub(r"[A-Za-z]+", lambda m: _fix_word(m.group(0)), name)
    name = _GHD.sub("SDN BHD", name)
    m = _LEGAL_END.match(name)
    if (
        m
        and m.group(2).strip()
        and len(re.sub(r"\W", "", m.group(2))) <= 4
        and not m.group(2).strip().isdigit()  # a number is part of a name ("ENTERPRISE 666")
        and not re.fullmatch(r"\s*\([^()]*\)", m.group(2))
    ):
        name = m.group(1)
    return name


def _plausible_name(line: str, conf: float | None) -> bool:
    letters = sum(c.isalpha() for c in line)
    if letters < 3 or letters < 0.6 * len(line.replace(" ", "")):
        return False
    # Handwritten notes (names pencilled on the slip) come out all lower-case; printed headers do not.
    if not any(c.isupper() for c in line):
        return False
    # Garbage lines from logos: mostly 1-2 letter fragments.
    tokens = [t for t in re.split(r"\s+", line) if t]
    if tokens and sum(len(t) <= 2 for t in tokens) > len(tokens) / 2:
        return False
    return not (conf is not None and conf < 45)


_HEAD_LINES = 12  # non-empty lines near the top that a name may borrow its other half from
_CANDIDATE_LINES = 8  # ... of which the first 8 may hold the name itself
_MIN_CONF = 45.0  # a line Tesseract read with less confidence is logo noise


def _letters(name: str) -> int:
    return len(re.sub(r"[^A-Za-z]", "", name))


def _clean_neighbour(text: str) -> bool:
    return _plausible_name(text, None) and not _NOT_MERCHANT.search(text)


def _with_neighbours(head: list[tuple[int, str]], pos: int, confs: dict[int, float]) -> str:
    """The name on a company-word line, completed from the line above or below where it is only
    the name's tail ("SDN BHD", "ALAM) SDN BHD", "RESTAURANT SDN BHD") or ends in "&"."""
    name = clean_name(head[pos][1])
    if _COMPANY.fullmatch(name.strip(". ")):
        # A bare "SDN BHD" line is the tail of the name printed above (or, misordered, below) it.
        near = [head[p][1] for p in (pos - 1, pos + 1) if 0 <= p < len(head)]
        near = [n for n in near if _clean_neighbour(n)]
        if near:
            name = clean_name(near[0]) + " " + name
    elif pos > 0 and re.match(r"^[\W]*[a-z(]|^\S+\)", name):
        name = clean_name(head[pos - 1][1]) + " " + name  # starts mid-name: it began above
    elif pos > 0 and not re.search(r"[A-Za-z]{2}", _COMPANY.sub(" ", name)):
        above_i, above = head[pos - 1]
        if (
            _plausible_name(above, confs.get(above_i))
            and not _NOT_MERCHANT.search(above)
            and not any(ch.isdigit() for ch in above)
        ):
            name = clean_name(above) + " " + name
    if re.search(r"(&|\bAND)$", name, re.IGNORECASE) and pos + 1 < len(head):
        name = name + " " + clean_name(head[pos + 1][1])
    return name


def _company_line(line: str, conf: float | None) -> bool:
    return (
        bool(_COMPANY.search(line))
        and not _NOT_MERCHANT.search(line)
        and not (conf is not None and conf < _MIN_CONF)
        and not amounts(line)  # an item ("CAFE CREME 12.00 2 24.00"), not a name
    )


def _plain_line(line: str, conf: float | None) -> bool:
    # not a money line ("CHANGE RM 5.00") on a receipt whose header OCR lost
    return (
        not _NOT_MERCHANT.search(line)
        and _plausible_name(line, conf)
        and not amounts(line)
        and label_line(line) == "none"
    )


def merchant_candidates(lines: list[str], words: Sequence[Word] | None = None) -> list[Candidate[str]]:
    """A candidate per top line that could hold the shop's name (value: the cleaned name), with the
    line's OCR confidence (0..1) as feature "merchant.ocr_conf" for the confidence, not the ranking."""
    confs = _line_conf(words)
    head = [(i, ln.strip()) for i, ln in enumerate(lines) if ln.strip()][:_HEAD_LINES]
    out: list[Candidate[str]] = []
    for pos, (i, ln) in enumerate(head[:_CANDIDATE_LINES]):
        conf = confs.get(i)
        if _company_line(ln, conf):
            name, kind = _with_neighbours(head, pos, confs), "merchant.company_word"
        elif _plain_line(ln, conf):
            name, kind = clean_name(ln), "merchant.plain_line"
        else:
            continue
        name = repair_name(name)
        if _letters(name) >= 3:
            ocr = (conf if conf is not None else (90.0 if kind.endswith("word") else 80.0)) / 100
            out.append(
                Candidate(name, {kind: 1.0, "merchant.line_index": float(pos), "merchant.ocr_conf": ocr})
            )
    return out


def parse_merchant(lines: list[str], words: Sequence[Word] | None = None) -> tuple[str | None, float]:
    """The best merchant candidate and a 0..1 confidence (a company word counts for more)."""
    top = best(merchant_candidates(lines, words))
    if top is None:
        return None, 0.0
    share = 0.8 if "merchant.company_word" in top.features else 0.5
    return top.value, share * top.features["merchant.ocr_conf"]
