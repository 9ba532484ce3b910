"""CSV stages 2-3, locate the header and assign column roles (from header words, or from content
when headerless). Pure: stdlib only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from finjobs.domain import statement_vocab as vocab
from finjobs.domain.statement_types import ROLES
from finjobs.domain.statements_values import (
    amount_shape,
    currency_code,
    date_shape,
    direction_of,
    norm_name,
)
from finjobs.errors import InputError

# ================================================================ header and roles


def _header_score(row: Sequence[str]) -> int:
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
    credits: int = 0  # direction words that mean money in
    currencies: int = 0
    decimals: int = 0  # amounts with a decimal separator
    text: int = 0
    length: int = 0
    symbols: Counter[str] = field(default_factory=Counter)
    seen: set[str] = field(default_factory=set)  # the first few distinct values (variety, not content)

    def add(self, raw: str) -> None:
        s = raw.strip()
        if not s:
            return
        self.filled += 1
        self.length += len(s)
        if len(self.seen) < 3:
            self.seen.add(s)
        if date_shape(s) is not None:
            self.dates += 1
        shape = amount_shape(s)
        if shape is not None and (shape.value(".") is not None or shape.value(",") is not None):
            self.amounts += 1
            self.negatives += shape.negative
            self.decimals += shape.decimal_vote() is not None or "." in shape.body or "," in shape.body
            if shape.currency:
                self.symbols[shape.currency] += 1
        if (way := direction_of(s)) is not None:
            self.directions += 1
            self.credits += way > 0
        if currency_code(s) is not None and s.isalpha():
            self.currencies += 1
        if date_shape(s) is None and shape is None:
            self.text += 1

    def share(self, n: int) -> float:
        return n / self.filled if self.filled else 0.0

    def words_only(self) -> bool:
        """Every value is a direction word (DEBIT/CREDIT, Af/Bij): a sign column, never a description."""
        return self.filled > 0 and self.directions == self.filled

    def free_text(self) -> bool:
        """What a description found by content holds: not direction words, nor a flag (Ja/Nein) or a
        constant (an account number) on 4+ rows."""
        return not self.words_only() and not (self.filled >= 4 and len(self.seen) <= 2)


def _column_stats(rows: Sequence[Sequence[str]], width: int) -> list[_ColumnStats]:
    stats = [_ColumnStats() for _ in range(width)]
    for row in rows:
        for i, cell in enumerate(row[:width]):
            stats[i].add(cell)
    return stats


def _find_header(
    records: Sequence[tuple[int, Sequence[str]]], width: int, wanted: Sequence[str]
) -> tuple[int, Sequence[str]] | None:
    if wanted:
        folded = {norm_name(w) for w in wanted}
        for line, row in records[:60]:
            names = {norm_name(c) for c in row}
            if folded <= names:
                return line, row
        return None
    named = [
        k
        for k, (_, row) in enumerate(records[:40])
        if len(row) >= max(2, width // 2) and _header_score(row) >= 2
    ]
    if named:
        return _most_rows_under(records, named)
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


def _most_rows_under(
    records: Sequence[tuple[int, Sequence[str]]], named: Sequence[int]
) -> tuple[int, Sequence[str]]:
    """Of the header-like records, the one with the most dated rows under it (up to the next one): a
    preamble table with its own small header ('Umsätze ab;Enddatum;Saldo' over one row) is not the
    statement's header. Ties keep the first (a footer that repeats the header has fewer rows under it)."""

    def dated_under(j: int) -> int:
        end = named[j + 1] if j + 1 < len(named) else len(records)
        return sum(1 for _, row in records[named[j] + 1 : end] if any(date_shape(c) for c in row))

    best = max(range(len(named)), key=lambda j: (dated_under(j), -j))
    return records[named[best]]


def _resolve_name(header: Sequence[str], name: str, source: str) -> int:
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

    def __init__(self, header: Sequence[str] | None, stats: list[_ColumnStats], mapped: dict[str, list[int]]):
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
            if "direction" not in self.roles:  # a header word we do not know ('CreditDebet', 'D/K')
                self.take("direction", _direction_by_words(self.stats, self.free))
            if "direction" not in self.roles:  # a card's CR on its few credits, the rest charges
                rows = self.stats[self.roles["amount"][0]].filled
                self.take("direction", _direction_by_words(self.stats, self.free, sparse_of=rows))

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
    header: Sequence[str] | None, stats: list[_ColumnStats], mapped: dict[str, list[int]], n_rows: int
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


def _direction_by_words(
    stats: list[_ColumnStats], free: Callable[[int], bool], sparse_of: int = 0
) -> int | None:
    """A short-word column where every value is a direction word and both directions occur (D/C, Af/Bij,
    DEBIT/CREDIT): the values split the rows, whatever the header calls it. With `sparse_of` (the rows
    with an amount): a flag instead, one direction word on at most half of those rows (a card's CR)."""
    for i, s in enumerate(stats):
        words = s.filled and s.directions == s.filled and s.length <= 12 * s.filled
        split = 0 < s.credits < s.directions
        flag = s.credits in (0, s.directions) and s.filled <= 0.5 * sparse_of
        if free(i) and words and (flag if sparse_of else split):
            return i
    return None


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
    """By header name among the columns that are not direction words, else the first column of free text,
    else by name whatever the column holds."""
    texty = [i for i, s in enumerate(stats) if free(i) and s.text and s.share(s.text) >= 0.6]

    def wordy(i: int) -> bool:
        return free(i) and not stats[i].words_only()

    chosen = _named_descriptions(names, wordy) if has_header else []
    chosen = chosen or [i for i in texty if stats[i].free_text()][:1]
    chosen = chosen or (_named_descriptions(names, free) if has_header else []) or texty[:1]
    for i in chosen:
        take("description", i)


def _named_descriptions(names: list[str], ok: Callable[[int], bool]) -> list[int]:
    """Payee first, then the main description, then memo lines: "Drillisch AG SEPA-Lastschrift Rechnung"."""
    width = len(names)
    payees = [i for i in range(width) if ok(i) and names[i] in vocab.PAYEE_NAMES]
    primary = [
        i
        for i in range(width)
        if ok(i) and names[i] in vocab.DESC_PRIMARY and names[i] not in vocab.DESC_MEMO
    ]
    memos = [
        i
        for i in range(width)
        if ok(i) and (names[i] in vocab.DESC_MEMO or vocab.DESC_EXTRA.fullmatch(names[i]))
    ]
    chosen = list(dict.fromkeys(payees + primary[:1] + memos))
    if not chosen:
        weak = [(vocab.score("description", names[i]), -i) for i in range(width) if ok(i)]
        weak = [w for w in weak if w[0] >= 5]
        if weak:
            chosen = [-max(weak)[1]]
    return chosen
