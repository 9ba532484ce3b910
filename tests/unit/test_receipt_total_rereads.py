"""The total-line re-reads: which lines are re-read, what a re-read states, and how it votes."""

from __future__ import annotations

from decimal import Decimal

from finjobs.domain.receipt_candidates import Candidate, weight
from finjobs.domain.receipt_totals import MAX_TOTAL_LINES, reread_amount, total_lines, vote_features
from finjobs.domain.receipts import combine_totals

PAGE = "ITEM A 8.70\nSUB TOTAL 8.70\nGRAND TOTAL\n9.00\nCASH 10.00\nCHANGE 1.00\n"


def test_total_lines_are_the_total_family_lines_and_the_line_a_bare_label_lends_to() -> None:
    # the subtotal (weak), tender and change lines are not re-read; "GRAND TOTAL" and its amount's line are
    assert total_lines(PAGE) == [2, 3]
    many = "".join(f"TOTAL {k}.00\n" for k in range(1, 7))
    assert total_lines(many) == list(range(6 - MAX_TOTAL_LINES, 6))  # the last ones
    assert total_lines("ITEM 3.00\nCASH 5.00\n") == []


def test_a_reread_states_its_rightmost_positive_amount() -> None:
    assert reread_amount("R.RM 60,34") == Decimal("60.34")
    assert reread_amount("9.85 0.59 10.44") == Decimal("10.44")
    assert reread_amount(".") is None
    assert reread_amount("") is None


def test_rereads_add_their_amounts_as_candidates_and_agreement_adds_up() -> None:
    feats = vote_features([PAGE], [Decimal("9.00"), Decimal("9.00"), Decimal("6.00")])
    assert feats[Decimal("9.00")]["total.line_reread"] == 2.0
    assert feats[Decimal("6.00")] == {"total.line_reread": 1.0}  # in no page reading: a new candidate
    alone = Candidate(Decimal("9.00"), vote_features([PAGE])[Decimal("9.00")]).score
    agreed = Candidate(Decimal("9.00"), feats[Decimal("9.00")]).score
    assert agreed == alone + 2 * weight("total.line_reread")
    assert combine_totals([PAGE], [Decimal("6.00")])[0] == Decimal(
        "9.00"
    )  # one re-read is no match for the page


def test_rereads_that_agree_outvote_a_misread_page_total() -> None:
    # receipt 213 in short: the page reads the TOTAL line's 10.45 as 740.45, every re-read 10.45
    page = "ITEM 10.45\nTOTAL 740.45\n"
    assert combine_totals([page])[0] == Decimal("740.45")
    assert combine_totals([page], [Decimal("10.45")] * 4)[0] == Decimal("10.45")
