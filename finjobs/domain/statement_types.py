"""CSV statement values: the detected format, rows, column presets and the --map parser (domain/statements.py
stages use them). Pure: stdlib only."""

from __future__ import annotations

import codecs
import datetime
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import IO, Any, NamedTuple

from finjobs.domain.statements_values import (
    DATE_ORDERS,
)
from finjobs.errors import InputError

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
    # "amount" | "amount_flipped(credit)" | "debit_credit" | "direction[_reversed]:<col>"
    # | "flag_credit:<col>" | "flag_debit:<col>" (a sparse flag: the blank rows go the other way)
    sign_rule: str
    currency: str  # used when a row names no currency
    evidence: dict[str, str] = field(default_factory=dict)  # role -> why that column was chosen
    open_questions: list[str] = field(default_factory=list)  # what the file itself could not decide
    assumptions: list[str] = field(default_factory=list)  # how each open question was answered
    width: int | None = None  # cells per record read (the shape); None in older logs

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
                width=None if data.get("width") is None else int(data["width"]),
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
    """Stage 0, the caller's choices: the preset, the wanted columns (role -> header names or indexes)."""

    preset: ColumnPreset | None
    wanted: Mapping[str, tuple[str, ...]]  # read-only
    account_type: str
    by_index: bool  # every wanted column is given as a 0-based index

    @property
    def named(self) -> tuple[str, ...]:
        return () if self.by_index else tuple(n for ns in self.wanted.values() for n in ns)
