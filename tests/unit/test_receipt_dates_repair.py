"""A day over 31 whose tens digit is a round digit read for 0 is repaired (receipt 211)."""

from __future__ import annotations

from datetime import date

from finjobs.domain.receipts import find_date


def test_a_round_digit_read_for_the_zero_of_the_day_is_repaired() -> None:
    found = find_date("Doc No : CS00183S46 Date: 92/02/2018", latest_year=2027)
    assert found is not None and found[2] == date(2018, 2, 2)
    # month-first prints repair the day in its own place
    found = find_date("Date: 02/82/2018", day_first=False, latest_year=2027)
    assert found is not None and found[2] == date(2018, 2, 2)


def test_a_repaired_day_scores_below_a_clean_date_of_the_same_line_kind() -> None:
    clean, repaired = find_date("Date: 02/02/2018"), find_date("Date: 92/02/2018")
    assert clean is not None and repaired is not None and repaired[0] < clean[0]


def test_other_impossible_days_are_still_no_date() -> None:
    assert find_date("Date: 32/02/2018", latest_year=2027) is None  # 3 is no look-alike of 0
    assert find_date("Date: 95/13/2018", latest_year=2027) is None  # the month is impossible too
