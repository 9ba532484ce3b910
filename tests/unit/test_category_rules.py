"""The import parser's rule matching: LIKE semantics (with `\\` escapes), rule order, amount ranges."""

from __future__ import annotations

from finjobs.domain.category_rules import Rule, RuleSet, like_regex, literal
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
