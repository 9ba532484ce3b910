"""Header vocabularies for bank CSV column roles: one table of rules (role, score, what the normalised
header name must show) and one scorer, first match wins. Pure: stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from finjobs.domain.statements_values import COMMON_CODES

DATE_PRIMARY = {
    "date",
    "datum",
    "fecha",
    "data",
    "transaction date",
    "booking date",
    "buchungstag",
    "buchungsdatum",
    "date operation",
    "date de l operation",
    "fecha operacion",
    "fecha de operacion",
    "transactiedatum",
    "boekdatum",
    "trans date",
    "txn date",
    "date comptable",
    "journaldate",
    "journal date",
    "transaction date time",
    "date time",
    "datetime",
    "posting date",
    "fecha contable",
}
DATE_SECONDARY = ("value", "valeur", "valuta", "wertstellung", "valor", "rentedatum", "posted", "effective")
# Of two dates a row carries while it is processed (Revolut: Started Date, Completed Date), the booking
# date is the one that says the money moved; the one it was started, authorised or requested comes second.
DATE_BOOKED = ("completed", "completion", "booked", "settled", "settlement", "cleared")
DATE_STARTED = ("started", "initiated", "authorized", "authorised", "requested")
_DATE_WORDS = ("date", "datum", "fecha")
AMOUNT_WORDS = ("amount", "betrag", "montant", "importe", "bedrag", "umsatz", "monto", "netamount")
AMOUNT_PRIMARY = {
    "amount",
    "betrag",
    "montant",
    "importe",
    "bedrag",
    "umsatz",
    "monto",
    "netamount",
    "net amount",
    "transaction amount",
    "betrag eur",
    "amount eur",
    "montant eur",
    "importe eur",
    "bedrag eur",
    "total",
    "sum",
    "summe",
    "cantidad",
}
AMOUNT_EXCLUDE = (
    "original",
    "orig",
    "converted",
    "refunded",
    "refund",
    "transfer",
    "fee",
    "tax",
    "exchange",
    "compensation",
    "disputed",
    "foreign",
    "shipping",
    "gift",
    "balance",
)
DEBIT_NAMES = {
    "debit",
    "debits",
    "withdrawal",
    "withdrawals",
    "paid out",
    "money out",
    "soll",
    "debe",
    "cargo",
    "cargos",
    "af",
    "uitgaven",
    "out",
    "ausgang",
    "ausgaben",
    "debit amount",
    "withdrawal amount",
    "betrag soll",
    "montant debit",
    "debit eur",
    "debito",
    "charges",
    "debit chf",
    "debit usd",
    "debit gbp",
    "outflow",
    "spent",
}
CREDIT_NAMES = {
    "credit",
    "credits",
    "deposit",
    "deposits",
    "paid in",
    "money in",
    "haben",
    "haber",
    "abono",
    "abonos",
    "bij",
    "inkomsten",
    "in",
    "eingang",
    "einnahmen",
    "credit amount",
    "deposit amount",
    "betrag haben",
    "montant credit",
    "credit eur",
    "credito",
    "credit chf",
    "credit usd",
    "credit gbp",
    "inflow",
    "received",
}
DIRECTION_NAMES = {
    "transaction type",
    "type",
    "debit credit",
    "credit debit",
    "af bij",
    "bij af",
    "cr dr",
    "dr cr",
    "d c",
    "c d",
    "dc",
    "cd",
    "soll haben",
    "s h",
    "direction",
    "sens",
    "debit credit indicator",
    "credit debit indicator",
    "indicator",
    "tipo",
    "mutatiesoort",
    "transaction direction",
    "debet credit",
    "credit debet",
}
BALANCE_WORDS = ("balance", "saldo", "kontostand", "solde", "balans")
CURRENCY_NAMES = {
    "currency",
    "wahrung",
    "waehrung",
    "devise",
    "moneda",
    "divisa",
    "munt",
    "valuta",
    "monn",
    "ccy",
    "cur",
    "curr",
    "currency code",
    "iso currency",
    "monnaie",
}
CURRENCY_EXCLUDE = ("original", "converted", "transfer", "exchange", "foreign")
CATEGORY_WORDS = ("categ", "kategorie", "rubri")
PAYEE_NAMES = {
    "payee",
    "name",
    "merchant",
    "merchant name",
    "partner name",
    "counterparty",
    "beneficiary",
    "auftraggeber empfanger",
    "empfanger",
    "auftraggeber",
    "beguenstigter zahlungspflichtiger",
    "beguenstigter",
    "zahlungsempfanger",
    "naam",
    "naam omschrijving",
    "tegenpartij",
    "beneficiaire",
    "nom",
    "destinataire",
    "ordenante",
    "beneficiario",
    "counter party",
    "payer",
    "payee name",
    "recipient",
    "name of counterparty",
    # norm_name strips umlauts (u, not ue): DKB's "Auftraggeber / Begünstigter"
    "auftraggeber begunstigter",
    "begunstigter",
    "begunstigter zahlungspflichtiger",
    "zahlungspflichtiger",
    # Dutch: Knab's "Tegenrekeninghouder" (holder of the other account)
    "tegenrekeninghouder",
    "naam tegenpartij",
    "naam tegenrekening",
    # Nordic and Baltic: receiver / payer, SEB's "Beneficiary's name"
    "beneficiary s name",
    "mottagare",
    "betalningsmottagare",
    "modtager",
    "mottaker",
    "saaja",
    "maksaja",
    "saaja maksaja",
    "saaja maksja",
    "gavejas",
    "moketojas",
    "sanemejs",
    "maksatajs",
}
DESC_PRIMARY = {
    "description",
    "desc",
    "details",
    "narrative",
    "transaction description",
    "beschreibung",
    "verwendungszweck",
    "buchungstext",
    "libelle",
    "libelle operation",
    "descripcion",
    "concepto",
    "omschrijving",
    "mededelingen",
    "memo",
    "items",
    "transaction details",
    "detalle",
    "texto",
    "text",
    "particulars",
    "transaktionstext",
    "intitule",
    "payment details",
    "reason",
    "remarks",
    "communication",
    "umsatztext",  # livebank: the transaction's text beside the Buchungstext kind
}
DESC_EXTRA = re.compile(r"(vwz|verwendungszweck|description|memo|zeile|line|libelle|detail)\s*\d+")
DESC_MEMO = {
    "memo",
    "verwendungszweck",
    "payment reference",
    "reason",
    "mededelingen",
    "communication",
    "buchungstext",
}


def currency_word(word: str) -> str | None:
    if word in ("eur", "euro", "euros"):
        return "EUR"
    return word.upper() if len(word) == 3 and word.upper() in COMMON_CODES.split("|") else None


_CODES = "eur|euro|euros|" + COMMON_CODES.lower()


def _any(words: object) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))  # type: ignore[call-overload]


@dataclass(frozen=True)
class Rule:
    """A header name matches when every given test holds: in `exact`, containing one of `contains`
    (and one of `also`), having one of `words` as a whole word, or matching `pattern` whole."""

    role: str
    score: int
    exact: frozenset[str] = frozenset()
    contains: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    words: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None

    def matches(self, name: str) -> bool:
        return (
            (not self.exact or name in self.exact)
            and (not self.contains or any(w in name for w in self.contains))
            and (not self.also or any(w in name for w in self.also))
            and (not self.words or not self.words.isdisjoint(name.split()))
            and (self.pattern is None or self.pattern.fullmatch(name) is not None)
        )


# Per role, in order; the first rule that matches gives the score (0 = not at all, 10 = certain).
RULES: tuple[Rule, ...] = (
    Rule("date", 4, contains=DATE_SECONDARY, also=("date", "datum", "fecha", "tag")),  # "Valutadatum"
    Rule("date", 0, contains=DATE_SECONDARY),
    Rule("date", 10, exact=frozenset(DATE_PRIMARY)),
    Rule("date", 7, contains=DATE_BOOKED, also=_DATE_WORDS),
    Rule("date", 5, contains=DATE_STARTED, also=_DATE_WORDS),
    Rule("date", 6, words=frozenset({"date", "datum", "fecha"})),
    Rule("date", 6, pattern=re.compile(r".*(?:date|datum)")),
    Rule("date", 5, exact=frozenset({"created", "created at", "timestamp", "time stamp"})),
    Rule("amount", 0, contains=AMOUNT_EXCLUDE),
    Rule("amount", 7, exact=frozenset({"total", "sum", "summe"})),
    Rule("amount", 10, exact=frozenset(AMOUNT_PRIMARY)),
    Rule("amount", 10, pattern=re.compile(rf"(?:{_any(AMOUNT_WORDS)}) [^ ]{{3}}")),  # "Amount (EUR)"
    Rule("amount", 6, contains=AMOUNT_WORDS),
    # "Débit euros", "Haben EUR": the column name plus the currency it is kept in.
    Rule("debit", 10, exact=frozenset(DEBIT_NAMES)),
    Rule("debit", 10, pattern=re.compile(rf"(?:{_any(DEBIT_NAMES)}) (?:{_CODES})")),
    Rule("credit", 10, exact=frozenset(CREDIT_NAMES)),
    Rule("credit", 10, pattern=re.compile(rf"(?:{_any(CREDIT_NAMES)}) (?:{_CODES})")),
    Rule("direction", 10, exact=frozenset(DIRECTION_NAMES)),
    Rule("balance", 0, contains=("anterior",)),
    Rule("balance", 10, contains=BALANCE_WORDS),
    Rule("currency", 0, contains=CURRENCY_EXCLUDE),
    Rule("currency", 10, exact=frozenset(CURRENCY_NAMES)),
    Rule("currency", 10, pattern=re.compile(r".* currency")),
    Rule("category", 4, contains=CATEGORY_WORDS, also=("sub",)),
    Rule("category", 10, contains=CATEGORY_WORDS),
    Rule("description", 10, exact=frozenset(PAYEE_NAMES | DESC_PRIMARY)),
    Rule("description", 10, pattern=DESC_EXTRA),
    Rule("description", 5, contains=("description", "payee")),
    Rule("description", 5, words=frozenset({"name"})),
)
_BY_ROLE: dict[str, tuple[Rule, ...]] = {}
for _rule in RULES:
    _BY_ROLE[_rule.role] = (*_BY_ROLE.get(_rule.role, ()), _rule)


def score(role: str, name: str) -> int:
    """How strongly a normalised header name suggests a role: the first matching rule's score, else 0."""
    return next((rule.score for rule in _BY_ROLE.get(role, ()) if rule.matches(name)), 0)


