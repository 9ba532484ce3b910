"""Category rules matched in the import's parser: each rule is a lower-cased SQL LIKE pattern (`%`, `_`,
`\\` escapes; services/categories.py stores them), an optional signed amount range and its category.
Rules apply in order (learnt first, then oldest first); RuleSet finds a description's candidate rules
through one index of the patterns' literal parts, once per distinct description, so a row costs a
cache look-up. `payee_key` is the one payee
normalisation learnt rules use (a table of rules, below). Pure: stdlib only."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
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


def like_tokens(pattern: str) -> list[tuple[bool, str]]:
    """A LIKE pattern with `\\` as its escape character as (is_wildcard, char) pairs: ('%' any run,
    '_' any one character) or a literal character (a trailing lone `\\` is itself)."""
    out, chars = [], iter(pattern)
    for ch in chars:
        if ch == "\\":
            out.append((False, next(chars, "\\")))
        else:
            out.append((ch in "%_", ch))
    return out


def like_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression a LIKE pattern with `\\` as its escape character means."""
    wild = {"%": ".*", "_": "."}
    return re.compile(
        "".join(wild[ch] if is_wild else re.escape(ch) for is_wild, ch in like_tokens(pattern)), re.DOTALL
    )


def literal_runs(pattern: str) -> list[str]:
    """The literal stretches of a LIKE pattern, in order: a matching text holds each one whole, and
    starts with the first when the pattern does not start with a wildcard."""
    runs, run = [], ""
    for is_wild, ch in like_tokens(pattern):
        if is_wild:
            runs.append(run)
            run = ""
        else:
            run += ch
    return [*runs, run]


GRAM = 3  # a pattern starting with a wildcard is indexed by the first characters of its longest literal run
CACHE_DESCRIPTIONS = 1 << 14  # the distinct descriptions whose candidate rules are kept (least recent go)


@dataclass(eq=False)
class RuleSet:
    """The category a user's rules give a description and amount ('' when none does).

    Exactly the first rule, in order, whose pattern matches the lower-cased description and whose
    range holds the amount; found through one index instead of trying every pattern: a pattern that
    starts with a literal is filed under that prefix (looked up once per distinct prefix length), one
    that starts with a wildcard under the first GRAM characters of its longest literal run (looked up
    at each position of the text), the rest are tried on every description. Only the indexed hits are
    then matched, in rule order, stopping at the first one without an amount range (no later rule can
    win after it). A description's candidates are kept for the next row with it (bounded LRU)."""

    rules: tuple[Rule, ...]
    cache_size: int = CACHE_DESCRIPTIONS
    _compiled: list[re.Pattern[str]] = field(init=False, repr=False)
    _by_prefix: list[tuple[int, dict[str, list[int]]]] = field(init=False, repr=False)
    _by_gram: dict[str, list[int]] = field(init=False, repr=False)
    _always: list[int] = field(init=False, repr=False)
    _lookup: Callable[[str], tuple[Rule, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._compiled = [like_regex(r.pattern) for r in self.rules]
        prefixes: dict[int, dict[str, list[int]]] = {}
        self._by_gram, self._always = {}, []
        for i, rule in enumerate(self.rules):
            runs = literal_runs(rule.pattern)
            inner = max(runs, key=len)
            if runs[0]:
                prefixes.setdefault(len(runs[0]), {}).setdefault(runs[0], []).append(i)
            elif len(inner) >= GRAM:
                self._by_gram.setdefault(inner[:GRAM], []).append(i)
            else:
                self._always.append(i)
        self._by_prefix = sorted(prefixes.items())
        self._lookup = functools.lru_cache(maxsize=self.cache_size)(self._candidates)

    def category(self, description: str, amount_minor: int) -> str:
        rule = self.match(description, amount_minor)
        return rule.category if rule is not None else ""

    def match(self, description: str, amount_minor: int) -> Rule | None:
        """The first rule that applies to the description and amount, None when none does."""
        for rule in self._lookup(description):
            lo, hi = rule.min_minor, rule.max_minor
            if (lo is None or amount_minor >= lo) and (hi is None or amount_minor <= hi):
                return rule
        return None

    def _candidates(self, description: str) -> tuple[Rule, ...]:
        """The rules matching `description`, in order, up to the first one without an amount range."""
        text = description.lower()
        hits = set(self._always)
        for length, bucket in self._by_prefix:
            if (found := bucket.get(text[:length])) is not None:
                hits.update(found)
        if grams := self._by_gram:
            for start in range(len(text) - GRAM + 1):
                if (found := grams.get(text[start : start + GRAM])) is not None:
                    hits.update(found)
        out = []
        for i in sorted(hits):
            if self._compiled[i].fullmatch(text):
                rule = self.rules[i]
                out.append(rule)
                if rule.min_minor is None and rule.max_minor is None:
                    break
        return tuple(out)
