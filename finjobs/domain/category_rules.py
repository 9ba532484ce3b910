"""Category rules matched in the import's parser: each rule is a lower-cased SQL LIKE pattern (`%`, `_`,
`\\` escapes; services/categories.py stores them), an optional signed amount range and its category.
Rules are tried in order (learnt first, then oldest first); a description's candidate rules are found
once per distinct description, so a row costs a dictionary look-up. `payee_key` is the one payee
normalisation learnt rules use (a table of rules, below). Pure: stdlib only."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The payee normalisation, one table: each step (why, regex, replacement) runs in order on the
# lower-cased description. Card-number masks, dates/times, and the terminal's prefix words go; then the
# payee is the words before the first token holding a digit (a store number, reference or date), so
# 'TESCO STORES 3297 LONDON 12/03' and 'POS TESCO STORES 1234' are both the payee 'tesco stores'.
PAYEE_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("card-number mask", re.compile(r"[x*#]{2,}[\s-]?\d{0,4}|\b\d{4}[\s-]?[x*]{2,}[\s\dx*-]*"), " "),
    ("full card number", re.compile(r"\b(?:\d{4}[\s-]?){3}\d{1,4}\b"), " "),
    (
        "date or time",
        re.compile(r"\b\d{1,4}[./-]\d{1,2}(?:[./-]\d{1,4})?\b|\b\d{1,2}:\d{2}(?::\d{2})?\b"),
        " ",
    ),
    (
        "terminal prefix",
        re.compile(
            r"^\s*(?:(?:debit|credit|visa|card|pos|contactless|chip|online)\s+)*"
            r"(?:purchase|payment|pmt|pos|txn|transaction)?\b[\s:*-]*"
        ),
        "",
    ),
    ("punctuation", re.compile(r"[^\w&@.'+]+|_"), " "),
    ("store number, reference or place after it", re.compile(r"(?<=\w)\s+(?:[#]?\S*\d.*)$"), ""),
)
_MIN_KEY = 3  # a shorter key ('bp') would match too much as a learnt pattern: keep the whole text


def payee_key(description: str) -> str:
    """The payee learnt categories key on (see PAYEE_RULES); '' when nothing payee-like is left."""
    s = description.lower()  # as SQL lower() and RuleSet see it (casefold differs: µ, ß)
    for _why, rx, repl in PAYEE_RULES:
        s = rx.sub(repl, s)
    return " ".join(s.split())


def learnt_pattern(description: str) -> str:
    """The LIKE pattern a learnt rule for `description` stores: its payee's words in order (anything
    between and around them), or the whole lower-cased description when the payee is too short."""
    key = payee_key(description)
    if len(key) < _MIN_KEY:
        return literal(description.lower())
    return "%" + "%".join(literal(word) for word in key.split()) + "%"


def literal(value: str) -> str:
    """`value` as a LIKE pattern that matches only itself."""
    return "".join("\\" + ch if ch in "%_\\" else ch for ch in value)


@dataclass(frozen=True)
class Rule:
    pattern: str  # lower-cased LIKE pattern
    category: str
    min_minor: int | None = None
    max_minor: int | None = None
    learnt: bool = False  # learnt from a re-categorised payee, not written by the user

    def fits(self, amount_minor: int) -> bool:
        return (self.min_minor is None or amount_minor >= self.min_minor) and (
            self.max_minor is None or amount_minor <= self.max_minor
        )


def like_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression a LIKE pattern with `\\` as its escape character means."""
    out, chars = [], iter(pattern)
    for ch in chars:
        if ch == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


@dataclass
class RuleSet:
    """The category a user's rules give a description and amount ('' when none does)."""

    rules: tuple[Rule, ...]
    _compiled: list[re.Pattern[str]] = field(init=False)
    _candidates: dict[str, tuple[Rule, ...]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._compiled = [like_regex(r.pattern) for r in self.rules]

    def category(self, description: str, amount_minor: int) -> str:
        rule = self.match(description, amount_minor)
        return rule.category if rule is not None else ""

    def match(self, description: str, amount_minor: int) -> Rule | None:
        """The first rule that applies to the description and amount, None when none does."""
        found = self._candidates.get(description)
        if found is None:
            text = description.lower()
            found = tuple(r for r, rx in zip(self.rules, self._compiled, strict=True) if rx.fullmatch(text))
            self._candidates[description] = found
        for rule in found:
            if rule.fits(amount_minor):
                return rule
        return None
