"""Bank-statement CSV reader: detect a file's format, then stream it as signed rows or skipped rows.
Pure: standard library (csv, codecs, io, decimal, datetime, re) only; reads bytes from an opener.

Streaming: `opener()` is called more than once (detection: a byte pass confirming UTF-8, a 64 KiB
sample, one CSV pass over every record; then one pass per read); each pass pulls bounded chunks, so
memory stays constant however long the file is. Sign convention: negative = money leaving the account.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from finjobs.domain import statement_vocab as vocab
from finjobs.domain.money import format_minor, from_minor, to_minor
from finjobs.domain.statement_header import (
    _assign_roles,
    _column_stats,
    _find_header,
    _resolve_name,
)
from finjobs.domain.statement_roles import Previous, check_header_roles, flag_way, infer_roles
from finjobs.domain.statement_scan import _answer_date_order, _evidence, _scan_columns, _trailer_cell
from finjobs.domain.statement_signs import SignAnswers, decide_sign
from finjobs.domain.statement_sniff import (
    _detect_encoding,
    _parse_sample,
    _pick_delimiter,
    _records,
    _sample_text,
)
from finjobs.domain.statement_types import (
    ACCOUNT_TYPES,
    PRESETS,
    ROLES,
    ColumnPreset,
    Opener,
    SkippedRow,
    StatementFormat,
    StatementRow,
    _check_format,
    _check_roles,
    _Request,
    parse_column_map,
)
from finjobs.domain.statements_values import (
    amount_shape,
    currency_code,
    date_shape,
    direction_of,
    norm_name,
)
from finjobs.errors import InputError

__all__ = [
    "ACCOUNT_TYPES",
    "PRESETS",
    "ROLES",
    "ColumnPreset",
    "SkippedRow",
    "StatementFormat",
    "StatementRow",
    "detect_format",
    "normalise_description",
    "parse_column_map",
    "preview",
    "read_statement",
]


# ================================================================ detection
#
# detect_format is a pipeline of stages, each returning a frozen value (tuples and read-only mappings
# inside, so a later stage cannot change what an earlier one decided):
#   _request -> sniff -> locate_header -> assign_roles -> scan_values -> pick_currency, sign_rule
#   -> _format (the StatementFormat a caller stores).


@dataclass(frozen=True)
class Sniffed:
    """Stage 1: the encoding, the delimiter and the sample's records and usual width."""

    encoding: str
    delimiter: str
    records: tuple[tuple[int, tuple[str, ...]], ...]  # (start line, cells) of the sampled records
    width: int


@dataclass(frozen=True)
class HeaderSpot:
    """Stage 2: where the header is (None: headerless), the sampled data rows and where data starts."""

    header_line: int | None
    header: tuple[str, ...] | None
    data: tuple[tuple[str, ...], ...]
    start: int
    width: int


@dataclass(frozen=True)
class Roles:
    """Stage 3: role -> column indexes, why each was chosen, and what the content left open."""

    columns: Mapping[str, tuple[int, ...]]
    evidence: Mapping[str, str]
    flipped: bool  # a running balance proves the amount column lists money out as positive
    words_reversed: bool  # the running balance outweighs the direction words: they read reversed
    open_questions: tuple[str, ...]
    assumptions: tuple[str, ...]


@dataclass(frozen=True)
class Scanned:
    """Stage 4: what one pass over every value decided, with the questions still open and their answers."""

    date_order: str
    decimal_sep: str
    symbols: tuple[tuple[str, int], ...]  # currencies the rows name, with counts, most common first
    open_questions: tuple[str, ...]
    assumptions: tuple[str, ...]


def _request(
    preset: str | ColumnPreset | None, column_map: dict[str, str] | None, account_type: str, source: str
) -> _Request:
    """The caller's choices checked: a preset named or given, the account type, the wanted columns."""
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise InputError(
                f"unknown preset {preset!r} (known: {', '.join(sorted(PRESETS))})", source=source
            )
        preset = PRESETS[preset]
    if preset is not None and preset.account_type and account_type == "checking":
        account_type = preset.account_type
    if account_type not in ACCOUNT_TYPES:
        raise InputError(f"account_type must be one of {', '.join(ACCOUNT_TYPES)}", source=source)
    wanted: dict[str, tuple[str, ...]] = {}
    if preset is not None:
        wanted.update({r: tuple(n) for r, n in preset.columns.items()})
    if column_map:
        _check_roles(column_map, source=source)
        wanted.update({r: tuple(n for n in str(v).split("|") if n.strip()) for r, v in column_map.items()})
    by_index = bool(wanted) and all(n.strip().isdigit() for ns in wanted.values() for n in ns)
    return _Request(preset, MappingProxyType(wanted), account_type, by_index)


