"""combine_totals: a leading 1 misread as 4 or 7 by one reading votes for the amount another reads."""

from __future__ import annotations

from decimal import Decimal

from finjobs.domain.receipts import combine_totals

# Receipt 215's two page readings in short: the scaled --psm 6 reading has the right 109.70 tied with
# an item line; the --psm 4 reading reads the TOTAL line's leading "1" as "4".
SCALED = "ITEM A 8.70\nTOTAL 109.70\nCASH 110.00\n"
PSM4 = "ITEM A 8.70\nTOTAL 409.70\nCASH 410.00\n"


def test_a_leading_four_votes_for_the_leading_one_another_reading_has() -> None:
    assert combine_totals([PSM4])[0] == Decimal("409.70")  # alone, nothing says it is misread
    assert combine_totals([SCALED, PSM4])[0] == Decimal("109.70")
    assert combine_totals([PSM4, SCALED])[0] == Decimal("109.70")


def test_a_real_leading_four_stands_when_no_reading_has_the_one() -> None:
    assert combine_totals(["TOTAL 45.00\n", "TOTAL 45.00\nCASH 50.00\n"])[0] == Decimal("45.00")


def test_a_single_digit_amount_is_not_taken_for_a_misread() -> None:
    # "4.00" is as likely 4.00 as 1.00: only amounts of two or more digits before the point move
    assert combine_totals(["TOTAL 4.00\n", "TAX 1.00\nTOTAL 4.00\n"])[0] == Decimal("4.00")


def test_vote_features_sum_each_amount_s_features_over_the_readings() -> None:
    from finjobs.domain.receipt_candidates import Candidate
    from finjobs.domain.receipt_totals import vote_features
    from finjobs.domain.receipts import total_scores

    feats = vote_features([SCALED, PSM4])
    assert Decimal("409.70") not in feats  # counted for 109.70
    assert feats[Decimal("109.70")]["total.label_total"] == 2.0
    # scored by the weights table, the summed features are the sum of the readings' scores
    scores = {v: Candidate(v, f).score for v, f in feats.items()}
    assert (
        scores[Decimal("8.70")] == total_scores(SCALED)[Decimal("8.70")] + total_scores(PSM4)[Decimal("8.70")]
    )


def test_a_percentage_is_no_amount() -> None:
    # Receipt 248: the GST line "(Included) 6.00 % RM0.40" is labelled like a total; its rate is no total.
    text = "Parking Fee Rate A RM7.00\n3TCIncluded) 6.00 % Ro. 40\nPaid RM7.00\nChange RM0.00\n"
    assert combine_totals([text])[0] == Decimal("7.00")
    from finjobs.domain.receipt_lines import amounts

    assert amounts("SR 6.00% 10.00 0.60") == [Decimal("10.00"), Decimal("0.60")]


def test_a_whole_unit_on_a_rounding_adjustment_line_is_a_misread_adjustment() -> None:
    # Receipt 247: "Rounding Adjustment: 9.00" (0.00 misread) is no rounded total ...
    text = "Total Inc. GST 6%: 758.70\nRounding Adjustment: 9.00\nFinal Total $ 758.70\nCash : 760.00\n"
    assert combine_totals([text])[0] == Decimal("758.70")
    # ... while a rounding line that names no adjustment still holds the rounded total
    assert combine_totals(["Total Sales 42.33\nRounding RM = 42.35\n"])[0] == Decimal("42.35")


def test_an_amount_the_page_s_arithmetic_confirms_is_no_misread() -> None:
    # Items 150.00 + 600.00 and CASH 800.00 - CHANGE 50.00 make the printed TOTAL 750.00: the item
    # 150.00 is no reason to read it as a misread 150.00, however many readings of the page vote.
    page = "ITEM A 150.00\nITEM B 600.00\nTOTAL 750.00\nCASH 800.00\nCHANGE 50.00\n"
    assert combine_totals([page])[0] == Decimal("750.00")
    assert combine_totals([page, page])[0] == Decimal("750.00")
    from finjobs.domain.receipt_candidates import WEIGHTS
    from finjobs.domain.receipt_totals import _ARITHMETIC

    assert WEIGHTS.keys() >= _ARITHMETIC  # every name is a feature the candidates carry
