"""Column roles from content, with evidence: score candidate money layouts (single amount, debit/credit
pair, running balance, direction words) on the sampled rows and keep the best. Pure: stdlib only.

Each finding carries a human string ("running balance holds on 212/212 rows") for the preview.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from finjobs.domain.statements_values import amount_shape, currency_code, date_shape, direction_of

Rows = Sequence[Sequence[str]]
Values = list[Decimal | None]
Money = dict[int, Values]


@dataclass(frozen=True)
class RoleChoice:
    """Roles chosen from content: role -> column indexes, why, the sign rule found, and what is open."""

    roles: dict[str, list[int]]
    evidence: dict[str, str]
    flipped: bool = False  # the running balance proves the amount column lists money out as positive
    open_questions: tuple[str, ...] = field(default_factory=tuple)
    assumptions: tuple[str, ...] = field(default_factory=tuple)  # how each open question was answered
    words_reversed: bool = False  # the direction words read the other way round (statement_signs decides)


# earlier choices for the same account: (role -> column indexes, cells per record, where from), newest first
Previous = Sequence[tuple[dict[str, list[int]], int | None, str]]


@dataclass(frozen=True)
class _Layout:
    score: float
    roles: dict[str, list[int]]
    evidence: dict[str, str]
    flipped: bool = False


def _cell(row: Sequence[str], i: int) -> str:
    return row[i].strip() if i < len(row) else ""


def column_values(rows: Rows, i: int) -> list[Decimal | None]:
    """Each row's money value in column i (None when empty or not a number); the decimal separator is
    the column's majority vote."""
    shapes = [amount_shape(_cell(r, i)) if _cell(r, i) else None for r in rows]
    votes = Counter(v for s in shapes if s is not None and (v := s.decimal_vote()))
    sep = "," if votes[","] > votes["."] else "."
    return [s.value(sep) if s is not None else None for s in shapes]


def money_columns(rows: Rows, width: int, used: set[int]) -> dict[int, list[Decimal | None]]:
    """Columns where at least 80% of the filled cells are amounts and fewer are dates."""
    found: dict[int, list[Decimal | None]] = {}
    for i in range(width):
        cells = [_cell(r, i) for r in rows]
        filled = [c for c in cells if c]
        if i in used or not filled:
            continue
        values = column_values(rows, i)
        amounts = sum(v is not None for v in values)
        dates = sum(date_shape(c) is not None for c in filled)
        if amounts >= 0.8 * len(filled) and dates < amounts:
            found[i] = values
    return found


def file_order(rows: Rows, roles: dict[str, list[int]]) -> int:
    """Which way the file runs, from its dates where they move: 1 oldest row first, -1 newest first,
    0 when there is no date column, the dates never move, or day-first and month-first disagree."""
    if "date" not in roles:
        return 0
    shapes = [s for r in rows if (s := date_shape(_cell(r, roles["date"][0]))) is not None]
    seen: set[int] = set()
    for order in ("DMY", "MDY"):
        dates = [d for s in shapes if (d := s.resolve(order)) is not None]
        if not dates or len(dates) < len(shapes):
            continue
        up = sum(b > a for a, b in itertools.pairwise(dates))
        down = sum(b < a for a, b in itertools.pairwise(dates))
        seen.add(1 if up >= _ORDERED * (up + down) > 0 else -1 if down >= _ORDERED * (up + down) > 0 else 0)
    return seen.pop() if len(seen) == 1 else 0


_ORDERED = 0.9  # share of the date moves that go one way for the file order to count as known


def _holds(bal: Values, amt: Values, moving: bool = False, order: int = 0) -> tuple[int, int, int]:
    """(checked, holds with +amount, holds with -amount) over consecutive rows. With the file order
    unknown (0): a balance after the row, either order. With it known (1 oldest first, -1 newest first)
    both formulas are scored apart, the balance after the row (new = old + its amount) and the balance
    before it (the next row's = this one's + this amount), and each sign counts its better formula.
    moving=True checks only rows where the balance moves (a constant column proves nothing)."""
    checked = plus = minus = 0
    after = [0, 0]  # [+amount, -amount]
    before = [0, 0]
    for k in range(1, len(bal)):
        b0, b1, a0, a1 = bal[k - 1], bal[k], amt[k - 1], amt[k]
        if b0 is None or b1 is None or a0 is None or a1 is None or (moving and b0 == b1):
            continue
        checked += 1
        plus += b1 - b0 == a1 or b0 - b1 == a0
        minus += b1 - b0 == -a1 or b0 - b1 == -a0
        step, (later, earlier) = (b1 - b0, (a1, a0)) if order >= 0 else (b0 - b1, (a0, a1))
        after[0] += step == later
        after[1] += step == -later
        before[0] += step == earlier
        before[1] += step == -earlier
    if order == 0:
        return checked, plus, minus
    return checked, max(after[0], before[0]), max(after[1], before[1])