def sniff(opener: Opener, preset: ColumnPreset | None, source: str) -> Sniffed:
    """Encoding, delimiter and the sample's records (a preset's choices win)."""
    encoding = preset.encoding if preset and preset.encoding else _detect_encoding(opener, source)
    sample = _sample_text(opener, encoding, source)
    if not sample.strip():
        raise InputError("file has no text", source=source)
    if preset and preset.delimiter:
        delimiter = preset.delimiter
        records = _parse_sample(sample, delimiter)
    else:
        delimiter, records = _pick_delimiter(sample, source)
    widths = Counter(len(r) for _, r in records if len(r) >= 2) or Counter({1: 1})
    width = max(widths.items(), key=lambda kv: (kv[1], kv[0]))[0]
    return Sniffed(encoding, delimiter, tuple((ln, tuple(r)) for ln, r in records), width)


def locate_header(sniffed: Sniffed, named: Sequence[str], source: str) -> HeaderSpot:
    """The header record (by the wanted names, else by vocabulary), or the first dated row when none."""
    records, width = sniffed.records, sniffed.width
    found = _find_header(records, width, named)
    if named and found is None:
        missing = ", ".join(repr(n) for n in named)
        raise InputError(f"header with column(s) {missing} not found", source=source)
    if found is not None:
        header_line, header = found[0], tuple(c.strip() for c in found[1])
        data = tuple(
            r
            for ln, r in records
            if ln > header_line and any(c.strip() for c in r) and tuple(c.strip() for c in r) != header
        )
        start = next((ln for ln, _ in records if ln > header_line), header_line + 1)
        return HeaderSpot(header_line, header, data, start, len(header))  # cells past it have no name
    start_rec = next(
        ((ln, r) for ln, r in records if len(r) >= max(2, width - 1) and any(date_shape(c) for c in r)),
        None,
    )
    if start_rec is None:
        raise InputError("no date column found (no header and no row with a date)", source=source)
    data = tuple(r for ln, r in records if ln >= start_rec[0] and any(c.strip() for c in r))
    return HeaderSpot(None, None, data, start_rec[0], width)


def _wanted_columns(spot: HeaderSpot, request: _Request, source: str) -> dict[str, list[int]]:
    """The preset's or column map's roles as column indexes (by header name, or given as indexes)."""
    mapped: dict[str, list[int]] = {}
    for role, names in request.wanted.items():
        idx = [int(n) if request.by_index else _resolve_name(spot.header or (), n, source) for n in names]
        if any(i >= spot.width for i in idx):
            raise InputError(f"column index out of range for role {role!r}", source=source)
        mapped[role] = idx
    return mapped


def assign_roles(
    spot: HeaderSpot, request: _Request, source: str, previous: Previous = (), sign: SignAnswers = ()
) -> Roles:
    """Wanted columns as given; the rest from header names checked against content, or from content
    evidence alone when headerless (ties answered from `previous`); the sign scored (`sign` answers it)."""
    stats = _column_stats(spot.data, spot.width)
    mapped = _wanted_columns(spot, request, source)
    roles = _assign_roles(spot.header, stats, mapped, len(spot.data))
    if spot.header is None:
        fixed = {r: ix for r, ix in roles.items() if r in mapped or r == "date"}
        choice = infer_roles(spot.data, spot.width, fixed, previous)
    else:
        choice = check_header_roles(spot.data, spot.header, roles, set(mapped))
    roles = choice.roles
    choice = decide_sign(choice, spot.data, spot.header, spot.width, request.account_type, sign)
    if "date" not in roles:
        raise InputError("no date column found", source=source)
    if not any(r in roles for r in ("amount", "debit", "credit")):
        raise InputError("no amount column found", source=source)
    return Roles(
        columns=MappingProxyType({r: tuple(ix) for r, ix in roles.items()}),
        evidence=MappingProxyType(_evidence(spot.header, roles, stats, request, choice)),
        flipped=choice.flipped,
        words_reversed=choice.words_reversed,
        open_questions=tuple(choice.open_questions),
        assumptions=tuple(choice.assumptions),
    )


