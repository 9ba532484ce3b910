"""The payee normalisation learnt categories key on (domain/category_rules.payee_key): one table of
rules; the same merchant with other store numbers, card masks, dates and terminal prefixes is one payee,
and the learnt LIKE pattern for one spelling matches the others (as the import's parser and SQL match)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finjobs.domain.category_rules import Rule, RuleSet, learnt_pattern, like_regex, payee_key


@pytest.mark.parametrize(
    ("raw", "payee"),
    [
        ("TESCO STORES 3297 LONDON 12/03", "tesco stores"),
        ("TESCO STORES 1234", "tesco stores"),
        ("POS TESCO STORES 1234", "tesco stores"),
        ("CARD PURCHASE TESCO STORES ****1234 12/03/2026", "tesco stores"),
        ("VISA PURCHASE STARBUCKS #4411 SEATTLE WA", "starbucks"),
        ("CONTACTLESS PRET A MANGER 0231 10:42", "pret a manger"),
        ("Corner Cafe", "corner cafe"),
        ("SHELL 44", "shell"),
        ("PAYPAL *NETFLIX 4029357733", "paypal netflix"),
        ("McDonald's 0123", "mcdonald's"),
        ("12/03/2026", ""),
    ],
)
def test_payee_key_table(raw: str, payee: str) -> None:
    assert payee_key(raw) == payee


def test_two_spellings_of_one_store_learn_together() -> None:
    a, b = "TESCO STORES 3297 LONDON 12/03", "TESCO STORES 1234"
    assert learnt_pattern(a) == learnt_pattern(b)
    rules = RuleSet((Rule(learnt_pattern(a), "Groceries"),))
    assert rules.category(b, -500) == "Groceries"
    assert rules.category("CARD PURCHASE TESCO STORES ****9999", -500) == "Groceries"
    assert rules.category("SAINSBURYS 12", -500) == ""


def test_a_short_payee_keeps_the_whole_description() -> None:
    assert learnt_pattern("BP") == "bp"  # '%bp%' would match half the statement
    assert not like_regex(learnt_pattern("BP")).fullmatch("bp 1234 london")


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8)
_NOISE = st.sampled_from(["", " 1234", " 3297 LONDON", " ****4411", " 12/03", " 12/03/2026 10:42", " #88"])
_PREFIX = st.sampled_from(["", "POS ", "CARD PURCHASE ", "VISA PURCHASE ", "CONTACTLESS "])


@given(words=st.lists(_WORD, min_size=1, max_size=3), noise=_NOISE, prefix=_PREFIX, case=st.booleans())
def test_noise_around_a_payee_does_not_change_it(
    words: list[str], noise: str, prefix: str, case: bool
) -> None:
    name = " ".join(words)
    if payee_key(name) != name:  # a generated word that is itself a prefix word ('pos', 'card') is no payee
        return
    raw = prefix + (name.upper() if case else name) + noise
    assert payee_key(raw) == name
    assert like_regex(learnt_pattern(name)).fullmatch(raw.lower())


@given(st.text(max_size=40))
def test_a_learnt_pattern_matches_its_own_description(raw: str) -> None:
    assert like_regex(learnt_pattern(raw)).fullmatch(raw.lower())
