"""CSV stage 4, scan values: date order, evidence per role, and the balance/totals trailer lines.
Pure: stdlib only."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from finjobs.domain.statement_header import _ColumnStats
from finjobs.domain.statement_roles import RoleChoice
from finjobs.domain.statement_sniff import _records
from finjobs.domain.statement_types import _SETTLED_AFTER, ColumnPreset, Opener, _Request
from finjobs.domain.statements_values import (
    DATE_ORDERS,
    amount_shape,
    currency_code,
    date_shape,
    norm_name,
)


def _answer_date_order(
    guess: str, preset: ColumnPreset | None, fallback: tuple[str, str] | None
) -> tuple[str, str]:
    """An ambiguous date order from the preset, else the caller's fallback, else the file's conventions."""
    if preset and preset.date_order:
        return preset.date_order, f"date order {preset.date_order} from preset {preset.name!r}"
    if fallback and fallback[0] in DATE_ORDERS:
        return fallback[0], f"date order {fallback[0]} from {fallback[1]}"
    return guess, f"date order {guess} guessed from the separators and decimal mark"


def _evidence(
    header: Sequence[str] | None,
    roles: Mapping[str, Sequence[int]],
    stats: Sequence[_ColumnStats],
    request: _Request,
    choice: RoleChoice | None,
) -> dict[str, str]:
    """Role -> why: the preset or map, the content evidence, or the header name."""
    found = dict(choice.evidence) if choice else {}
    out: dict[str, str] = {}
    for role, ix in roles.items():
        if role in request.wanted:
            out[role] = "given by the preset or column map"
        elif role in found:
            out[role] = found[role]
        elif role == "date":
            s = stats[ix[0]]
            out[role] = f"dates on {s.dates}/{s.filled} filled cells"
        elif header:
            out[role] = "header " + " + ".join(repr(header[i]) for i in ix)
    return out


class ColumnScan(NamedTuple):
    """What one pass over every record found in the date and money columns."""

    date_order: str  # "DMY" | "MDY" | "YMD"; a trailing "?" when every date fits both DMY and MDY
    decimal_sep: str  # "." | ","
    symbols: tuple[tuple[str, int], ...]  # currencies the rows name, with counts, most common first


@dataclass
class _DateTally:
    """Numeric dates seen, how many of them day-first / month-first cannot read, and their separators."""

    numeric: int = 0
    no_dmy: int = 0
    no_mdy: int = 0
    seps: Counter[str] = field(default_factory=Counter)

    def judge(self, dates: Counter[str]) -> None:
        """Count in a tally of raw dates (each distinct value judged once, weighted), then clear it."""
        for raw, n in dates.items():
            shape = date_shape(raw)
            if shape is not None and shape.fixed is None:
                self.numeric += n
                self.seps[shape.sep] += n
                self.no_dmy += n * (not shape.fits("DMY"))
                self.no_mdy += n * (not shape.fits("MDY"))
        dates.clear()


def _vote_money(
    row: list[str], money: Sequence[int], cur_col: int, votes: Counter[str], symbols: Counter[str]
) -> None:
    """One record's decimal-separator votes and the currencies it names (symbols, codes, the column)."""
    for i in money:
        if i < len(row) and (amt := amount_shape(row[i])) is not None:
            if vote := amt.decimal_vote():
                votes[vote] += 1
            if amt.currency:
                symbols[amt.currency] += 1
    if 0 <= cur_col < len(row) and (code := currency_code(row[cur_col])):
        symbols[code] += 1