def _pair_values(d: list[Decimal | None], c: list[Decimal | None]) -> tuple[list[Decimal | None], int]:
    """Signed amounts from a debit/credit pair and how many rows fill exactly one of the two."""
    out: list[Decimal | None] = []
    one = 0
    for dv, cv in zip(d, c, strict=True):
        dn, cn = dv is not None and dv != 0, cv is not None and cv != 0
        one += dn != cn
        out.append(-abs(dv) if dn and dv is not None else (abs(cv) if cn and cv is not None else None))
    return out, one


def _with_balance(base: _Layout, amounts: Values, money: Money, order: int) -> _Layout:
    """The base layout plus the best running-balance column among the other money columns, if any holds."""
    taken = {i for ix in base.roles.values() for i in ix}
    best = base
    for b, bal in money.items():
        if b in taken:
            continue
        checked, plus, minus = _holds(bal, amounts, order=order)
        held = max(plus, minus)
        if checked < 1 or held < 0.8 * checked:
            continue
        score = base.score + 2.0 * held / checked
        if score > best.score:
            roles = {**base.roles, "balance": [b]}
            why = f"running balance holds on {held}/{checked} rows"
            evidence = {**base.evidence, "balance": why}
            evidence = {r: (why if r in ("amount", "debit", "credit") else e) for r, e in evidence.items()}
            best = _Layout(score, roles, evidence, flipped=minus > plus)
    return best


def _layouts(rows: Rows, money: Money, signs: dict[int, list[int]], order: int) -> list[_Layout]:
    n = len(rows)
    out: list[_Layout] = []
    for a, values in money.items():
        filled = sum(v is not None for v in values)
        amounts = values
        if a in signs:  # an unsigned amount signed by a direction column
            amounts = [None if v is None else s * abs(v) for v, s in zip(values, signs[a], strict=True)]
        base = _Layout(filled / n, {"amount": [a]}, {"amount": f"amounts on {filled}/{n} rows"})
        out.append(_with_balance(base, amounts, money, order))
    for d in money:
        for c in money:
            if c <= d:
                continue
            pair, one = _pair_values(money[d], money[c])
            if one < 0.9 * n:
                continue
            why = f"each row fills one of the two on {one}/{n} rows"
            base = _Layout(1.5 * one / n, {"debit": [d], "credit": [c]}, {"debit": why, "credit": why})
            found = _with_balance(base, pair, money, order)
            if found.flipped:  # the balance says the first column is the money coming in
                roles = {**found.roles, "debit": [c], "credit": [d]}
                found = _Layout(found.score, roles, found.evidence)
            out.append(found)
    return out


def direction_column(rows: Rows, width: int, used: set[int]) -> tuple[int, list[int], str] | None:
    """A short word column (DEBIT/CREDIT, D/C, DR/CR, Af/Bij, S/H, +/-) whose values split the rows."""
    for i in range(width):
        if i not in used and (found := _direction_at(rows, i)) is not None:
            return i, found[0], found[1]
    return None


def _direction_at(rows: Rows, i: int) -> tuple[list[int], str] | None:
    cells = [_cell(r, i) for r in rows]
    filled = [c for c in cells if c]
    if not filled or sum(len(c) for c in filled) > 12 * len(filled):
        return None
    signs = [direction_of(c) or 0 for c in cells]
    known = sum(1 for s in signs if s)
    if known >= 0.9 * len(filled) and known >= 0.5 * len(rows):
        words = "/".join(sorted({c for c in filled if direction_of(c)}))[:40]
        out, into = signs.count(-1), signs.count(1)
        return signs, f"direction words {words} on {known}/{len(rows)} rows ({out} out, {into} in)"
    return None