def scan_values(
    opener: Opener,
    sniffed: Sniffed,
    spot: HeaderSpot,
    roles: Roles,
    request: _Request,
    fallback: tuple[str, str] | None,
    source: str,
) -> Scanned:
    """Date order and decimal separator from every value; an ambiguous date order answered and noted."""
    found = _scan_columns(opener, sniffed.encoding, sniffed.delimiter, spot.start, roles.columns, source)
    date_order, decimal_sep = found.date_order, found.decimal_sep
    preset = request.preset
    questions, assumptions = roles.open_questions, roles.assumptions
    if date_order.endswith("?"):
        date_order, answer = _answer_date_order(date_order[:-1], preset, fallback)
        questions += ("every date fits both day-first and month-first",)
        assumptions += (answer,)
    elif preset and preset.date_order:
        date_order = preset.date_order
    if preset and preset.decimal_sep:
        decimal_sep = preset.decimal_sep
    return Scanned(date_order, decimal_sep, found.symbols, questions, assumptions)


def pick_currency(
    spot: HeaderSpot, roles: Roles, scanned: Scanned, preset: ColumnPreset | None, default: str
) -> str:
    """The preset's currency, else a code in the money column's header, else the rows' symbols."""
    header, cols = spot.header, roles.columns
    header_codes = [
        code
        for i in cols.get("amount", ()) + cols.get("debit", ())
        if header and (code := vocab.currency_word(norm_name(header[i]).rpartition(" ")[2]))
    ]
    if preset and preset.currency:
        return preset.currency
    if header_codes:
        return header_codes[0]
    if scanned.symbols:
        return scanned.symbols[0][0]
    return default.upper()


def sign_rule(spot: HeaderSpot, roles: Roles, account_type: str) -> str:
    """debit_credit, direction[_reversed]:<column>, flag_credit/flag_debit:<column> (a sparse flag: the blank
    rows go the other way), amount_flipped(credit) (a card, or proven), amount."""
    cols = roles.columns
    if "debit" in cols or "credit" in cols:
        return "debit_credit"
    if "direction" in cols:
        way = flag_way(spot.data, cols["direction"][0])
        kind = "direction_reversed:" if roles.words_reversed else "direction:"
        kind = kind if way is None else ("flag_credit:" if way > 0 else "flag_debit:")
        return kind + (spot.header[cols["direction"][0]] if spot.header else str(cols["direction"][0]))
    if (account_type == "credit") != roles.flipped:
        return "amount_flipped(credit)"
    return "amount"


def _format(
    sniffed: Sniffed, spot: HeaderSpot, roles: Roles, scanned: Scanned, currency: str, rule: str
) -> StatementFormat:
    """The stages' decisions as the StatementFormat a caller stores (columns by header name, or index)."""
    header = spot.header
    return StatementFormat(
        encoding=sniffed.encoding,
        delimiter=sniffed.delimiter,
        header_line=spot.header_line,
        data_start_line=spot.start,
        columns={
            r: [header[i] if header else i for i in roles.columns[r]] for r in ROLES if r in roles.columns
        },
        date_order=scanned.date_order,
        decimal_sep=scanned.decimal_sep,
        sign_rule=rule,
        currency=currency,
        evidence=dict(roles.evidence),
        open_questions=list(scanned.open_questions),
        assumptions=list(scanned.assumptions),
        width=spot.width,
    )