def _scan_columns(
    opener: Opener,
    encoding: str,
    delimiter: str,
    start: int,
    roles: Mapping[str, Sequence[int]],
    source: str,
) -> ColumnScan:
    """One streaming pass: date order from every date value; decimal separator and the currencies the
    rows name (currency column, symbols, codes) from every amount until 20,000 rows agree unanimously."""
    date_col = roles["date"][0]
    cur_col = roles["currency"][0] if "currency" in roles else -1
    money = [i for role in ("amount", "debit", "credit", "balance") for i in roles.get(role, ())]
    tally = _DateTally()
    votes: Counter[str] = Counter()
    symbols: Counter[str] = Counter()
    dates: Counter[str] = Counter()  # each distinct value is judged once, weighted by its count
    seen = 0
    for line, row in _records(opener, encoding, delimiter, source):
        if line < start:
            continue
        if date_col < len(row):
            dates[row[date_col]] += 1
            if len(dates) > 4096:  # timestamps are all distinct: keep the tally bounded
                tally.judge(dates)
        seen += 1
        if seen > _SETTLED_AFTER and len(votes) <= 1 and len(symbols) <= 1:
            continue  # money is settled: 20,000 unanimous rows cannot be outvoted by what is left in practice
        _vote_money(row, money, cur_col, votes, symbols)
    tally.judge(dates)
    decimal_sep = "," if votes[","] > votes["."] else "."
    order = _date_order(tally.numeric, tally.no_dmy, tally.no_mdy, tally.seps, decimal_sep)
    return ColumnScan(order, decimal_sep, tuple(symbols.most_common()))


def _date_order(numeric: int, no_dmy: int, no_mdy: int, seps: Counter[str], decimal_sep: str) -> str:
    """The order most numeric dates fit; a trailing "?" when every value fits both (nothing decided)."""
    if numeric == 0:
        return "YMD"
    if no_mdy and not no_dmy:
        return "DMY"
    if no_dmy and not no_mdy:
        return "MDY"
    if no_dmy or no_mdy:
        return "DMY" if no_dmy < no_mdy else "MDY"  # mixed: keep the order that fits more rows
    # Every value fits both: dotted dates and decimal commas are day-first conventions.
    return "DMY?" if seps.most_common(1)[0][0] == "." or decimal_sep == "," else "MDY?"


# ================================================================ reading

_BALANCE_PHRASES = (
    "saldo anterior",
    "saldo inicial",
    "saldo final",
    "saldo actual",
    "opening balance",
    "closing balance",
    "balance brought forward",
    "balance carried forward",
    "brought forward",
    "carried forward",
    "previous balance",
    "new balance",
    "starting balance",
    "ending balance",
    "anfangssaldo",
    "endsaldo",
    "alter kontostand",
    "neuer kontostand",
    "alter saldo",
    "neuer saldo",
    "solde initial",
    "solde final",
    "solde precedent",
    "nouveau solde",
    "ancien solde",
    "solde au",
    "beginsaldo",
    "eindsaldo",
    "startsaldo",
    "likutis pradziai",  # lt
    "likutis pabaigai",
    "sakuma atlikums",  # lv
    "beigu atlikums",
    "algsaldo",  # et
    "loppsaldo",
    "ingaende saldo",  # sv, no
    "utgaende saldo",
    "saldo poczatkowe",  # pl
    "saldo koncowe",
    "pocatecni zustatek",  # cs
    "konecny zustatek",
    "saldo",
    "balance",
    "kontostand",
    "solde",
    "likutis",
    "atlikums",
    "zustatek",
)
_TOTAL_WORDS = {
    "total",
    "totals",
    "summe",
    "gesamt",
    "gesamtsumme",
    "totaal",
    "sum",
    "grand total",
    "total general",
    "totaux",
    "suma",
    "total movimientos",
    "totales",
    "apyvarta",  # lt: turnover of the period
    "apgrozijums",  # lv
    "kaive",  # et
    "obroty",  # pl
    "obrat",  # cs
}


_BALANCE_EXACT = frozenset(_BALANCE_PHRASES)
_BALANCE_PREFIXES = tuple(p + " " for p in _BALANCE_PHRASES if len(p) > 7)


@functools.lru_cache(maxsize=1 << 16)  # payees repeat on many rows; normalising a name is the cost
def _trailer_cell(cell: str) -> str | None:
    text = cell.strip()
    # Cheap filter first: trailer labels are short words; most cells are numbers or long text.
    if not text or len(text) > 60 or not text[0].isalpha():
        return None
    name = norm_name(text)
    if name in _TOTAL_WORDS or name.rstrip(" s") in _TOTAL_WORDS:
        return f"totals line ({text!r})"
    if name in _BALANCE_EXACT or name.startswith(_BALANCE_PREFIXES):
        return f"balance line ({text!r})"
    return None