def flag_way(rows: Rows, i: int) -> int | None:
    """Column i is a sparse direction flag (one direction word on at most half the rows, the rest
    blank): that word's direction, which the blank rows take the other way; else None."""
    filled = [c for r in rows if (c := _cell(r, i))]
    ways = {direction_of(c) for c in filled}
    if not filled or len(filled) > 0.5 * len(rows) or len(ways) != 1 or None in ways:
        return None
    return ways.pop()


def currency_column(rows: Rows, width: int, used: set[int]) -> tuple[int, str] | None:
    """A column of ISO currency codes."""
    for i in range(width):
        if i not in used and (why := _currency_at(rows, i)) is not None:
            return i, why
    return None


def _currency_at(rows: Rows, i: int) -> str | None:
    filled = [c for r in rows if (c := _cell(r, i))]
    codes = Counter(c.upper() for c in filled if c.isalpha() and len(c) == 3 and currency_code(c))
    if filled and sum(codes.values()) >= 0.9 * len(filled):
        return f"ISO currency codes on {sum(codes.values())}/{len(rows)} rows ({'/'.join(codes)})"
    return None


def description_column(rows: Rows, width: int, used: set[int]) -> tuple[int, str] | None:
    """The free-text column with the most distinct values."""
    best: tuple[int, int, str] | None = None
    for i in range(width):
        filled = [c for r in rows if (c := _cell(r, i))]
        if i in used or not filled:
            continue
        text = [c for c in filled if date_shape(c) is None and amount_shape(c) is None]
        distinct = len(set(text))
        if len(text) >= 0.6 * len(filled) and (best is None or distinct > best[1]):
            best = (i, distinct, f"free text with {distinct} distinct values in {len(rows)} rows")
    return None if best is None else (best[0], best[2])


def infer_roles(rows: Rows, width: int, fixed: dict[str, list[int]], previous: Previous = ()) -> RoleChoice:
    """Roles for the columns `fixed` leaves free, chosen from the rows' content alone; a tie between
    equally good money layouts is answered by `previous` (the account's earlier choice), else the rule."""
    roles = {r: list(ix) for r, ix in fixed.items()}
    evidence: dict[str, str] = {}
    used = {i for ix in roles.values() for i in ix}
    questions: list[str] = []
    assumptions: list[str] = []
    flipped = False
    if not rows:
        return RoleChoice(roles, evidence)
    direction = direction_column(rows, width, used) if "direction" not in roles else None
    if not any(r in roles for r in ("amount", "debit", "credit")):
        money = money_columns(rows, width, used | ({direction[0]} if direction else set()))
        signs: dict[int, list[int]] = {}
        if direction is not None:
            signs = {a: direction[1] for a, v in money.items() if not any(x is not None and x < 0 for x in v)}
        layouts = sorted(_layouts(rows, money, signs, file_order(rows, roles)), key=lambda lay: -lay.score)
        if layouts:
            top = layouts[0]
            if len(layouts) > 1 and layouts[1].score == top.score and "balance" not in top.roles:
                questions.append("two equally good amount columns: " + _names(top, layouts[1]))
                tied = [lay for lay in layouts if lay.score == top.score]
                top, answer = _answer_tie(tied, [p for p in previous if p[1] == width])
                assumptions.append(answer)
            roles.update(top.roles)
            evidence.update(top.evidence)
            flipped = top.flipped
            used |= {i for ix in top.roles.values() for i in ix}
    if direction is not None and "amount" in roles and _unsigned(rows, roles["amount"][0]):
        roles["direction"] = [direction[0]]
        evidence["direction"] = direction[2]
        used.add(direction[0])
        flipped = False
    for role, finder in (("currency", currency_column), ("description", description_column)):
        if role not in roles and (got := finder(rows, width, used)) is not None:
            roles[role] = [got[0]]
            evidence[role] = got[1]
            used.add(got[0])
    return RoleChoice(roles, evidence, flipped, tuple(questions), tuple(assumptions))


