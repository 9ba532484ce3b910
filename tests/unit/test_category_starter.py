"""The starter rule table: whole-word payee matches, signs, order, and its place below a user's rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finjobs.domain.category_rules import Rule, RuleSet
from finjobs.domain.category_starter import (
    EITHER,
    EXPENSE,
    INCOME,
    STARTER,
    StarterRule,
    StarterTable,
    WithStarter,
    rule_source,
    tokens,
)

TABLE = StarterTable()
SIGNS = {c.name: c.sign for c in STARTER}


@pytest.mark.parametrize(
    ("description", "amount", "category"),
    [
        ("TESCO STORES 3297 LONDON 12/03", -910, "Groceries"),
        ("CARD PURCHASE WHOLE FOODS MARKET #123", -8400, "Groceries"),
        ("STARBUCKS STORE #415", -545, "Eating out"),
        ("UBER EATS 8731", -2200, "Eating out"),  # before plain uber
        ("UBER TRIP 552", -1850, "Transport"),
        ("SHELL OIL 574", -4800, "Fuel"),
        ("RENT - PARKVIEW APTS", -185000, "Rent/Mortgage"),
        ("NETFLIX.COM", -1549, "Subscriptions"),
        ("PG&E WEB ONLINE", -9800, "Utilities"),
        ("CVS/PHARMACY #221", -2300, "Health"),
        ("AMAZON MKTPL*1X2", -3600, "Shopping"),
        ("ACME CORP PAYROLL", 520000, "Income"),
        ("Cuenta Nómina", 50000, "Income"),
        ("INTEREST PAID", 120, "Income"),
        ("INTEREST CHARGE ON PURCHASES", -1200, "Fees"),  # one word, the sign decides
        ("ATM WITHDRAWAL 0042", -2000, "Cash"),
        ("Transfer to Savings", 200000, "Transfers"),
        ("Transfer from Savings", -150000, "Transfers"),
        ("POS 4411 LIDL", -1200, "Groceries"),  # after a number: the description's words
        ("RENTAL CAR CENTER", -5000, ""),  # whole words: not 'rent'
        ("BPM SOUND 22", -1000, ""),  # not 'bp'
        ("Charles Darwin", 2500, ""),
        ("", -100, ""),
    ],
)
def test_well_known_payees_get_a_standard_category(description: str, amount: int, category: str) -> None:
    assert TABLE.category(description, amount) == category


def test_income_words_never_categorise_spending_nor_spending_words_income() -> None:
    assert TABLE.category("ACME CORP PAYROLL", -5000) == ""  # a payroll clawback is not income
    assert TABLE.category("TESCO STORES 12", 500) == ""  # a refund from Tesco is not spending
    assert TABLE.category("TESCO STORES 12", 0) == ""


def test_every_category_has_a_sign_and_unique_words() -> None:
    assert {c.sign for c in STARTER} <= {EXPENSE, INCOME, EITHER}
    assert len({c.name for c in STARTER}) == len(STARTER)
    for c in STARTER:
        assert c.words and all(w == w.lower().strip() and w for w in c.words), c.name
        assert len(set(c.words)) == len(c.words), c.name


def test_a_users_rules_and_learnt_rules_beat_the_starter_table() -> None:
    rules = WithStarter((Rule("%tesco%", "Learnt food", learnt=True), Rule("tesco%", "Mine")))
    assert rules.category("TESCO STORES 1", -100) == "Learnt food"
    mine = WithStarter((Rule("tesco%", "Mine"),))
    assert mine.category("TESCO STORES 1", -100) == "Mine"
    assert mine.category("LIDL 44", -100) == "Groceries"  # no rule of the user's: the starter table
    hit = mine.match("LIDL 44", -100)
    assert hit is not None and rule_source(hit) == "starter"
    assert rule_source(Rule("x", "y")) == "rule" and rule_source(Rule("x", "y", learnt=True)) == "learnt"
    assert WithStarter(()).category("NETFLIX.COM", -999) == "Subscriptions"
    assert isinstance(WithStarter(()), RuleSet)


def test_amount_ranges_and_signs_still_decide_with_the_starter_table() -> None:
    ranged = WithStarter((Rule("amazon%", "Big", max_minor=-10000),))
    assert ranged.category("AMAZON MKTPL*1", -25000) == "Big"
    assert ranged.category("AMAZON MKTPL*1", -1200) == "Shopping"  # outside the range: starter
    assert ranged.category("AMAZON MKTPL*1", 500) == ""  # a refund is not spending
    plain = WithStarter((Rule("acme%", "Work"),))  # no range: cached per description and sign
    assert [plain.category("INTEREST", a) for a in (100, -100, 0, 100)] == ["Income", "Fees", "", "Income"]
    assert [plain.category("ACME 1", a) for a in (100, -100, 0)] == ["Work"] * 3


def test_a_file_of_distinct_descriptions_keeps_bounded_caches_and_the_same_answers() -> None:
    # every row its own description (a reference number in it): what is kept stays at cache_size
    small = WithStarter((Rule("acme%", "Work"),), cache_size=8, starter=StarterTable(cache_size=8))
    descriptions = [f"TESCO STORES REF {i:06d}" for i in range(200)] + [f"ACME {i}" for i in range(50)]
    got = [small.category(d, -500) for d in descriptions]
    assert got == ["Groceries"] * 200 + ["Work"] * 50
    assert small._signed.cache_info().currsize <= 8  # type: ignore[attr-defined]
    assert small.starter._signed.cache_info().currsize <= 8  # type: ignore[attr-defined]
    assert [small.category(d, -500) for d in descriptions[:3]] == [
        "Groceries"
    ] * 3  # evicted: worked out again


payee_text = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789#*/&.-'"), max_size=40
)
known_word = st.sampled_from([w for c in STARTER for w in c.words])


@settings(max_examples=300, deadline=None)
@given(st.tuples(payee_text, known_word, payee_text), st.integers(-(10**9), 10**9))
def test_the_sign_of_a_starter_category_always_fits_the_amount(
    parts: tuple[str, str, str], amount: int
) -> None:
    description = " ".join(parts)
    rule = TABLE.match(description, amount)
    if rule is None:
        return
    assert isinstance(rule, StarterRule)
    sign = SIGNS[rule.category]
    assert amount != 0
    assert sign != EXPENSE or amount < 0, (description, amount, rule.category)
    assert sign != INCOME or amount > 0, (description, amount, rule.category)


@settings(max_examples=300, deadline=None)
@given(payee_text, st.integers(-(10**7), 10**7))
def test_a_category_needs_one_of_its_words_as_a_whole_word(description: str, amount: int) -> None:
    category = TABLE.category(description, amount)
    if not category:
        return
    (entry,) = (c for c in STARTER if c.name == category)
    words = tokens(description)
    runs = {words[i : i + n] for n in range(1, 8) for i in range(len(words) - n + 1)}
    assert any(tokens(w) in runs for w in entry.words), description


@settings(max_examples=200, deadline=None)
@given(payee_text, st.integers(-(10**7), 10**7))
def test_a_description_gets_the_same_category_every_time(description: str, amount: int) -> None:
    fresh = StarterTable()
    first = fresh.category(description, amount)
    assert fresh.category(description, amount) == first == TABLE.category(description, amount)
