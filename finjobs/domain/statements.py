"""Bank-statement CSV reader: detect a file's format, then stream it as signed rows or skipped rows.
Pure: standard library (csv, codecs, io, decimal, datetime, re) only; reads bytes from an opener.

Streaming: `opener()` is called more than once (detection: a byte pass confirming UTF-8, a 64 KiB
sample, one CSV pass over every record; then one pass per read); each pass pulls bounded chunks, so
memory stays constant however long the file is. Sign convention: negative = money leaving the account.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import functools
import io
import re
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import IO, Any, NamedTuple

from finjobs.domain import statement_vocab as vocab
from finjobs.domain.money import format_minor, from_minor, to_minor
from finjobs.domain.statement_roles import RoleChoice, check_balance, infer_roles
from finjobs.domain.statements_values import (
    DATE_ORDERS,
    amount_shape,
    currency_code,
    date_shape,
    direction_of,
    norm_name,
)
from finjobs.errors import InputError

__all__ = [
    "PRESETS",
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

Opener = Callable[[], IO[bytes]]
ROLES = ("date", "description", "amount", "debit", "credit", "direction", "currency", "balance", "category")
ACCOUNT_TYPES = ("checking", "savings", "credit")
DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 64 * 1024
_SAMPLE_RECORDS = 200
_MAX_LINE = 1 << 20  # a "line" longer than 1 MiB is not a bank statement; stop before it eats memory
_CHUNK = 1 << 16
_SETTLED_AFTER = 20_000


# ================================================================ public values


@dataclass(frozen=True)
class StatementFormat:
    """Everything detection decided about one file; JSON-able via to_dict()/from_dict()."""

    encoding: str
    delimiter: str
    header_line: int | None  # 1-based physical line of the header record; None when headerless
    data_start_line: int  # 1-based physical line where data records start
    columns: dict[str, list[str | int]]  # role -> header names (or 0-based indexes when headerless)
    date_order: str  # "DMY" | "MDY" | "YMD"
    decimal_sep: str  # "." | ","
    sign_rule: str  # "amount" | "amount_flipped(credit)" | "debit_credit" | "direction:<col>"
    currency: str  # used when a row names no currency
    evidence: dict[str, str] = field(default_factory=dict)  # role -> why that column was chosen
    open_questions: list[str] = field(default_factory=list)  # what the file itself could not decide
    assumptions: list[str] = field(default_factory=list)  # how each open question was answered

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StatementFormat:
        try:
            fmt = cls(
                encoding=str(data["encoding"]),
                delimiter=str(data["delimiter"]),
                header_line=None if data["header_line"] is None else int(data["header_line"]),
                data_start_line=int(data["data_start_line"]),
                columns={str(k): list(v) for k, v in dict(data["columns"]).items()},
                date_order=str(data["date_order"]),
                decimal_sep=str(data["decimal_sep"]),
                sign_rule=str(data["sign_rule"]),
                currency=str(data["currency"]),
                evidence={str(k): str(v) for k, v in dict(data.get("evidence") or {}).items()},
                open_questions=[str(q) for q in data.get("open_questions") or []],
                assumptions=[str(a) for a in data.get("assumptions") or []],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"not a statement format: {exc}") from exc
        _check_format(fmt)
        return fmt


class StatementRow(NamedTuple):
    line: int  # 1-based physical line where the record starts (CR-only files too)
    date: datetime.date
    amount_minor: int  # signed, negative = money out
    currency: str
    description: str
    balance_minor: int | None = None
    category: str | None = None
    ref: str | None = None  # the bank's own id of the entry (OFX FITID, CAMT AcctSvcrRef/NtryRef)


class SkippedRow(NamedTuple):
    line: int
    reason: str


@dataclass(frozen=True)
class ColumnPreset:
    """A saved column mapping (role -> header names) plus the choices detection should not guess."""

    name: str
    columns: dict[str, list[str]]
    account_type: str | None = None
    date_order: str | None = None
    decimal_sep: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    currency: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnPreset:
        try:
            columns = {
                str(k): [str(n) for n in (v if isinstance(v, list) else [v])]
                for k, v in data["columns"].items()
            }
            preset = cls(
                name=str(data["name"]),
                columns=columns,
                **{k: (None if data.get(k) is None else str(data[k])) for k in _PRESET_OPTIONS},
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"not a column preset: {exc}") from exc
        _check_roles(preset.columns, source=preset.name)
        if preset.account_type is not None and preset.account_type not in ACCOUNT_TYPES:
            raise InputError(f"account_type must be one of {', '.join(ACCOUNT_TYPES)}", source=preset.name)
        if preset.date_order is not None and preset.date_order not in DATE_ORDERS:
            raise InputError(f"date_order must be one of {', '.join(DATE_ORDERS)}", source=preset.name)
        if preset.decimal_sep is not None and preset.decimal_sep not in ".,":
            raise InputError("decimal_sep must be '.' or ','", source=preset.name)
        return preset


_PRESET_OPTIONS = ("account_type", "date_order", "decimal_sep", "delimiter", "encoding", "currency")

PRESETS: dict[str, ColumnPreset] = {
    p.name: p
    for p in (
        # Amazon order history: totals are purchases (money out), so it reads like a card.
        ColumnPreset(
            "amazon",
            {"date": ["date"], "amount": ["total"], "description": ["items"]},
            account_type="credit",
            date_order="YMD",
        ),
        ColumnPreset(
            "mint",
            {
                "date": ["Date"],
                "amount": ["Amount"],
                "direction": ["Transaction Type"],
                "description": ["Description"],
                "category": ["Category"],
            },
            date_order="MDY",
        ),
        ColumnPreset(
            "schwab_checking",
            {
                "date": ["Date"],
                "debit": ["Withdrawal"],
                "credit": ["Deposit"],
                "description": ["Description"],
                "balance": ["RunningBalance"],
            },
            date_order="MDY",
            decimal_sep=".",
            currency="USD",
        ),
        # PC Financial Mastercard: charges are positive.
        ColumnPreset(
            "pcmastercard",
            {"date": ["Date"], "amount": ["Amount"], "description": ["Merchant Name"]},
            account_type="credit",
            date_order="MDY",
        ),
        ColumnPreset(
            "amex",
            {
                "date": ["Date"],
                "amount": ["Amount"],
                "description": ["Description"],
                "category": ["Category"],
            },
            account_type="credit",
            date_order="MDY",
        ),
        ColumnPreset(
            "payoneer",
            {
                "date": ["Transaction Date"],
                "debit": ["Debit Amount"],
                "credit": ["Credit Amount"],
                "description": ["Description"],
                "currency": ["Currency"],
                "balance": ["Running Balance"],
            },
            date_order="MDY",
        ),
        ColumnPreset(
            "gls",
            {
                "date": ["Buchungstag"],
                "amount": ["Betrag"],
                "description": ["Auftraggeber/Empfänger", "Buchungstext"] + [f"VWZ{i}" for i in range(1, 15)],
                "balance": ["Kontostand"],
                "currency": ["Währung"],
            },
            date_order="DMY",
            decimal_sep=",",
            delimiter=";",
            encoding="cp1252",
            currency="EUR",
        ),
    )
}


def parse_column_map(text: str) -> dict[str, str]:
    """'date=Buchungstag,amount=Betrag' -> {'date': 'Buchungstag', 'amount': 'Betrag'} (the --map option).

    A role may repeat to combine columns: 'description=Name,description=Memo' -> 'Name|Memo'."""
    out: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        role, eq, name = part.partition("=")
        role, name = role.strip().lower(), name.strip()
        if not eq or not role or not name:
            raise InputError(f"column map entry {part.strip()!r} is not role=column", source="--map")
        if role not in ROLES:
            raise InputError(f"unknown role {role!r} (known: {', '.join(ROLES)})", source="--map")
        out[role] = f"{out[role]}|{name}" if role in out else name
    if not out:
        raise InputError("column map is empty", source="--map")
    return out


# ================================================================ reading bytes


def _open(opener: Opener, source: str) -> IO[bytes]:
    try:
        return opener()
    except OSError as exc:
        raise InputError(f"cannot open: {exc}", source=source) from exc


def _detect_encoding(opener: Opener, source: str) -> str:
    stream = _open(opener, source)
    try:
        head = stream.read(_SAMPLE_BYTES)
        if not head:
            raise InputError("file is empty", source=source)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        even, odd = head[0::2], head[1::2]
        if len(head) >= 4 and head.count(0) >= len(head) // 4:
            # Mostly-ASCII UTF-16 has a NUL in every other byte; which half tells the byte order.
            return "utf-16-le" if odd.count(0) > even.count(0) else "utf-16-be"
        # UTF-8 must hold for the whole file, not just the head: check every byte once, streaming.
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk = head
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = stream.read(_CHUNK)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
        return "utf-8"
    finally:
        stream.close()


def _lines(stream: IO[bytes], encoding: str, source: str) -> Generator[str, None, None]:
    """Physical lines (LF, CRLF or CR) of the decoded stream, NULs dropped, each at most 1 MiB."""
    # cp1252 leaves five bytes undefined; a stray one should not sink the file, so undecodable bytes
    # become U+FFFD everywhere (encoding itself was chosen from the whole file).
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    number = 0
    try:
        while True:
            line = text.readline(_MAX_LINE)
            if not line:
                return
            number += 1
            if len(line) >= _MAX_LINE and not line.endswith(("\n", "\r")):
                raise InputError("line is longer than 1 MiB: not a CSV statement", source=source, line=number)
            if number == 1 and line.startswith("\ufeff"):
                line = line[1:]
            yield line.replace("\x00", "") if "\x00" in line else line
    finally:
        # Leave the byte stream to its owner (_records closes it); a wrapper dropped later must not.
        if not stream.closed:
            text.detach()


def _records(opener: Opener, encoding: str, delimiter: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """(start line, fields) for every CSV record, blank ones included (as [])."""
    stream = _open(opener, source)
    lines = _lines(stream, encoding, source)
    try:
        reader = csv.reader(lines, delimiter=delimiter)
        last = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(f"unreadable CSV: {exc}", source=source, line=last + 1) from exc
            yield last + 1, row
            last = reader.line_num
    finally:
        lines.close()
        stream.close()


def _sample_text(opener: Opener, encoding: str, source: str) -> str:
    stream = _open(opener, source)
    try:
        text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
        sample = text.read(_SAMPLE_BYTES)
        more = bool(text.read(1))
        text.detach()
    finally:
        stream.close()
    sample = sample.lstrip("\ufeff").replace("\x00", "")
    if more:
        cut = max(sample.rfind("\n"), sample.rfind("\r"))
        if cut > 0:
            sample = sample[: cut + 1]
    return sample


def _parse_sample(sample: str, delimiter: str) -> list[tuple[int, list[str]]]:
    out: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    last = 0
    try:
        for row in reader:
            out.append((last + 1, row))
            last = reader.line_num
            if len(out) >= _SAMPLE_RECORDS:
                break
    except csv.Error:
        pass  # a sample cut inside a quoted field; what was read so far still counts
    return out


def _pick_delimiter(sample: str, source: str) -> tuple[str, list[tuple[int, list[str]]]]:
    best: tuple[tuple[int, int, int, int], str, list[tuple[int, list[str]]]] | None = None
    for delim in DELIMITERS:
        records = _parse_sample(sample, delim)
        counts = Counter(len(r) for _, r in records if len(r) >= 2)
        if not counts:
            continue
        width, hits = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        dated = sum(1 for _, r in records if len(r) == width and any(date_shape(c) for c in r))
        # csv.Sniffer picks ',' in '1.234,56;...' files. Check each candidate against the rows instead:
        # the right split puts a whole date in a cell of many same-width records.
        key = (dated, hits, width, -DELIMITERS.index(delim))
        if best is None or key > best[0]:
            best = (key, delim, records)
    if best is None:
        raise InputError("no delimiter found: the file does not split into columns", source=source)
    return best[1], best[2]


# ================================================================ header and roles


def _header_score(row: list[str]) -> int:
    names = [norm_name(c) for c in row]
    if any(date_shape(c) is not None or _is_amount(c) for c in row if c.strip()):
        return 0
    return sum(1 for n in names if n and any(vocab.score(r, n) >= 5 for r in ROLES))


def _is_amount(raw: str) -> bool:
    shape = amount_shape(raw)
    return shape is not None and (shape.value(".") is not None or shape.value(",") is not None)


@dataclass
class _ColumnStats:
    """What the sample says about one column's values."""

    filled: int = 0
    dates: int = 0
    amounts: int = 0
    negatives: int = 0
    directions: int = 0
    currencies: int = 0
    decimals: int = 0  # amounts with a decimal separator
    text: int = 0
    length: int = 0
    symbols: Counter[str] = field(default_factory=Counter)

    def add(self, raw: str) -> None:
        s = raw.strip()
        if not s:
            return
        self.filled += 1
        self.length += len(s)
        if date_shape(s) is not None:
            self.dates += 1
        shape = amount_shape(s)
        if shape is not None and (shape.value(".") is not None or shape.value(",") is not None):
            self.amounts += 1
            self.negatives += shape.negative
            self.decimals += shape.decimal_vote() is not None or "." in shape.body or "," in shape.body
            if shape.currency:
                self.symbols[shape.currency] += 1
        if direction_of(s) is not None:
            self.directions += 1
        if currency_code(s) is not None and s.isalpha():
            self.currencies += 1
        if date_shape(s) is None and shape is None:
            self.text += 1

    def share(self, n: int) -> float:
        return n / self.filled if self.filled else 0.0