def _answer_tie(tied: list[_Layout], previous: Previous) -> tuple[_Layout, str]:
    """The tied layout the account chose before (same money columns), else the detector's rule: the
    first in column order."""
    for columns, _, where in previous:
        for lay in tied:
            if {r: columns.get(r) for r in lay.roles} == lay.roles and not (
                {"amount", "debit", "credit", "balance"} & set(columns) - set(lay.roles)
            ):
                return lay, f"{_cols(lay)} from {where}"
    return tied[0], f"{_cols(tied[0])} by the detector's rule (the first of the tied columns)"


def _unsigned(rows: Rows, a: int) -> bool:
    """Column a never carries its own sign (so direction words give it)."""
    return not any(v is not None and v < 0 for v in column_values(rows, a))


def _cols(lay: _Layout) -> str:
    return "+".join(f"{r} column {i + 1}" for r, ix in lay.roles.items() for i in ix)


def _names(a: _Layout, b: _Layout) -> str:
    return f"{_cols(a)} or {_cols(b)}"


# Locales whose everyday numeric dates are month-first or year-first; every other locale is day-first.
_MONTH_FIRST = ("en_us", "en_ph", "es_us", "en_ca", "fil", "en_fm", "en_mh", "en_pw")
_YEAR_FIRST = ("ja", "zh", "ko", "hu", "lt", "mn", "en_za", "sv", "fr_ca")


def locale_date_order(locale: str) -> str | None:
    """'en_US' -> 'MDY', 'de-DE' -> 'DMY', 'ja_JP' -> 'YMD'; None for an empty locale."""
    key = locale.strip().lower().replace("-", "_").split(".")[0]
    if not key:
        return None
    if any(key == p or key.startswith(p + "_") for p in _MONTH_FIRST):
        return "MDY"
    if any(key == p or key.startswith(p + "_") for p in _YEAR_FIRST):
        return "YMD"
    return "DMY"


# ================================================================ header roles checked from content

_STRONG = 0.9  # share of the checked rows content must hold on to overrule a header
_MIN_CHECKED = 3  # and on at least this many row pairs


def _said(header: Sequence[str], ix: Sequence[int]) -> str:
    return " + ".join(repr(header[i]) if i < len(header) else f"column {i + 1}" for i in ix)


def _signed(rows: Rows, roles: dict[str, list[int]]) -> Values | None:
    """The amounts the roles give: one column (signed by its direction words) or a debit/credit pair."""
    if "amount" in roles:
        values = column_values(rows, roles["amount"][0])
        if "direction" not in roles:
            return values
        signs = [direction_of(_cell(r, roles["direction"][0])) or 0 for r in rows]
        return [None if v is None or not s else s * abs(v) for v, s in zip(values, signs, strict=True)]
    if "debit" in roles and "credit" in roles:
        return _pair_values(column_values(rows, roles["debit"][0]), column_values(rows, roles["credit"][0]))[
            0
        ]
    return None


def _strong(held: int, checked: int) -> bool:
    return checked >= _MIN_CHECKED and held >= _STRONG * checked


@dataclass
class _Check:
    """Header roles being checked: the roles (content may change them), notes per role, the sign."""

    header: Sequence[str]
    roles: dict[str, list[int]]
    fixed: set[str]
    notes: dict[str, list[str]] = field(default_factory=dict)
    overruled: dict[str, str] = field(default_factory=dict)  # role -> "header says X; content says Y"
    flipped: bool = False

    def note(self, why: str, *roles: str) -> None:
        for role in roles:
            if role in self.roles:
                self.notes.setdefault(role, []).append(why)

    def said(self, role: str) -> str:
        return _said(self.header, self.roles[role])

    def money_roles(self) -> tuple[str, ...]:
        return tuple(r for r in ("amount", "debit", "credit") if r in self.roles)