def detect_format(
    opener: Opener,
    *,
    source: str = "<csv>",
    preset: str | ColumnPreset | None = None,
    column_map: dict[str, str] | None = None,
    account_type: str = "checking",
    default_currency: str = "USD",
    date_order_fallback: tuple[str, str] | None = None,
    role_fallback: Previous = (),
    sign_fallback: SignAnswers = (),
) -> StatementFormat:
    """Decide encoding, delimiter, header, column roles, date order, decimal separator and sign rule.

    A preset or column map (role -> header name, '|' joins several names) overrides name detection;
    account_type='credit' flips a single signed amount column (card exports list charges positive).
    date_order_fallback=(order, where from) answers dates the file leaves ambiguous (a previous import of
    the account, the locale); role_fallback=[(role -> column indexes, width, where from)] answers a
    headerless file's tie between equally good money columns (the account's earlier choices on files of
    the same width); sign_fallback=[(sign rule, where from)] the sign; all go in `assumptions`."""
    request = _request(preset, column_map, account_type, source)
    sniffed = sniff(opener, request.preset, source)
    spot = locate_header(sniffed, request.named, source)
    roles = assign_roles(spot, request, source, role_fallback, sign_fallback)
    scanned = scan_values(opener, sniffed, spot, roles, request, date_order_fallback, source)
    currency = pick_currency(spot, roles, scanned, request.preset, default_currency)
    rule = sign_rule(spot, roles, request.account_type)
    return _format(sniffed, spot, roles, scanned, currency, rule)


def read_statement(
    opener: Opener, fmt: StatementFormat, *, source: str = "<csv>", balances: bool = True
) -> Iterator[StatementRow | SkippedRow]:
    """Stream every data record as a StatementRow or a SkippedRow (with the reason), in file order.

    Lines before data_start_line (preamble, header) and blank records are not data and are not yielded;
    a row whose amount is zero is a SkippedRow (a notice or a waived fee, no money moved).
    Raises InputError only when the file itself is unreadable (bad CSV quoting, a header gone missing).
    balances=False skips parsing the balance column (balance_minor is None): importers don't store it."""
    _check_format(fmt)
    parse: Callable[[int, list[str]], StatementRow | SkippedRow] | None = None
    header: list[str] | None = None
    if fmt.header_line is None:
        try:
            roles = {r: [int(c) for c in cols] for r, cols in fmt.columns.items()}
        except ValueError as exc:
            raise InputError("headerless format must name columns by index", source=source) from exc
        parse = _row_parser(roles, fmt, balances)
    for line, row in _records(opener, fmt.encoding, fmt.delimiter, source):
        if fmt.header_line is not None and line == fmt.header_line:
            header = [c.strip() for c in row]
            roles = {
                r: [_resolve_name(header, str(c), source) for c in cols] for r, cols in fmt.columns.items()
            }
            parse = _row_parser(roles, fmt, balances)
            continue
        if line < fmt.data_start_line or not "".join(row).strip():
            continue
        if parse is None:
            raise InputError(f"header expected on line {fmt.header_line} was not found", source=source)
        if header is not None and row[0].strip() == header[0] and [c.strip() for c in row] == header:
            yield SkippedRow(line, "repeated header")
            continue
        item = parse(line, row)  # a zero amount is a notice ('Verständigung', a waived fee): no money moved
        yield (
            SkippedRow(line, "amount is zero")
            if type(item) is StatementRow and not item.amount_minor
            else item
        )


@functools.lru_cache(maxsize=1 << 16)
def _money_value(raw: str, decimal_sep: str) -> tuple[Decimal, str | None] | None:
    amt = amount_shape(raw)
    value = amt.value(decimal_sep) if amt else None
    return None if amt is None or value is None else (value, amt.currency)


@functools.lru_cache(maxsize=1 << 16)
def _exact_minor(amount: Decimal, currency: str) -> int | None:
    minor = to_minor(amount, currency)
    return minor if from_minor(minor, currency) == amount else None


@functools.lru_cache(maxsize=1 << 16)  # a day's date repeats on each of its rows
def _date_value(raw: str, order: str) -> datetime.date | None:
    shape = date_shape(raw)
    return shape.resolve(order) if shape else None