def _column_stats(rows: list[list[str]], width: int) -> list[_ColumnStats]:
    stats = [_ColumnStats() for _ in range(width)]
    for row in rows:
        for i, cell in enumerate(row[:width]):
            stats[i].add(cell)
    return stats


def _find_header(
    records: list[tuple[int, list[str]]], width: int, wanted: list[str]
) -> tuple[int, list[str]] | None:
    if wanted:
        folded = {norm_name(w) for w in wanted}
        for line, row in records[:60]:
            names = {norm_name(c) for c in row}
            if folded <= names:
                return line, row
        return None
    for line, row in records[:40]:
        if len(row) >= max(2, width // 2) and _header_score(row) >= 2:
            return line, row
    # A header with words we do not know: the first full-width row without a date, followed by dated rows.
    full = [(ln, r) for ln, r in records[:40] if len(r) >= max(2, width - 1)]
    if len(full) >= 2:
        (line, row), rest = full[0], full[1:6]
        if (
            not any(date_shape(c) or _is_amount(c) for c in row if c.strip())
            and rest
            and all(any(date_shape(c) for c in r) for _, r in rest)
        ):
            return line, row
    return None


def _resolve_name(header: list[str], name: str, source: str) -> int:
    for i, h in enumerate(header):
        if h.strip() == name.strip():
            return i
    key = norm_name(name)
    for i, h in enumerate(header):
        if norm_name(h) == key:
            return i
    raise InputError(f"column {name!r} not found in the header", source=source)


class _Picker:
    """Role -> column indexes for a file with a header: wanted roles as given, the rest by header name
    (the vocabulary table), checked against what the values look like."""

    def __init__(self, header: list[str] | None, stats: list[_ColumnStats], mapped: dict[str, list[int]]):
        self.stats, self.width = stats, len(stats)
        self.names = [norm_name(h) for h in header] if header else [""] * self.width
        self.roles: dict[str, list[int]] = {r: list(ix) for r, ix in mapped.items()}
        self.used = {i for ix in self.roles.values() for i in ix}

    def free(self, i: int) -> bool:
        return i not in self.used

    def best(self, role: str, ok: Callable[[int], bool], minimum: int = 5) -> int | None:
        scored = [(vocab.score(role, self.names[i]), -i) for i in range(self.width) if self.free(i) and ok(i)]
        scored = [s for s in scored if s[0] >= minimum]
        return -max(scored)[1] if scored else None

    def take(self, role: str, i: int | None) -> None:
        if i is not None:
            self.roles.setdefault(role, []).append(i)
            self.used.add(i)

    def datey(self, i: int) -> bool:
        s = self.stats[i]
        return s.dates > 0 and s.share(s.dates) >= 0.5

    def moneyish(self, i: int) -> bool:
        s = self.stats[i]
        return s.filled == 0 or s.share(s.amounts) >= 0.5

    def moneyful(self, i: int) -> bool:
        return self.stats[i].amounts > 0 and self.moneyish(i)

    def date(self, by_name: bool) -> None:
        if "date" not in self.roles and by_name:
            self.take("date", self.best("date", self.datey))
        if "date" not in self.roles:
            dated = (i for i in range(self.width) if self.free(i) and self.datey(i))
            self.take(
                "date", next((i for i in dated if self.stats[i].share(self.stats[i].dates) >= 0.8), None)
            )

    def money(self, n_rows: int) -> None:
        if any(r in self.roles for r in ("amount", "debit", "credit")):
            return
        debit, credit = self.best("debit", self.moneyish), self.best("credit", self.moneyish)
        amount = self.best("amount", self.moneyful)
        amount_score = vocab.score("amount", self.names[amount]) if amount is not None else 0
        if debit is not None and credit is not None and debit != credit and amount_score < 10:
            self.take("debit", debit)
            self.take("credit", credit)
        else:
            self.take("amount", amount)
        if not any(r in self.roles for r in ("amount", "debit", "credit")):
            _money_from_values(self.stats, n_rows, self.used, self.take)

    def direction(self) -> None:
        if "direction" in self.roles or "amount" not in self.roles:
            return
        if self.stats[self.roles["amount"][0]].negatives == 0:

            def dir_ok(i: int) -> bool:
                s = self.stats[i]
                return s.directions > 0 and s.share(s.directions) >= 0.9

            self.take("direction", self.best("direction", dir_ok))

    def others(self) -> None:
        def cur(i: int) -> bool:
            s = self.stats[i]
            return s.currencies > 0 and s.share(s.currencies) >= 0.9

        for role, ok in (("balance", self.moneyful), ("currency", cur), ("category", lambda i: True)):
            if role not in self.roles:
                self.take(role, self.best(role, ok))
        if "description" not in self.roles:
            _description_columns(self.names, self.stats, self.free, self.take, True)


def _assign_roles(
    header: list[str] | None, stats: list[_ColumnStats], mapped: dict[str, list[int]], n_rows: int
) -> dict[str, list[int]]:
    """Role -> column indexes: mapped roles as given, the rest from header names, then from values.
    Headerless files get only their date here; statement_roles.infer_roles weighs the rest."""
    picker = _Picker(header, stats, mapped)
    picker.date(by_name=header is not None)
    if header is not None:
        picker.money(n_rows)
        picker.direction()
        picker.others()
    return picker.roles


def _money_from_values(
    stats: list[_ColumnStats], rows: int, used: set[int], take: Callable[[str, int | None], None]
) -> None:
    """Headerless money columns: prefer columns with decimals; two half-filled ones are debit/credit."""
    cands = [
        i
        for i, s in enumerate(stats)
        if i not in used and s.amounts and s.share(s.amounts) >= 0.8 and s.dates < s.amounts and s.decimals
    ]
    if not cands:
        cands = [i for i, s in enumerate(stats) if i not in used and s.amounts and s.share(s.amounts) >= 0.8]
    if not cands:
        return
    if len(cands) >= 2:
        a, b = stats[cands[0]], stats[cands[1]]
        # Two unsigned columns that are never both filled are withdrawals and deposits.
        if not a.negatives and not b.negatives and a.filled + b.filled <= rows and a.filled < rows > b.filled:
            take("debit", cands[0])
            take("credit", cands[1])
            if len(cands) >= 3:
                take("balance", cands[2])
            return
    take("amount", cands[0])
    if len(cands) >= 2:
        take("balance", cands[-1])


def _description_columns(
    names: list[str],
    stats: list[_ColumnStats],
    free: Callable[[int], bool],
    take: Callable[[str, int | None], None],
    has_header: bool,
) -> None:
    width = len(stats)
    if has_header:
        payees = [i for i in range(width) if free(i) and names[i] in vocab.PAYEE_NAMES]
        primary = [
            i
            for i in range(width)
            if free(i) and names[i] in vocab.DESC_PRIMARY and names[i] not in vocab.DESC_MEMO
        ]
        memos = [
            i
            for i in range(width)
            if free(i) and (names[i] in vocab.DESC_MEMO or vocab.DESC_EXTRA.fullmatch(names[i]))
        ]
        # Payee first, then the main description, then memo lines: "Drillisch AG SEPA-Lastschrift Rechnung".
        chosen = list(dict.fromkeys(payees + primary[:1] + memos))
        if not chosen:
            weak = [(vocab.score("description", names[i]), -i) for i in range(width) if free(i)]
            weak = [w for w in weak if w[0] >= 5]
            if weak:
                chosen = [-max(weak)[1]]
        for i in chosen:
            take("description", i)
        if chosen:
            return
    texty = [i for i in range(width) if free(i) and stats[i].text and stats[i].share(stats[i].text) >= 0.6]
    if texty:
        take("description", texty[0])


# ================================================================ detection


def _check_roles(columns: dict[str, Any], *, source: str) -> None:
    unknown = set(columns) - set(ROLES)
    if unknown:
        raise InputError(f"unknown column role(s): {', '.join(sorted(unknown))}", source=source)


def _check_format(fmt: StatementFormat) -> None:
    if fmt.date_order not in DATE_ORDERS or fmt.decimal_sep not in (".", ","):
        raise InputError("statement format has a bad date_order or decimal_sep")
    if "date" not in fmt.columns:
        raise InputError("statement format has no date column")
    _check_roles(fmt.columns, source="format")
    try:
        codecs.lookup(fmt.encoding)
    except LookupError as exc:
        raise InputError(f"unknown encoding {fmt.encoding!r}") from exc


@dataclass(frozen=True)
class _Request:
    """The caller's choices: the preset, the wanted columns (role -> header names or indexes)."""

    preset: ColumnPreset | None
    wanted: dict[str, list[str]]
    account_type: str
    by_index: bool  # every wanted column is given as a 0-based index

    @property
    def named(self) -> list[str]:
        return [] if self.by_index else [n for ns in self.wanted.values() for n in ns]


@dataclass(frozen=True)
class Sniffed:
    """Stage 1: the encoding, the delimiter and the sample's records and usual width."""

    encoding: str
    delimiter: str
    records: list[tuple[int, list[str]]]
    width: int


@dataclass(frozen=True)
class HeaderSpot:
    """Stage 2: where the header is (None: headerless), the sampled data rows and where data starts."""

    header_line: int | None
    header: list[str] | None
    data: list[list[str]]
    start: int
    width: int


@dataclass(frozen=True)
class Roles:
    """Stage 3: role -> column indexes, and the content evidence (headerless files)."""

    columns: dict[str, list[int]]
    stats: list[_ColumnStats]
    choice: RoleChoice | None


@dataclass(frozen=True)
class Scanned:
    """Stage 4: what one pass over every value decided."""

    date_order: str
    decimal_sep: str
    symbols: Counter[str]
    open_questions: list[str]
    assumptions: list[str]


def _request(
    preset: str | ColumnPreset | None, column_map: dict[str, str] | None, account_type: str, source: str
) -> _Request:
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
    wanted: dict[str, list[str]] = {}
    if preset is not None:
        wanted.update({r: list(n) for r, n in preset.columns.items()})
    if column_map:
        _check_roles(column_map, source=source)
        wanted.update({r: [n for n in str(v).split("|") if n.strip()] for r, v in column_map.items()})
    by_index = bool(wanted) and all(n.strip().isdigit() for ns in wanted.values() for n in ns)
    return _Request(preset, wanted, account_type, by_index)


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
    return Sniffed(encoding, delimiter, records, width)


def locate_header(sniffed: Sniffed, named: list[str], source: str) -> HeaderSpot:
    """The header record (by the wanted names, else by vocabulary), or the first dated row when none."""
    records, width = sniffed.records, sniffed.width
    found = _find_header(records, width, named)
    if named and found is None:
        missing = ", ".join(repr(n) for n in named)
        raise InputError(f"header with column(s) {missing} not found", source=source)
    if found is not None:
        header_line, header = found[0], [c.strip() for c in found[1]]
        data = [
            r
            for ln, r in records
            if ln > header_line and any(c.strip() for c in r) and [c.strip() for c in r] != header
        ]
        start = next((ln for ln, _ in records if ln > header_line), header_line + 1)
        return HeaderSpot(header_line, header, data, start, len(header))  # cells past it have no name
    start_rec = next(
        ((ln, r) for ln, r in records if len(r) >= max(2, width - 1) and any(date_shape(c) for c in r)),
        None,
    )
    if start_rec is None:
        raise InputError("no date column found (no header and no row with a date)", source=source)
    data = [r for ln, r in records if ln >= start_rec[0] and any(c.strip() for c in r)]
    return HeaderSpot(None, None, data, start_rec[0], width)


def assign_roles(spot: HeaderSpot, request: _Request, source: str) -> Roles:
    """Wanted columns as given; the rest from header names, or from content evidence when headerless."""
    stats = _column_stats(spot.data, spot.width)
    mapped: dict[str, list[int]] = {}
    for role, names in request.wanted.items():
        idx = [int(n) if request.by_index else _resolve_name(spot.header or [], n, source) for n in names]
        if any(i >= spot.width for i in idx):
            raise InputError(f"column index out of range for role {role!r}", source=source)
        mapped[role] = idx
    roles = _assign_roles(spot.header, stats, mapped, len(spot.data))
    choice: RoleChoice | None = None
    if spot.header is None:
        fixed = {r: ix for r, ix in roles.items() if r in mapped or r == "date"}
        choice = infer_roles(spot.data, spot.width, fixed)
        roles = choice.roles
    elif (held := check_balance(spot.data, roles)) is not None:
        choice = RoleChoice(roles, {"balance": held})
    if "date" not in roles:
        raise InputError("no date column found", source=source)
    if not any(r in roles for r in ("amount", "debit", "credit")):
        raise InputError("no amount column found", source=source)
    return Roles(roles, stats, choice)


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
    date_order, decimal_sep, symbols = found
    preset = request.preset
    questions = list(roles.choice.open_questions) if roles.choice else []
    assumptions: list[str] = []
    if date_order.endswith("?"):
        date_order, answer = _answer_date_order(date_order[:-1], preset, fallback)
        questions.append("every date fits both day-first and month-first")
        assumptions.append(answer)
    elif preset and preset.date_order:
        date_order = preset.date_order
    if preset and preset.decimal_sep:
        decimal_sep = preset.decimal_sep
    return Scanned(date_order, decimal_sep, symbols, questions, assumptions)


def pick_currency(
    spot: HeaderSpot, roles: Roles, scanned: Scanned, preset: ColumnPreset | None, default: str
) -> str:
    """The preset's currency, else a code in the money column's header, else the rows' symbols."""
    header, cols = spot.header, roles.columns
    header_codes = [
        code
        for i in cols.get("amount", []) + cols.get("debit", [])
        if header and (code := vocab.currency_word(norm_name(header[i]).rpartition(" ")[2]))
    ]
    if preset and preset.currency:
        return preset.currency
    if header_codes:
        return header_codes[0]
    if scanned.symbols:
        return scanned.symbols.most_common(1)[0][0]
    return default.upper()


def sign_rule(spot: HeaderSpot, roles: Roles, account_type: str) -> str:
    """debit_credit, direction:<column>, amount_flipped(credit) (a card, or a balance proving it), amount."""
    cols = roles.columns
    if "debit" in cols or "credit" in cols:
        return "debit_credit"
    if "direction" in cols:
        return "direction:" + (
            spot.header[cols["direction"][0]] if spot.header else str(cols["direction"][0])
        )
    if (account_type == "credit") != bool(roles.choice and roles.choice.flipped):
        return "amount_flipped(credit)"
    return "amount"


def detect_format(
    opener: Opener,
    *,
    source: str = "<csv>",
    preset: str | ColumnPreset | None = None,
    column_map: dict[str, str] | None = None,
    account_type: str = "checking",
    default_currency: str = "USD",
    date_order_fallback: tuple[str, str] | None = None,
) -> StatementFormat:
    """Decide encoding, delimiter, header, column roles, date order, decimal separator and sign rule.

    A preset or column map (role -> header name, '|' joins several names) overrides name detection;
    account_type='credit' flips a single signed amount column (card exports list charges positive).
    date_order_fallback=(order, where from) answers dates the file leaves ambiguous (a previous import of
    the account, the locale); the answer is recorded in `assumptions`."""
    request = _request(preset, column_map, account_type, source)
    sniffed = sniff(opener, request.preset, source)
    spot = locate_header(sniffed, request.named, source)
    roles = assign_roles(spot, request, source)
    scanned = scan_values(opener, sniffed, spot, roles, request, date_order_fallback, source)
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
        sign_rule=sign_rule(spot, roles, request.account_type),
        currency=pick_currency(spot, roles, scanned, request.preset, default_currency),
        evidence=_evidence(header, roles.columns, roles.stats, request, roles.choice),
        open_questions=scanned.open_questions,
        assumptions=scanned.assumptions,
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
    header: list[str] | None,
    roles: dict[str, list[int]],
    stats: list[_ColumnStats],
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


def _scan_columns(
    opener: Opener,
    encoding: str,
    delimiter: str,
    start: int,
    roles: dict[str, list[int]],
    source: str,
) -> tuple[str, str, Counter[str]]:
    """One streaming pass: date order from every date value; decimal separator and the currencies the
    rows name (currency column, symbols, codes) from every amount until 20,000 rows agree unanimously."""
    date_col = roles["date"][0]
    cur_col = roles["currency"][0] if "currency" in roles else -1
    money = (
        roles.get("amount", []) + roles.get("debit", []) + roles.get("credit", []) + roles.get("balance", [])
    )
    no_dmy = no_mdy = numeric = seen = 0
    seps: Counter[str] = Counter()
    votes: Counter[str] = Counter()
    symbols: Counter[str] = Counter()
    dates: Counter[str] = Counter()  # each distinct value is judged once, weighted by its count

    def judge_dates() -> None:
        nonlocal numeric, no_dmy, no_mdy
        for raw, n in dates.items():
            shape = date_shape(raw)
            if shape is not None and shape.fixed is None:
                numeric += n
                seps[shape.sep] += n
                no_dmy += n * (not shape.fits("DMY"))
                no_mdy += n * (not shape.fits("MDY"))
        dates.clear()

    for line, row in _records(opener, encoding, delimiter, source):
        if line < start:
            continue
        if date_col < len(row):
            dates[row[date_col]] += 1
            if len(dates) > 4096:  # timestamps are all distinct: keep the tally bounded
                judge_dates()
        seen += 1
        if seen > _SETTLED_AFTER and len(votes) <= 1 and len(symbols) <= 1:
            continue  # money is settled: 20,000 unanimous rows cannot be outvoted by what is left in practice
        for i in money:
            if i < len(row) and (amt := amount_shape(row[i])) is not None:
                if vote := amt.decimal_vote():
                    votes[vote] += 1
                if amt.currency:
                    symbols[amt.currency] += 1
        if 0 <= cur_col < len(row) and (code := currency_code(row[cur_col])):
            symbols[code] += 1
    judge_dates()
    decimal_sep = "," if votes[","] > votes["."] else "."
    return _date_order(numeric, no_dmy, no_mdy, seps, decimal_sep), decimal_sep, symbols


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
    "saldo",
    "balance",
    "kontostand",
    "solde",
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


def read_statement(
    opener: Opener, fmt: StatementFormat, *, source: str = "<csv>", balances: bool = True
) -> Iterator[StatementRow | SkippedRow]:
    """Stream every data record as a StatementRow or a SkippedRow (with the reason), in file order.

    Lines before data_start_line (preamble, header) and blank records are not data and are not yielded.
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
        yield parse(line, row)


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


def _row_parser(  # noqa: C901 -- the hot row parser: one closure, no calls per cell
    roles: dict[str, list[int]], fmt: StatementFormat, balances: bool
) -> Callable[[int, list[str]], StatementRow | SkippedRow]:
    """The row function for one file, its column positions and rules bound once (the hot loop of an
    import: a million calls)."""
    money_cols = {i for r in ("amount", "debit", "credit", "balance") for i in roles.get(r, [])}
    date_i = roles["date"][0]
    order, sep, default_ccy = fmt.date_order, fmt.decimal_sep, fmt.currency
    flip = fmt.sign_rule == "amount_flipped(credit)"
    ccy_i = roles["currency"][0] if "currency" in roles else None
    split = [(roles[r][0], sign) for r, sign in (("debit", -1), ("credit", 1)) if r in roles]
    amount_i = roles["amount"][0] if not split else -1
    dir_i = roles["direction"][0] if "direction" in roles else None
    bal_i = roles["balance"][0] if balances and "balance" in roles else None
    desc_cols = roles.get("description", [])
    cat_i = roles["category"][0] if "category" in roles else None

    def cell(row: list[str], i: int) -> str:
        return row[i].strip() if i < len(row) else ""

    def parse(line: int, row: list[str]) -> StatementRow | SkippedRow:  # noqa: C901 -- hot path
        for i, raw in enumerate(row):
            if i not in money_cols and (reason := _trailer_cell(raw)):
                return SkippedRow(line, reason)
        raw_date = cell(row, date_i)
        date = _date_value(raw_date, order)
        if date is None:
            return SkippedRow(line, f"date {raw_date!r} is not a date" if raw_date else "no date")
        currency = default_ccy
        if ccy_i is not None and (code := currency_code(cell(row, ccy_i))):
            currency = code
        symbol_ccy: str | None = None
        if split:
            amount = Decimal(0)
            seen = False
            for i, sign in split:
                if not (raw := cell(row, i)):
                    continue
                if (got := _money_value(raw, sep)) is None:
                    return SkippedRow(line, f"amount {raw!r} is not a number")
                seen = True
                amount += sign * abs(got[0])
                symbol_ccy = symbol_ccy or got[1]
            if not seen:
                return SkippedRow(line, "no amount")
        else:
            if not (raw := cell(row, amount_i)):
                return SkippedRow(line, "no amount")
            if (got := _money_value(raw, sep)) is None:
                return SkippedRow(line, f"amount {raw!r} is not a number")
            amount, symbol_ccy = got
            if dir_i is not None:
                raw_dir = cell(row, dir_i)
                if (direction := direction_of(raw_dir)) is None:
                    return SkippedRow(line, f"direction {raw_dir!r} is neither debit nor credit")
                amount = direction * abs(amount)
            elif flip:
                amount = -amount
        if ccy_i is None and symbol_ccy:
            currency = symbol_ccy
        minor = _exact_minor(amount, currency)
        if minor is None:
            return SkippedRow(line, f"amount {amount} has more decimals than {currency} allows")
        balance = None
        if bal_i is not None and (raw_bal := cell(row, bal_i)):
            amt = amount_shape(raw_bal)
            bal = amt.value(sep) if amt else None
            balance = to_minor(bal, currency) if bal is not None else None
        if len(desc_cols) == 1:
            description = " ".join(cell(row, desc_cols[0]).split())
        else:
            description = " ".join(c for i in desc_cols if (c := " ".join(cell(row, i).split())))
        category = cell(row, cat_i) if cat_i is not None else ""
        return StatementRow(line, date, minor, currency, description, balance, category or None)

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
    )
    rows: list[dict[str, str]] = []
    skipped: list[dict[str, Any]] = []
    for item in read_statement(opener, fmt, source=source):
        if isinstance(item, SkippedRow):
            if limit is None or len(skipped) < limit:
                skipped.append({"line": item.line, "reason": item.reason})
            continue
        if limit is not None and len(rows) >= limit:
            break
        rows.append(
            {
                "date": item.date.isoformat(),
                "amount": format_minor(item.amount_minor, item.currency),
                "description": item.description,
            }
        )
    return {"format": fmt.to_dict(), "rows": rows, "skipped": skipped}