# ================================================================ sign evidence (statement_signs.py)

# Header names that say whose ledger a file of never-negative amounts is. Each group counts once:
# +1 = it lists money out as positive (a card's charges, a list of purchases), -1 = money in (a seller's
# list of payments received). A name matches a group when it holds one of the words as a whole word.
CARD_GROUP = "a card"  # the group whose header also says the account is a card's (statement_signs)
SIGN_HEADER_GROUPS: tuple[tuple[str, int, frozenset[str]], ...] = (
    (CARD_GROUP, 1, frozenset({"card", "cardmember", "cardholder"})),
    ("a merchant", 1, frozenset({"merchant", "vendor", "store", "shop"})),
    ("a purchase", 1, frozenset({"order", "shipping", "items", "quantity", "qty"})),
    ("a customer", -1, frozenset({"customer", "client", "buyer", "payer", "donor"})),
    ("a seller", -1, frozenset({"seller", "invoice", "payout"})),
)
# Words in a row's text that say which way its money went (money in: +1, money out: -1), whatever the
# account: a payment received or refunded to you, wages, interest; a purchase, a cash withdrawal, a fee.
SIGN_WORDS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (
        1,
        re.compile(
            r"\b(?:thank you|payment\W+(?:received|complete|thank)|refund(?:ed)?|return|cash ?back|reversal|"
            r"salary|payroll|wages|interest (?:paid|earned|credit)|deposit)\b"
        ),
    ),
    (-1, re.compile(r"\b(?:purchase|withdrawal|atm|pos|debit card|card purchase|service charge|fee)\b")),
)
# A masked card number ("**** 1234", "XXXX-1234", "Visa ending in 1234"): the row was paid by card.
MASKED_CARD = re.compile(r"(?:[x*#\u2022]{2,}[\s-]?\d{4}\b|\bending in \d{4}\b)")
