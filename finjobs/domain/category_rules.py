"""Category rules matched in the import's parser: each rule is a lower-cased SQL LIKE pattern (`%`, `_`,
`\\` escapes; services/categories.py stores them), an optional signed amount range and its category.
Rules are tried in order (learnt first, then oldest first); a description's candidate rules are found
once per distinct description, so a row costs a dictionary look-up. Pure: stdlib only."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


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