def _row_parser(  # noqa: C901 -- the hot row parser: one closure, its per-file caches bound once
    roles: dict[str, list[int]], fmt: StatementFormat, balances: bool
) -> Callable[[int, list[str]], StatementRow | SkippedRow]:
    """The row function for one file, its column positions and rules bound once (the hot loop of an
    import: a million calls). Cell values repeat down a file (a day's date, a payee, a price), so the
    per-cell decisions are cached per file (bounded), and a row of the usual width is indexed directly."""
    money_cols = {i for r in ("amount", "debit", "credit", "balance") for i in roles.get(r, [])}
    date_i = roles["date"][0]
    order, sep, default_ccy = fmt.date_order, fmt.decimal_sep, fmt.currency
    flip = fmt.sign_rule == "amount_flipped(credit)" or fmt.sign_rule.startswith("direction_reversed:")
    ccy_i = roles["currency"][0] if "currency" in roles else None
    split = [(roles[r][0], sign) for r, sign in (("debit", -1), ("credit", 1)) if r in roles]
    amount_i = roles["amount"][0] if not split else -1
    dir_i = roles["direction"][0] if "direction" in roles else None
    # a sparse flag: its word on the flagged rows, the other direction on the blank ones
    rule = fmt.sign_rule
    unflagged = -1 if rule.startswith("flag_credit:") else 1 if rule.startswith("flag_debit:") else None
    bal_i = roles["balance"][0] if balances and "balance" in roles else None
    desc_cols = roles.get("description", [])
    desc_i = desc_cols[0] if len(desc_cols) == 1 else None
    cat_i = roles["category"][0] if "category" in roles else None
    need = max(i for cols in roles.values() for i in cols) + 1  # cells a row is padded to ('' as missing)
    width = fmt.width if fmt.width and fmt.width >= need else -1  # the usual row: no padding, checks known
    checked = tuple(i for i in range(max(width, 0)) if i not in money_cols)
    trailer = functools.lru_cache(maxsize=1 << 14)(_trailer_cell)

    @functools.lru_cache(maxsize=1 << 12)  # a day's date repeats on each of its rows
    def date_of(raw: str) -> datetime.date | None:
        return _date_value(raw.strip(), order)

    @functools.lru_cache(maxsize=1 << 15)  # prices repeat; one signed amount column decides it alone
    def one_amount(raw: str) -> tuple[int, str] | str:
        """(minor units, currency) of a signed amount cell, or why its row is skipped."""
        if not (raw := raw.strip()):
            return "no amount"
        if (got := _money_value(raw, sep)) is None:
            return f"amount {raw!r} is not a number"
        amount, symbol_ccy = got
        currency = symbol_ccy or default_ccy
        minor = _exact_minor(-amount if flip else amount, currency)
        if minor is None:
            return f"amount {-amount if flip else amount} has more decimals than {currency} allows"
        return minor, currency

    def any_amount(row: list[str]) -> tuple[int, str] | str:
        """(minor units, currency) from debit/credit, direction or currency columns, or why not."""
        currency = default_ccy
        if ccy_i is not None and (code := currency_code(row[ccy_i])):
            currency = code
        symbol_ccy: str | None = None
        if split:
            amount = Decimal(0)
            seen = False
            for i, sign in split:
                if not (raw := row[i].strip()):
                    continue
                if (got := _money_value(raw, sep)) is None:
                    return f"amount {raw!r} is not a number"
                seen = True
                amount += sign * abs(got[0])
                symbol_ccy = symbol_ccy or got[1]
            if not seen:
                return "no amount"
        else:
            if not (raw := row[amount_i].strip()):
                return "no amount"
            if (got := _money_value(raw, sep)) is None:
                return f"amount {raw!r} is not a number"
            amount, symbol_ccy = got
            if dir_i is not None:
                raw_dir = row[dir_i].strip()
                if (direction := direction_of(raw_dir) or (unflagged if not raw_dir else None)) is None:
                    return f"direction {raw_dir!r} is neither debit nor credit"
                amount = (-direction if flip else direction) * abs(amount)
            elif flip:
                amount = -amount
        if ccy_i is None and symbol_ccy:
            currency = symbol_ccy
        minor = _exact_minor(amount, currency)
        if minor is None:
            return f"amount {amount} has more decimals than {currency} allows"
        return minor, currency

    one_column = not split and dir_i is None and ccy_i is None
    new_row = tuple.__new__  # StatementRow's own __new__ is a Python call: 0.1 us a row saved

    def parse(line: int, row: list[str]) -> StatementRow | SkippedRow:
        if len(row) == width:
            for i in checked:
                if reason := trailer(row[i]):
                    return SkippedRow(line, reason)
        else:
            for i, raw in enumerate(row):
                if i not in money_cols and (reason := trailer(raw)):
                    return SkippedRow(line, reason)
            if len(row) < need:
                row = row + [""] * (need - len(row))
        date = date_of(raw_date := row[date_i])
        if date is None:
            raw_date = raw_date.strip()
            return SkippedRow(line, f"date {raw_date!r} is not a date" if raw_date else "no date")
        money = one_amount(row[amount_i]) if one_column else any_amount(row)
        if isinstance(money, str):
            return SkippedRow(line, money)
        minor, currency = money
        balance = None
        if bal_i is not None and (raw_bal := row[bal_i].strip()):
            amt = amount_shape(raw_bal)
            bal = amt.value(sep) if amt else None
            balance = to_minor(bal, currency) if bal is not None else None
        if desc_i is not None:
            description = " ".join(row[desc_i].split())
        else:
            description = " ".join(c for i in desc_cols if (c := " ".join(row[i].split())))
        category = row[cat_i].strip() or None if cat_i is not None else None
        return new_row(StatementRow, (line, date, minor, currency, description, balance, category, None))

    return parse


