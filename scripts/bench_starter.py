"""What the starter rule table costs the import's parser: rows/s of category matching over the sample
generator's rows (finjobs/sample_data.py) with the user's rules alone (the baseline) and with the
starter table below them, in one process; prints each and `ratio_starter_vs_rules=` (>= 0.9 wanted).

    .venv/bin/python scripts/bench_starter.py [--rows 1000000] [--rules 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from finjobs.domain.category_rules import Rule, RuleSet
from finjobs.domain.category_starter import WithStarter
from finjobs.sample_data import SAMPLE_RULES, transactions
from finjobs.services.categories import like_pattern


def user_rules(n: int, *, cover: bool, ranged: bool = False) -> tuple[Rule, ...]:
    """SAMPLE_RULES (which categorise every sample payee) when `cover`, then never-matching rules to n;
    `ranged`: the first of these has an amount range (so results are not cached by sign)."""
    rules = [Rule(like_pattern(m), c) for m, c in SAMPLE_RULES.items()] if cover else []
    if ranged:
        rules.insert(0, Rule(like_pattern("AMAZON*"), "Big", max_minor=-10000))
    rules += [Rule(like_pattern(f"NOSUCHPAYEE{i}*"), "Never") for i in range(n - len(rules))]
    return tuple(rules)


def rate(rows: list[tuple[str, int]], make: Callable[[], RuleSet], repeat: int) -> float:
    """Best rows/s of a fresh rule set (as each import makes one) matching every row."""
    best = 0.0
    for _ in range(repeat):
        rules = make()
        start = time.perf_counter()
        for description, amount in rows:
            rules.match(description, amount)
        best = max(best, len(rows) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = [(d, a) for _day, d, a in transactions(args.rows)]
    print(f"rows={len(rows)} distinct_descriptions={len({d for d, _ in rows})} rules={args.rules}")
    cases = {"rules_cover_all": (True, False), "rules_match_none": (False, False)}
    cases["rules_cover_all_one_ranged"] = (True, True)
    for label, (cover, ranged) in cases.items():
        rules = user_rules(args.rules, cover=cover, ranged=ranged)
        base = rate(rows, lambda rules=rules: RuleSet(rules), args.repeat)
        starter = rate(rows, lambda rules=rules: WithStarter(rules), args.repeat)
        print(
            f"{label}: rules_only_rows_per_s={base:,.0f} with_starter_rows_per_s={starter:,.0f} "
            f"ratio_starter_vs_rules={starter / base:.3f}"
        )


if __name__ == "__main__":
    main()
