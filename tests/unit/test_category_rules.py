"""The import parser's rule matching: LIKE semantics (with `\\` escapes), rule order, amount ranges."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from finjobs.domain.category_rules import (
    CACHE_DESCRIPTIONS,
    Rule,
    RuleSet,
    like_regex,
    like_tokens,
    literal,
)
from finjobs.services.categories import like_pattern


def test_like_patterns_mean_what_sql_like_means() -> None:
    assert like_regex(like_pattern("TESCO*")).fullmatch("tesco metro 12")
    assert not like_regex(like_pattern("TESCO*")).fullmatch("my tesco")
    assert like_regex(like_pattern("*amazon?mk*")).fullmatch("www.amazon mktplace")
    assert like_regex(literal("100% juice_bar")).fullmatch("100% juice_bar")
    assert not like_regex(literal("100% juice_bar")).fullmatch("100x juiceXbar")


def test_the_first_rule_that_fits_the_amount_wins() -> None:
    rules = RuleSet(
        (
            Rule("amazon%", "Big", max_minor=-10000),
            Rule("amazon%", "Shopping"),
            Rule("%", "Other", min_minor=0),
        )
    )
    assert rules.category("AMAZON MKTPL*1", -25000) == "Big"
    assert rules.category("AMAZON MKTPL*1", -1200) == "Shopping"
    assert rules.category("Salary", 5000) == "Other"
    assert rules.category("Kiosk", -100) == ""


def naive_match(rules: tuple[Rule, ...], description: str, amount_minor: int) -> Rule | None:
    """The definition RuleSet must keep: every pattern tried, in order, on the lower-cased text."""
    text = description.lower()
    return next((r for r in rules if like_regex(r.pattern).fullmatch(text) and r.fits(amount_minor)), None)


# small alphabets, so that prefixes, literal runs, wildcards and escapes collide often
_pattern = st.text(alphabet="ab%_\\.Å", max_size=8) | st.builds(
    lambda head, mid, tail: head + mid + tail,
    st.sampled_from(["", "%", "_", "ab", "%b"]),
    st.text(alphabet="abc", min_size=0, max_size=5),
    st.sampled_from(["", "%", "_%", "\\%", "c"]),
)
_bound = st.none() | st.integers(-3, 3)
_rules = st.lists(
    st.builds(Rule, _pattern, st.sampled_from(["A", "B", "C"]), _bound, _bound, st.booleans()), max_size=12
)
_text = st.text(alphabet="abcABÅå%_\\. ", max_size=10)


@st.composite
def _text_matching(draw: st.DrawFn, pattern: str) -> str:
    """A description `pattern` matches (any case), so that probes hit rules, not just miss them."""
    filler = st.text(alphabet="abcÅ. ", max_size=3)
    out = [
        (draw(filler) if ch == "%" else draw(st.sampled_from("abcÅ"))) if is_wild else ch
        for is_wild, ch in like_tokens(pattern)
    ]
    return "".join(out).upper() if draw(st.booleans()) else "".join(out)


@settings(max_examples=500, deadline=None)
@given(rules=_rules, data=st.data(), cache=st.sampled_from([1, 2, CACHE_DESCRIPTIONS]))
def test_the_indexed_rule_set_matches_what_trying_every_rule_in_order_would(rules, data, cache) -> None:
    made = [data.draw(_text_matching(r.pattern)) for r in rules]
    texts = made + data.draw(st.lists(_text, max_size=4))
    probes = [(t, data.draw(st.integers(-4, 4))) for t in texts] or [("", 0)]
    indexed = RuleSet(tuple(rules), cache_size=cache)
    for description, amount in probes + probes:  # twice: cached candidates give the same answer
        assert indexed.match(description, amount) == naive_match(tuple(rules), description, amount)


def test_the_index_finds_prefix_inner_and_unindexable_patterns_among_many() -> None:
    many = tuple(Rule(like_pattern(f"NO SUCH PAYEE {i:04d}*"), "Unused") for i in range(1000))
    rules = RuleSet(
        (
            *many,
            Rule("%coffee%", "Coffee"),  # no literal prefix: indexed by its longest literal run
            Rule("tesco%", "Groceries", max_minor=-1),
            Rule("%b%", "Bee"),  # no prefix, no run of GRAM characters: tried on every text
            Rule("tesco%", "Refund"),
        )
    )
    assert rules.category("NO SUCH PAYEE 0999 x", 0) == "Unused"
    assert rules.category("Best Coffee 12", -300) == "Coffee"
    assert rules.category("TESCO STORES 1", -300) == "Groceries"
    assert rules.category("TESCO STORES 1", 300) == "Refund"
    assert rules.category("a bee", 0) == "Bee"
    assert rules.category("no such payee", 0) == ""
