"""The sign questions: are a single amount column's positive numbers money in or money out, and do direction
words that a running balance contradicts read as written? Evidence from the file (header names, masked card
numbers, row words, the balance) is scored for both readings; when it does not decide, the caller's answer
(the account's saved preset or previous import) or the stated default, recorded as an assumption.
Pure: stdlib only.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

from finjobs.domain import statement_vocab as vocab
from finjobs.domain.statement_roles import (
    _MIN_CHECKED,
    RoleChoice,
    Rows,
    _cell,
    _holds,
    _signed,
    column_values,
    file_order,
)
from finjobs.domain.statements_values import direction_of, fold, norm_name

AS_WRITTEN = "amount"
FLIPPED = "amount_flipped(credit)"
SIGN_RULES = (AS_WRITTEN, FLIPPED)
SIGN_QUESTION = "sign: all {n} amounts are positive and the file does not say if they are money in or out"
SIGNED_QUESTION = "sign: {n} amounts carry their own signs but the row words read them the other way"
DECIDES = 2.0  # points one reading needs over the other
SIGNED_PRIOR = 1.0  # a column with minus signs reads as written unless row words say more than this
WORD_POINTS = 3.0  # row words count for at most this many points (one per row that has them)
_PROVEN = 0.8  # a running balance that holds on this share of the moving rows proves the sign
_NOT_TEXT = ("date", "amount", "debit", "credit", "balance")

WORDS_QUESTION = "sign: the direction words and the running balance disagree and weigh the same"
WORDS_REVERSED = "direction_reversed:"

SignAnswers = Sequence[tuple[str, str]]  # (sign rule, where it came from), the first that fits answers
Clue = tuple[float, str]  # (points: + says money out is positive, - says money in is; why)


def header_clues(header: Sequence[str] | None, only: str | None = None) -> list[Clue]:
    """One clue per group of SIGN_HEADER_GROUPS a header name falls in ('Card Used For Transaction');
    `only`: that group alone."""
    out: list[Clue] = []
    for what, points, words in vocab.SIGN_HEADER_GROUPS:
        if only is not None and what != only:
            continue
        names = [h for h in header or () if not words.isdisjoint(norm_name(h).split())]
        if names:
            out.append((float(points), f"header {names[0]!r} names {what}"))
    return out


def card_clue(rows: Rows, columns: Sequence[int]) -> list[Clue]:
    """A column of masked card numbers on (nearly) every row: each row was paid by card."""
    for i in columns:
        hits = sum(1 for r in rows if vocab.MASKED_CARD.search(fold(_cell(r, i))))
        if rows and hits >= 0.8 * len(rows):
            return [(1.0, f"masked card numbers in column {i + 1} on {hits}/{len(rows)} rows")]
    return []


def word_clue(rows: Rows, values: Sequence[Decimal], columns: Sequence[int]) -> list[Clue]:
    """Rows whose text names its direction (REFUND, PAYMENT RECEIVED / PURCHASE, FEE) against the sign
    they carry: points toward the reading they agree with, one per row up to WORD_POINTS."""
    written = flipped = 0
    seen: Counter[str] = Counter()
    for row, value in zip(rows, values, strict=True):
        text = fold(" ".join(_cell(row, i) for i in columns))
        found = [(d, m.group()) for d, pattern in vocab.SIGN_WORDS if (m := pattern.search(text))]
        if len(found) != 1:
            continue
        direction, word = found[0]
        seen[word] += 1
        if (value > 0) == (direction > 0):
            written += 1
        else:
            flipped += 1
    n = written + flipped
    if not n:
        return []
    words = "/".join(w.upper() for w, _ in seen.most_common(4))
    why = f"row words {words} agree with the signs as written on {written}/{n} rows"
    return [((flipped - written) / n * min(n, WORD_POINTS), why)]


def _balance_proves(rows: Rows, roles: dict[str, list[int]]) -> bool:
    amounts = _signed(rows, roles) if "balance" in roles else None
    if amounts is None:
        return False
    balance = column_values(rows, roles["balance"][0])
    checked, plus, minus = _holds(balance, amounts, moving=True, order=file_order(rows, roles))
    return checked > 0 and max(plus, minus) >= _PROVEN * checked


def decide_sign(
    choice: RoleChoice,
    rows: Rows,
    header: Sequence[str] | None,
    width: int,
    account_type: str,
    answers: SignAnswers = (),
) -> RoleChoice:
    """Whether a single amount column lists money out as positive, scored from the file's evidence; an
    all-positive column the evidence leaves open is an open question, answered by `answers`, else read as
    written (the stated default), recorded as an assumption. A direction column, a debit/credit pair, a
    running balance that holds and account type 'credit' (the user said: a card) decide it elsewhere."""
    roles = choice.roles
    not_text = {i for r in (*_NOT_TEXT, "direction") for i in roles.get(r, [])}
    text = [i for i in range(width) if i not in not_text]
    if "direction" in roles and {"amount", "balance"} <= set(roles):
        card = _card_said(rows, header, text, account_type)
        return weigh_direction(choice, rows, text, card, answers)
    if "amount" not in roles or "direction" in roles or account_type == "credit":
        return choice
    pairs = [(r, v) for r, v in zip(rows, column_values(rows, roles["amount"][0]), strict=True) if v]
    if not pairs or _balance_proves(rows, roles):
        return choice
    money_rows, values = [r for r, _ in pairs], [v for _, v in pairs]
    unsigned = all(v > 0 for v in values)
    clues = word_clue(money_rows, values, text)
    if unsigned:
        clues += header_clues(header) + card_clue(money_rows, text)
    score = sum(p for p, _ in clues) - (0.0 if unsigned else SIGNED_PRIOR)
    return _decided(choice, header, clues, score, len(values), unsigned, answers)


def _decided(
    choice: RoleChoice,
    header: Sequence[str] | None,
    clues: list[Clue],
    score: float,
    n: int,
    unsigned: bool,
    answers: SignAnswers,
) -> RoleChoice:
    """The choice with the sign read, its evidence on the amount, and the open question if any: an
    all-positive column the score leaves within DECIDES of even, or signs that row words contradict
    without outweighing them."""
    if not unsigned and not clues:
        return choice
    whys = ", ".join(why for _, why in clues)
    said_by_clues = sum(p for p, _ in clues)  # before the prior a signed column carries
    if score >= DECIDES or score <= -DECIDES or (not unsigned and said_by_clues <= 0):
        flip = score >= DECIDES
        said = f"{_reading(flip)}: {whys} ({score:+.1f} for money out)"
        return dataclasses.replace(choice, flipped=flip, evidence=_noted(choice, header, n, unsigned, said))
    flip, assumed = _answer(answers)
    question = (SIGN_QUESTION if unsigned else SIGNED_QUESTION).format(n=n)
    question += f" ({whys}: {said_by_clues:+.1f} for money out)" if clues else ""
    return dataclasses.replace(
        choice,
        flipped=flip,
        evidence=_noted(choice, header, n, unsigned, "sign open"),
        open_questions=(*choice.open_questions, question),
        assumptions=(*choice.assumptions, assumed),
    )


def _answer(answers: SignAnswers) -> tuple[bool, str]:
    for rule, where in answers:
        if rule in SIGN_RULES:
            flip = rule == FLIPPED
            return flip, f"sign: {_reading(flip)} from {where}"
    return False, f"sign: {_reading(False)} by the stated default"


def _reading(flip: bool) -> str:
    return "positive amounts are money out" if flip else "positive amounts are money in (as written)"


def _noted(
    choice: RoleChoice, header: Sequence[str] | None, n: int, unsigned: bool, said: str
) -> dict[str, str]:
    a = choice.roles["amount"][0]
    base = choice.evidence.get("amount") or (f"header {header[a]!r}" if header and a < len(header) else "")
    shape = f"all {n} amounts positive" if unsigned else f"{n} signed amounts"
    return {**choice.evidence, "amount": "; ".join(p for p in (base, shape, said) if p)}


# ================================================================ direction words against a running balance


def weigh_direction(
    choice: RoleChoice, rows: Rows, text: Sequence[int], card: str, answers: SignAnswers = ()
) -> RoleChoice:
    """Direction words that a running balance contradicts (it holds only with them reversed): the words'
    share of labelled rows against the balance's share of rows it holds on, plus a card (`card` says why:
    its balance counts what is owed, so it rises with the debits the words name) for the words and row
    words (in the `text` columns) for the side they agree with. The heavier side wins; a tie is an open
    question answered like the others."""
    roles = choice.roles
    amounts = _signed(rows, roles) or []
    balance = column_values(rows, roles["balance"][0])
    checked, plus, minus = _holds(balance, amounts, moving=True, order=file_order(rows, roles))
    if checked < _MIN_CHECKED or minus < _PROVEN * checked or plus >= 0.5 * checked:
        return choice
    labelled = sum(1 for r in rows if direction_of(_cell(r, roles["direction"][0])))
    words: list[Clue] = [(2.0 * labelled / len(rows), f"the words label {labelled}/{len(rows)} rows")]
    against: list[Clue] = [(2.0 * minus / checked, f"the balance holds reversed on {minus}/{checked} rows")]
    if card:
        words.append((1.0, f"{card}: a card's balance is what is owed and rises with its debits"))
    pairs = [(r, v) for r, v in zip(rows, amounts, strict=True) if v]
    for points, why in word_clue([r for r, _ in pairs], [v for _, v in pairs], text):
        (against if points > 0 else words).append((abs(points), why))
    return _weighed(choice, words, against, answers)


def _card_said(rows: Rows, header: Sequence[str] | None, text: Sequence[int], account_type: str) -> str:
    """Why the file is a card's ('' when nothing says so): the account type, a card header, card numbers."""
    if account_type == "credit":
        return "account type credit"
    cards = [why for _, why in header_clues(header, only=vocab.CARD_GROUP)]
    cards += [why for _, why in card_clue(rows, text)]
    return cards[0] if cards else ""


