"""The starter rule table: well-known payee words and merchants -> a small standard category list, so a
new user's imports are categorised before they write a rule. Whole-word matches on the normalised payee
(category_rules.payee_key) and on the description's words; each category says which sign it takes.
These are the lowest-priority rules (file > learnt > user rule > starter). Pure: stdlib only."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from finjobs.domain.category_rules import CACHE_DESCRIPTIONS, Rule, RuleSet, payee_key

EXPENSE, INCOME, EITHER = "-", "+", "±"  # a category's sign: amount < 0, amount > 0, any non-zero


@dataclass(frozen=True)
class StarterCategory:
    name: str
    sign: str  # EXPENSE, INCOME or EITHER
    words: tuple[str, ...]  # lower-case words or phrases, matched whole-word

    def fits(self, amount_minor: int) -> bool:
        if self.sign == EXPENSE:
            return amount_minor < 0
        if self.sign == INCOME:
            return amount_minor > 0
        return amount_minor != 0


def _starter(name: str, sign: str, words: str) -> StarterCategory:
    return StarterCategory(name, sign, tuple(words.split("|")))


# Tried in order: a more specific entry comes before one whose words it contains (uber eats before
# uber, interest income before interest charges by the sign). One table, no per-bank cases.
STARTER: tuple[StarterCategory, ...] = (
    _starter(
        "Transfers",
        EITHER,
        "transfer|xfer|zelle|venmo|internal transfer|standing order|autopay|payment thank you|"
        "credit card payment|card payment received|overboeking",
    ),
    _starter(
        "Income",
        INCOME,
        "payroll|salary|salaire|gehalt|wages|direct dep|direct deposit|dividend|interest|"
        "refund|cashback|tax refund|pension|bonus|deposit|nómina|nomina|abono|devolución|"
        "devolucion|gutschrift|remboursement|rückerstattung",
    ),
    _starter(
        "Fees",
        EXPENSE,
        "fee|fees|overdraft|service charge|interest charge|interest|late charge|commission|"
        "frais|gebühr|monthly maintenance",
    ),
    _starter("Cash", EXPENSE, "atm|cash withdrawal|withdrawal atm|cashpoint|retrait"),
    _starter("Rent/Mortgage", EXPENSE, "rent|mortgage|landlord|letting|loyer|miete|hoa"),
    _starter(
        "Eating out",
        EXPENSE,
        "uber eats|doordash|grubhub|deliveroo|just eat|seamless|postmates|starbucks|"
        "mcdonald's|mcdonalds|burger king|wendy's|kfc|taco bell|chipotle|subway|dunkin|pret|"
        "costa|nando's|domino's|pizza hut|pizza|restaurant|cafe|café|coffee|bistro|diner|"
        "grill|bar|pub|brasserie|sushi|burger|bakery|panera|chick-fil-a|five guys|shake shack",
    ),
    _starter(
        "Groceries",
        EXPENSE,
        "whole foods|trader joe's|trader joe|kroger|safeway|publix|wegmans|aldi|lidl|tesco|"
        "sainsbury's|sainsburys|asda|morrisons|waitrose|co-op|albert heijn|jumbo|rewe|edeka|"
        "carrefour|mercadona|migros|coop|monoprix|intermarche|leclerc|auchan|grocery|"
        "groceries|supermarket|market|food lion|h-e-b|heb|giant|stop & shop|sprouts|costco",
    ),
    _starter(
        "Fuel",
        EXPENSE,
        "shell|bp|exxon|exxonmobil|mobil|chevron|texaco|esso|sunoco|valero|arco|citgo|"
        "marathon|speedway|gas station|fuel|petrol|total energies|aral",
    ),
    _starter(
        "Transport",
        EXPENSE,
        "uber|lyft|taxi|cab|metro|transit|mta|tfl|bart|amtrak|rail|railway|train|bus|parking|"
        "toll|e-zpass|ezpass|sncf|deutsche bahn|ov-chipkaart|oyster",
    ),
    _starter(
        "Travel",
        EXPENSE,
        "airline|airlines|air lines|airplane|airplanes|flight|flights|airport|airways|delta|"
        "united airlines|american airlines|southwest|ryanair|easyjet|lufthansa|klm|air france|"
        "hotel|hotels|airbnb|booking.com|expedia|marriott|hilton|hyatt",
    ),
    _starter(
        "Subscriptions",
        EXPENSE,
        "netflix|netflix.com|spotify|hulu|disney plus|hbo|youtube|apple.com/bill|"
        "itunes|amazon prime|prime video|audible|patreon|dropbox|adobe|microsoft|"
        "google storage|subscription|membership",
    ),
    _starter(
        "Utilities",
        EXPENSE,
        "electric|electricity|power|energy|water|gas|pg&e|con edison|duke energy|comcast|"
        "xfinity|verizon|at&t|t-mobile|sprint|vodafone|internet|broadband|utility|utilities|"
        "edf|british gas|octopus energy|spectrum|telephone|phone|mobile|council tax",
    ),
    _starter(
        "Insurance",
        EXPENSE,
        "insurance|geico|state farm|allstate|progressive|aviva|axa|allianz|seguro|seguros|"
        "mutua|versicherung|assurance|assurances",
    ),
    _starter(
        "Health",
        EXPENSE,
        "cvs|cvs/pharmacy|walgreens|rite aid|boots|pharmacy|apotheke|pharmacie|doctor|dental|"
        "dentist|clinic|hospital|medical|optician|health|gym|fitness",
    ),
    _starter(
        "Shopping",
        EXPENSE,
        "amazon|amzn|amazon.com|target|walmart|wal-mart|ebay|etsy|ikea|best buy|home depot|"
        "lowe's|apple store|zara|h&m|primark|argos|paypal|mktp|mktpl|marketplace",
    ),
)


@dataclass(frozen=True)
class StarterRule(Rule):
    """A rule from the starter table: RuleSet treats it as any rule; an import counts it as 'starter'."""

    starter: bool = True


def rule_source(rule: Rule) -> str:
    """Which kind of rule categorised a row: 'learnt', 'starter' or 'rule'."""
    if rule.learnt:
        return "learnt"
    return "starter" if isinstance(rule, StarterRule) else "rule"


_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> tuple[str, ...]:
    """The text's words, lower-cased: runs of letters and digits (punctuation splits, so a table
    phrase 'pg&e' is the words 'pg e', and 'rent' is not in 'rental' nor 'bp' in 'bpm')."""
    return tuple(_TOKEN.findall(text.lower()))


def payee_texts(description: str) -> tuple[tuple[str, ...], ...]:
    """What the table is matched on, in order: the normalised payee's words, then the description's
    (which keeps the words after a store number or reference)."""
    key, words = tokens(payee_key(description)), tokens(description)
    return (key, words) if key and key != words else (words,)


class StarterTable:
    """The starter categories a description can get, worked out once per distinct description (bounded
    LRU, as RuleSet's): each table phrase is a run of words looked up in one dictionary, so a
    description costs a few look-ups per word, not a regular expression per category."""

    def __init__(
        self, table: tuple[StarterCategory, ...] = STARTER, cache_size: int = CACHE_DESCRIPTIONS
    ) -> None:
        self.table = table
        self._rules = tuple(StarterRule(f"starter:{c.name}", c.name) for c in table)
        phrases: dict[tuple[str, ...], set[int]] = {}
        for i, cat in enumerate(table):
            for word in cat.words:
                phrases.setdefault(tokens(word), set()).add(i)
        phrases.pop((), None)
        self._phrases = phrases
        self._longest = max((len(p) for p in phrases), default=0)
        self._signed = functools.lru_cache(maxsize=cache_size)(self._rules_by_sign)

    def _found(self, words: tuple[str, ...]) -> set[int]:
        found: set[int] = set()
        for n in range(1, min(self._longest, len(words)) + 1):
            for start in range(len(words) - n + 1):
                hit = self._phrases.get(words[start : start + n])
                if hit:
                    found |= hit
        return found

    def candidates(self, description: str) -> tuple[int, ...]:
        """The table rows (indices) whose words the description holds, payee first, table order."""
        ordered: list[int] = []
        for words in payee_texts(description):
            ordered += sorted(self._found(words) - set(ordered))
        return tuple(ordered)

    def _rules_by_sign(self, description: str) -> tuple[StarterRule | None, ...]:
        """The rule for a negative, a zero and a positive amount with this description."""
        found = self.candidates(description)
        return tuple(
            next((self._rules[i] for i in found if self.table[i].fits(amount)), None) for amount in (-1, 0, 1)
        )

    def match(self, description: str, amount_minor: int) -> StarterRule | None:
        """The first starter category whose words the payee holds and whose sign fits the amount."""
        return self._signed(description)[(amount_minor > 0) - (amount_minor < 0) + 1]

    def category(self, description: str, amount_minor: int) -> str:
        rule = self.match(description, amount_minor)
        return rule.category if rule is not None else ""


@dataclass
class WithStarter(RuleSet):
    """A user's rules, then the starter table as the lowest-priority rules. When no rule of the user's
    has an amount range, what a description gets depends only on the amount's sign: worked out once
    per distinct description (bounded LRU, cache_size), so a row costs one look-up."""

    starter: StarterTable = field(default_factory=StarterTable)
    _signless: bool = field(init=False, repr=False, default=False)
    _signed: Callable[[str], tuple[Rule | None, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._signless = all(r.min_minor is None and r.max_minor is None for r in self.rules)
        self._signed = functools.lru_cache(maxsize=self.cache_size)(self._rules_by_sign)

    def match(self, description: str, amount_minor: int) -> Rule | None:
        if not self._signless:
            return self._first(description, amount_minor)
        return self._signed(description)[(amount_minor > 0) - (amount_minor < 0) + 1]

    def _rules_by_sign(self, description: str) -> tuple[Rule | None, ...]:
        return tuple(self._first(description, a) for a in (-1, 0, 1))

    def _first(self, description: str, amount_minor: int) -> Rule | None:
        rule = super().match(description, amount_minor) if self.rules else None
        return rule if rule is not None else self.starter.match(description, amount_minor)
