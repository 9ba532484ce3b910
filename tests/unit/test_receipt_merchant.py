"""OCR repair of shop names (receipt_merchant.repair_name) and its effect through parse_receipt."""

from __future__ import annotations

import pytest

from finjobs.domain.receipt_merchant import repair_name
from finjobs.domain.receipts import parse_receipt


@pytest.mark.parametrize(
    ("read", "name"),
    [
        # digit look-alikes inside an abbreviation of single capitals (receipts 201, 208, 259)
        ("MR. D.1. (M) SDN BHD", "MR. D.I. (M) SDN BHD"),
        ("99 SPEED MART 5/B", "99 SPEED MART S/B"),
        # a common name word with one letter misread (receipts 057, 063)
        ("UNIHAKKA INTERNATIGNAL SDN BHD", "UNIHAKKA INTERNATIONAL SDN BHD"),
        ("Petrodeli Enierprise", "Petrodeli Enterprise"),
        ("SINNATHAMBY HOLDINGS SON. GHD", "SINNATHAMBY HOLDINGS SDN BHD"),  # receipt 215
        # marks after the legal suffix (receipts 219, 246, 255)
        ("PRINT EXPERT SDN BHD Hy", "PRINT EXPERT SDN BHD"),
        ("KING'S CONFECTIONERY S/B (8KJ", "KING'S CONFECTIONERY S/B"),
        ("YONG CEN ENTERPRISE FO", "YONG CEN ENTERPRISE"),
    ],
)
def test_repair_name_fixes_slips_the_name_shape_gives_away(read: str, name: str) -> None:
    assert repair_name(read) == name


@pytest.mark.parametrize(
    "name",
    [
        "TEO HENG STATIONERY & BOOKS",  # a listed word is never "corrected" into its neighbour
        "ABC HARDWARE SDN BHD (M)",  # a bracketed branch after the suffix stays
        "TRIPLE SIX POINT ENTERPRISE 666",  # so does a number
        "99 SPEED MART",  # numbers outside abbreviations are not letters
        "OLIVE9 PHARMACY SDN BHD",
        "7-ELEVEN MALAYSIA SDN BHD",
        "AEON CO. (M) BHD",
    ],
)
def test_repair_name_leaves_clean_names_alone(name: str) -> None:
    assert repair_name(name) == name


def test_parse_receipt_returns_the_repaired_name() -> None:
    text = "YONG CEN ENTERPRISE FO\nNO 5 JALAN BESAR\nTOTAL 94.00\n"
    assert parse_receipt(text).merchant == "YONG CEN ENTERPRISE"


@pytest.mark.parametrize(
    "name",
    [
        "ABC GRAVEL SUPPLY",  # G for T is no OCR slip: GRAVEL is a word, not TRAVEL misread
        "JOHN BAKERS",  # nor S for Y (BAKERY)
        "SMITH FOLDINGS",  # nor F for H (HOLDINGS)
    ],
)
def test_a_word_one_letter_from_a_name_word_stays_unless_ocr_confuses_the_two_letters(name: str) -> None:
    assert repair_name(name) == name