# ================================================================ helpers for callers

_CARD = re.compile(
    r"(?:[x*#]{2,}[\s-]?\d{2,4}|\b\d{4}[\s-]?[x*]{2,}[\s\dx*-]*\b|\b(?:\d{4}[\s-]?){3}\d{1,4}\b)"
)
_DATEISH = re.compile(r"\b\d{1,4}[./-]\d{1,2}(?:[./-]\d{1,4})?\b|\b\d{1,2}:\d{2}(?::\d{2})?\b")
_REF = re.compile(r"\b(?=[a-z0-9-]*\d)[a-z0-9-]{6,}\b|#\s*\d+")


@functools.lru_cache(maxsize=1 << 16)  # payees repeat; the regexes are the costly part of a row
def normalise_description(text: str) -> str:
    """Casefold, drop card numbers, dates, times and reference ids, collapse spaces (for fingerprints)."""
    s = text.casefold()
    s = _CARD.sub(" ", s)
    s = _DATEISH.sub(" ", s)
    s = _REF.sub(" ", s)
    s = re.sub(r"[^\w&@.+]+|_", " ", s)
    s = re.sub(r"(?<!\w)[.+]|[.+](?!\w)", " ", s)
    return " ".join(s.split())


def preview(
    opener: Opener,
    *,
    source: str = "<csv>",
    preset: str | ColumnPreset | None = None,
    column_map: dict[str, str] | None = None,
    account_type: str = "checking",
    default_currency: str = "USD",
    limit: int | None = 50,
    date_order_fallback: tuple[str, str] | None = None,
    role_fallback: Previous = (),
    sign_fallback: SignAnswers = (),
) -> dict[str, Any]:
    """{'format': {...}, 'rows': [{'date', 'amount', 'description'}], 'skipped': [{'line', 'reason'}]}.

    At most `limit` rows and `limit` skipped entries (None = all); reading stops once rows are full."""
    fmt = detect_format(
        opener,
        source=source,
        preset=preset,
        column_map=column_map,
        account_type=account_type,
        default_currency=default_currency,
        date_order_fallback=date_order_fallback,
        role_fallback=role_fallback,
        sign_fallback=sign_fallback,
    )
    rows, skipped = _preview_rows(opener, fmt, source, limit)
    return {"format": fmt.to_dict(), "rows": rows, "skipped": skipped}


def _preview_rows(
    opener: Opener, fmt: StatementFormat, source: str, limit: int | None
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The first `limit` rows and skipped entries of the file read with `fmt` (None = all)."""
    rows: list[dict[str, str]] = []
    skipped: list[dict[str, Any]] = []
    for item in read_statement(opener, fmt, source=source):
        if isinstance(item, SkippedRow):
            if limit is None or len(skipped) < limit:
                skipped.append({"line": item.line, "reason": item.reason})
            continue
        if limit is not None and len(rows) >= limit:
            break
        amount = format_minor(item.amount_minor, item.currency)
        rows.append({"date": item.date.isoformat(), "amount": amount, "description": item.description})
    return rows, skipped