def _weighed(choice: RoleChoice, words: list[Clue], against: list[Clue], answers: SignAnswers) -> RoleChoice:
    w, b = sum(p for p, _ in words), sum(p for p, _ in against)
    for_words, for_balance = ", ".join(y for _, y in words), ", ".join(y for _, y in against)
    said = f"words {w:.1f} ({for_words}) against balance {b:.1f} ({for_balance})"
    if w != b:
        reading = "direction words read reversed" if b > w else "direction words kept"
        return _with_words(choice, b > w, f"{reading}: {said}")
    reverse, where = False, "by the stated default"
    for rule, source in answers:
        if rule.startswith(("direction:", WORDS_REVERSED)):
            reverse, where = rule.startswith(WORDS_REVERSED), f"from {source}"
            break
    assumed = f"sign: direction words {'read reversed' if reverse else 'kept'} {where}"
    found = _with_words(choice, reverse, f"sign open: {said}")
    return dataclasses.replace(
        found,
        open_questions=(*choice.open_questions, WORDS_QUESTION),
        assumptions=(*choice.assumptions, assumed),
    )


def _with_words(choice: RoleChoice, reverse: bool, said: str) -> RoleChoice:
    before = choice.evidence.get("direction", "")
    evidence = {**choice.evidence, "direction": "; ".join(p for p in (before, said) if p)}
    return dataclasses.replace(choice, words_reversed=reverse, flipped=False, evidence=evidence)