def check_header_roles(
    rows: Rows, header: Sequence[str], roles: dict[str, list[int]], fixed: set[str]
) -> RoleChoice:
    """Content checks on roles chosen by header name: a running balance (proves the amount column and its
    sign), the debit/credit pair (each row fills one), direction words, ISO codes. Each checked role's
    evidence says what the content shows; where strong content evidence contradicts the header, content
    wins and the evidence says so. Roles in `fixed` (preset, column map) are never changed."""
    check = _Check(header, {r: list(ix) for r, ix in roles.items()}, fixed)
    if not rows:
        return RoleChoice(check.roles, {})
    if "debit" in roles and "credit" in roles:
        one = _pair_values(column_values(rows, roles["debit"][0]), column_values(rows, roles["credit"][0]))[1]
        check.note(f"each row fills one of the two on {one}/{len(rows)} rows", "debit", "credit")
    if "direction" in roles and (found := _direction_at(rows, roles["direction"][0])) is not None:
        check.note(found[1], "direction")
    if "currency" in roles and (why := _currency_at(rows, roles["currency"][0])) is not None:
        check.note(why, "currency")
    _check_balance(rows, check)
    evidence = {r: f"header {_said(header, roles[r])}; " + "; ".join(n) for r, n in check.notes.items()}
    return RoleChoice(check.roles, {**evidence, **check.overruled}, check.flipped)


def _check_balance(rows: Rows, check: _Check) -> None:
    """The named balance against the named amounts; else whether the named amount is itself a balance."""
    amounts = _signed(rows, check.roles)
    if amounts is None:
        return
    money = check.money_roles()
    if "balance" in check.roles:
        balance = column_values(rows, check.roles["balance"][0])
        checked, plus, minus = _holds(balance, amounts, moving=True, order=file_order(rows, check.roles))
        if checked and plus >= 0.8 * checked:
            check.note(f"running balance holds on {plus}/{checked} rows", "balance", *money)
            return
        if _strong(minus, checked) and plus < 0.5 * checked and not check.fixed & {"direction", *money}:
            _overrule_sign(check, minus, checked)
            return
        if checked and minus >= 0.8 * checked:
            check.note(
                f"running balance holds on {minus}/{checked} rows only with the sign flipped", "balance"
            )
        elif checked:
            check.note(f"running balance holds on only {max(plus, minus)}/{checked} rows", "balance")
    if "amount" in check.roles and not check.fixed & {"amount", "balance", "direction"}:
        _amount_is_a_balance(rows, check)


def _overrule_sign(check: _Check, held: int, checked: int) -> None:
    """The balance holds only with the opposite sign: content wins over the header's sign."""
    proof = f"running balance holds with the opposite sign on {held}/{checked} rows"
    if "direction" in check.roles:  # words name the sign: statement_signs weighs them against the balance
        check.note(proof, "balance", "direction")
        return
    if "debit" in check.roles:
        debit, credit = check.roles["debit"], check.roles["credit"]
        check.roles["debit"], check.roles["credit"] = credit, debit
        said = f"{_said(check.header, debit)} is money out and {_said(check.header, credit)} money in"
        why = f"header says {said}; content says the reverse: {proof}"
        check.overruled.update(debit=why, credit=why)
    else:
        check.flipped = True
        why = f"header {check.said('amount')} lists money in as positive"
        check.overruled["amount"] = f"{why}; content says money out is positive: {proof}"
    check.note(proof, "balance")


def _amount_is_a_balance(rows: Rows, check: _Check) -> None:
    """Header 'Amount' that is really a running balance of another money column: content wins."""
    a = check.roles["amount"][0]
    used = {i for r, ix in check.roles.items() if r not in ("balance",) for i in ix}
    as_balance = column_values(rows, a)
    for x, values in money_columns(rows, len(check.header), used).items():
        checked, plus, minus = _holds(as_balance, values, moving=True, order=file_order(rows, check.roles))
        if not _strong(max(plus, minus), checked):
            continue
        proof = f"{max(plus, minus)}/{checked} rows"
        named, other = _said(check.header, [a]), _said(check.header, [x])
        check.roles = {r: [i for i in ix if i != x] for r, ix in check.roles.items()}
        check.roles = {r: ix for r, ix in check.roles.items() if ix}
        check.roles.update(amount=[x], balance=[a])
        check.flipped = minus > plus
        sign = " with the sign flipped" if check.flipped else ""
        check.overruled["amount"] = (
            f"header says {named} is the amount; content says {other}: {named} is its running balance{sign} "
            f"on {proof}"
        )
        check.overruled["balance"] = (
            f"header says {named} is the amount; content says it is the running balance of {other}{sign} "
            f"on {proof}"
        )
        check.notes.pop("balance", None)
        return
