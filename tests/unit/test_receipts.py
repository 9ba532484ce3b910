"""parse_receipt on OCR text as Tesseract 5.3 really printed it for SROIE receipt photos (pure, fast)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finjobs.domain.receipts import (
    WEIGHTS,
    Candidate,
    LineItem,
    ReceiptFields,
    TxnCandidate,
    Word,
    combine_totals,
    date_line,
    find_date,
    label_line,
    match_transaction,
    merchant_similarity,
    parse_date,
    parse_receipt,
    repair_year,
    total_scores,
    vote,
    vote_date,
)

# --- Tesseract --psm 6 output, verbatim (noise, garbled words and all) -------------------------------

# Rounding adjustment, unlabelled rounded total, "RH" for RM, "60,30" decimal comma, cash/change.
INDAH = """tan woon yann
INDAH GIFT & HOME BECO
27, JALAN DEDAF 13,
TAMAN JOHOR JAYA,
81100 JOHOR BAHRU, JOHOR.
Tel:07-3507405 Fax:07-3558160
RECEIPT
19/10/2018 20:49:59 #01
Cashier: CN Location/SP: 05 /0531
Desc/Iten Gty Price Amt/RH)
ST-PRIVILEGE CARD/GD INDAH
89888 1 10.00 10.00
GF-TABLE LAMP/STITCH <i>
62483 1 55.90 55.90
@MIsc 10.00% “5.59.
HTotal Qty 2 Sa
TOTAL ANT scccarccveseees RH 60.31
ROUNDING ADJ. ...0-6e0e0e “0.01
RH 60,30 J
CASH. .osseccevesseereaee RH 70.30
CHANGE concccsecsceccseae RN 10.00
Thank You ! Please Come Again !"""

# "Total Sales (Inclusive of GST)" garbled to "Sajesfoclusivs"; a GST summary table repeats 80.91 below.
YONGFATT = """tan woon yann
YONGFATT ENTERPRISE
(JM0517726)
NO.122.124. JALAN DEDAP 13.
81100 JOHOR BAHRU
TEL 67-3523888
GST ID 000849812504
SIMPLIFIED TAX INVOICE
CASH
Doc No. CS00031663 Date 25/12/2018
Caste USER Time 123100
fam Qty SiPrice Amount Tax
£8318 1 8091 8091 SR
ELEGANT SCH TR BAG 15
Total Qty 1 8094
Total Sales (Excluding GST) 60.91
Discount 000
Total GST 0.00
Rounding -001
Total Sajesfoclusivs of GST) : 80.90
CASH : 100.00
Change : 49.10
|GST SUMMARY |
| Taxcode — % — AMI(RM) Tax (RM) |
| SR 0 80.91 000!
| Total 80.91 0.00|"""

# The TOTAL line is garbled ("TORe"); subtotal + GST and cash with zero change agree on 73.00.
# "RM 68. 87": a space inside the number.
LIGHTROOM = """LIGHTROOM GALLERY SDN BHD
Bill Date : 20/12/2017 7 PK
2 * RM 33.02 UNIT ( 3.96)=RM 66.04
Sub Total q RM 68. 87
Service Charge ; RM 0. 00
GST/TAX 6% 4 RM 4.13
TORe RM 73. 00
CA. : RM = 73.00 :
CHANGE: RM 0.00
GST Summary Amount (RM) Tax (RM)
SR @ 6% 68. 87 4.13"""

# "Sub Total (RM)" must not pass for the total; the "Total (RM)" after rounding is the answer.
ZHENG_HUI = """PERNIAGAAN ZHENG HUI
NO.89 JALAN PERMAS 9/6
BANDAR BARU PERMAS JAYA
81750 JOHOR BAHRU
Date : 09/03/2018
Cashier, USER Time: 08:49:00
tom Qty _RSP__ Amount
40278 GA iol 1 170.00 170.0
(Excluded GST) Sub Total (RM) 313.50
Discount(RM) + 000
Total GST (RM) 18.81 .
Rounding (RM) : -0.01
Total (RM) : 332.30
GASH : 382.30
Change (RM) : 0.00
GST SUMMARY
_JexGode Amount GBT
SR 6 313.50 1681"""

# "$" prefixes, "05 Mar 2018" date, a noise line above the name.
UNIHAKKA = """A0So0/@
UNIHAKKA INTERNATIONAL SDN BHD
05 Mar 2018 18:24
(867388-U)
12, Jalan Tampoi 7/4,Kawasan Petindustrian
TAX INVOICE
Item Qty Total
“SR 100100000080-4Vege
$5.50 1 $6.50
SR 100100000006- Pork
$2.70 1 $2.70
Total Amount: $8.20
GST @6%; $0.46
Nett Total: $8.20
Payment Mode Amount
CASH $8.20
Change $0.00"""

# "ORD #50 -REG #19- 18/01/2018": a false start at "19- 18/01" must not hide the date.
MCD = """1950 sl
Gerbang Alaf Restaurants Sdn Bhd
(65351-M)
formerly known as
Golden Arches Restaurants Sdn biid
TAX INVOICE
ORD #50 -REG #19- 18/01/2018 10:27:03
QTY ITEM TOTAL
2 ChicMcMuf fin 11.00
1M Porridge 5.60
1 BM 2HotCakes 10.00
TakeOut Total (incl GST) 26.60
Total Rounded 26.60
Cash Tendered 90.00
Change 73,40"""

# Month-first as printed (12/28/2017 cannot be day-first) on a day-first receipt.
HASSAN = """TAX INVOICE
TERMINAL : Cl
DATE : 12/28/2017 10:17:32 PM
Total Incl.6% GST RM 15.00
CASH RM 20.00
CHANGE RM 5.00"""


@pytest.mark.parametrize(
    ("text", "merchant", "when", "total"),
    [
        (INDAH, "INDAH GIFT & HOME BECO", date(2018, 10, 19), "60.30"),
        (YONGFATT, "YONGFATT ENTERPRISE", date(2018, 12, 25), "80.90"),
        (LIGHTROOM, "LIGHTROOM GALLERY SDN BHD", date(2017, 12, 20), "73.00"),
        (ZHENG_HUI, "PERNIAGAAN ZHENG HUI", date(2018, 3, 9), "332.30"),
        (UNIHAKKA, "UNIHAKKA INTERNATIONAL SDN BHD", date(2018, 3, 5), "8.20"),
        (MCD, "Gerbang Alaf Restaurants SDN Bhd", date(2018, 1, 18), "26.60"),
        (HASSAN, None, date(2017, 12, 28), "15.00"),
    ],
)
def test_real_tesseract_text(text: str, merchant: str | None, when: date, total: str) -> None:
    fields = parse_receipt(text, locale_hint="MY")
    assert fields.merchant == merchant
    assert fields.date == when
    assert fields.to_dict()["total"] == total
    assert fields.currency == "MYR"


def test_to_dict_shape() -> None:
    d = parse_receipt(ZHENG_HUI, locale_hint="MY").to_dict()
    assert set(d) == {"merchant", "date", "total", "currency", "tax", "items", "confidence"}
    assert d["date"] == "2018-03-09"
    assert d["total"] == "332.30"
    assert d["tax"] == "18.81"
    assert set(d["confidence"]) == {"merchant", "date", "total"}
    assert all(0.0 <= c <= 1.0 for c in d["confidence"].values())


def test_items_with_quantity_and_price() -> None:
    items = parse_receipt(INDAH, locale_hint="MY").items
    # The description sits on the line above "89888 1 10.00 10.00" (code, qty, unit price, amount).
    assert items[:2] == [
        LineItem("ST-PRIVILEGE CARD/GD INDAH", Decimal("1"), 1000),
        LineItem("GF-TABLE LAMP/STITCH", Decimal("1"), 5590),
    ]


# Receipt 070 (first pass) plus made-up lines: quantity x unit price printed on a line of its own.
SPEED_MART_ITEMS = """99 SPEED MART S/B
INVOICE NO s 18299/182/76230
250% YONCCHUN LOKAN MNORN S = RM62.00 z
@5 X RM 12.00
2508 YONSCHUN LOKAK MNDRN # = -RN79.00 z
@5 X RK 15.80
2 @ 3.50
TEH TARIK 7.00
Total Sales (Inclusive GST? RN 148.58"""


def test_a_quantity_line_goes_to_the_item_its_product_matches() -> None:
    items = parse_receipt(SPEED_MART_ITEMS, locale_hint="MY").items
    assert [(i.quantity, i.price_minor) for i in items] == [
        (None, 6200),  # "@5 X RM 12.00" is 60.00: a misread digit, so no quantity, and no item either
        (Decimal("5"), 7900),  # the line below: 5 x 15.80
        (Decimal("2"), 700),  # the line above: 2 x 3.50
    ]
    assert items[2].description == "TEH TARIK"
    # The quantity belongs to the line right below only: a line that is no item does not pass it on.
    text = "ITEM QTY AMOUNT\n2 @ 3.50\nCASH 7.00\nMEE GORENG 5.00\nTOTAL 12.00"
    assert [(i.description, i.quantity) for i in parse_receipt(text).items] == [("MEE GORENG", None)]


def test_empty_text_gives_nothing_found() -> None:
    fields = parse_receipt("", locale_hint="MY")
    assert fields == ReceiptFields(currency="MYR", confidence={"merchant": 0.0, "date": 0.0, "total": 0.0})
    assert parse_receipt("").currency == ""
    assert fields.to_dict()["total"] is None and fields.to_dict()["date"] is None


@pytest.mark.parametrize(
    ("line", "when"),
    [
        ("Date 25/12/2018 8:13:39 PH", date(2018, 12, 25)),
        ("12-01-19 21:13 SHO", date(2019, 1, 12)),
        ("25 DEC 2018", date(2018, 12, 25)),
        ("2018-12-25", date(2018, 12, 25)),
        ("DATE: 25.12.2018 10:22", date(2018, 12, 25)),
        ("Date: O6/O3/2018", date(2018, 3, 6)),  # O for 0
        ("28 MAR 18", date(2018, 3, 28)),
        ("Bill Date : 2O/11/2017", date(2017, 11, 20)),
    ],
)
def test_date_formats_day_first(line: str, when: date) -> None:
    assert parse_date(line, day_first=True)[0] == when


@pytest.mark.parametrize(
    ("text", "hint", "currency"),
    [
        ("TOTAL RM 9.00", None, "MYR"),
        ("Total 9.00 S$", "MY", "MYR"),  # "S$" after a price is a GST code, not Singapore dollars
        ("TOTAL S$ 9.00", None, "SGD"),
        ("TOTAL $9.00\nSHOP SDN BHD", None, "MYR"),
        ("TOTAL $9.00", None, "USD"),
        ("TOTAL 9.00", "en_SG", "SGD"),
        ("TOTAL 9.00", None, ""),
    ],
)
def test_currency(text: str, hint: str | None, currency: str) -> None:
    assert parse_receipt(text, locale_hint=hint).currency == currency


def test_locale_decides_ambiguous_dates() -> None:
    assert parse_receipt("DATE 03/04/2018", locale_hint="MY").date == date(2018, 4, 3)
    assert parse_receipt("DATE 03/04/2018", locale_hint="en_US").date == date(2018, 3, 4)


def test_date_label_beats_other_dates() -> None:
    text = "Promo valid till 31/12/2019\nDate: 02/01/2019 10:00\n"
    assert parse_receipt(text).date == date(2019, 1, 2)


@pytest.mark.parametrize(
    ("text", "total"),
    [
        ("SUBTOTAL 10.00\nTOTAL RM 1O.6O\n", "10.60"),  # O for 0
        ("GRAND TOTAL RM1,234.50\n", "1234.50"),
        ("TOTAL\nRM 12. 30\n", "12.30"),  # amount on the next line, space in the number
        ("Total : 9.00\nRounding Adjustment 0.00\nRounded Total (RM): 9.00\nCash 10.00\nCHANGE 1.00", "9.00"),
        ("AMOUNT DUE 45,90\n", "45.90"),
        ("TOTAL QTY 3 4.00\nNETT TOTAL 27.50\nCASH 50.00\nCHANGE 22.50\n", "27.50"),
        # A tender with "CHANGE 0.00" must not outvote a readable TOTAL line.
        ("TOTAL 42.50\nCASH 100.00\nCHANGE 0.00\n", "42.50"),
        # ... but a garbled TOTAL line loses to the exact tender confirmed by a printed amount.
        ("TORe RM 73. 00\nCASH RM 73.00\nCHANGE RM 0.00\nTOTAL QTY 2 6.00\n", "73.00"),
        ("JUMLAH RM 18.40\nTUNAI RM 20.00\nBAKI RM 1.60\n", "18.40"),  # Malay labels
        ("NET AMOUNT 12.00\nSERVICE CHARGE 10% 1.20\n", "12.00"),
        # Tesseract lost the total's first digit; subtotal + tax + rounding recovers it.
        ("SUB-TOTAL (EX) : 26,00\nTOTAL TAX : 1,56\nROUNDING : -0.01\nTOTAL JAX re 7.55\n", "27.55"),
    ],
)
def test_total_ocr_noise(text: str, total: str) -> None:
    assert parse_receipt(text, locale_hint="MY").to_dict()["total"] == total


def test_low_confidence_noise_line_is_not_the_merchant() -> None:
    text = "ce INE OILED SIE SESS SDE\nKEDAI RUNCIT MAJU\n"
    words = [Word(w, 0, conf=20.0) for w in text.splitlines()[0].split()] + [
        Word(w, 1, conf=90.0) for w in text.splitlines()[1].split()
    ]
    assert parse_receipt(text, words).merchant == "KEDAI RUNCIT MAJU"
    # Without word confidences the same garbage line looks like a company name.
    assert parse_receipt(text).merchant != "KEDAI RUNCIT MAJU"


def test_merchant_joins_split_lines() -> None:
    assert parse_receipt("HOME MASTER HARDWARE &\nELECTRICAL\nNO. 2, JALAN X\n").merchant == (
        "HOME MASTER HARDWARE & ELECTRICAL"
    )
    assert (
        parse_receipt("tan woon yann\nMR D.I.Y. (JOHOR)\nSON BHD\n").merchant == "MR D.I.Y. (JOHOR) SDN BHD"
    )
    # A line of nothing but business-type words is the tail of the name above it ...
    text = "GOLDEN PHOENIX SEAFOOD\nRESTAURANT SDN BHD\n(1165036-X)\nNO. 8, JALAN PUTERI\n"
    assert parse_receipt(text).merchant == "GOLDEN PHOENIX SEAFOOD RESTAURANT SDN BHD"
    # ... but a real name with a business word is complete on its own.
    assert parse_receipt("THANK YOU\nASIA MART\nNO 5 JALAN BESAR\n").merchant == "ASIA MART"


@settings(max_examples=60, deadline=None)
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(["%d/%m/%Y", "%d-%m-%y", "%d %b %Y", "%Y-%m-%d", "%d.%m.%Y", "%d %B %Y"]),
)
def test_any_printed_date_round_trips(when: date, fmt: str) -> None:
    text = f"INVOICE\nDate: {when.strftime(fmt).upper()} 10:22\nTOTAL RM 1.00"
    assert parse_receipt(text, locale_hint="MY").date == when


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2))
def test_any_total_round_trips(amount: Decimal) -> None:
    text = f"SHOP SDN BHD\nITEM A 1 {amount}\nTOTAL (RM) : {amount:,}\nCASH RM {amount + 10}\nCHANGE RM 10.00"
    assert parse_receipt(text, locale_hint="MY").to_dict()["total"] == str(amount)


# --- voting on several OCR readings of the date line ---------------------------------------------------


def test_vote_date_outvotes_one_misread_digit_per_component() -> None:
    # page "19/03/2018" (counts double) vs four crops that mostly read "10/03/2078" and "10/02/2018"
    readings = [
        (2.0, date(2018, 3, 19)),
        (1.0, date(2078, 3, 10)),
        (1.0, date(2018, 2, 10)),
        (1.0, date(2078, 3, 10)),
        (1.0, None),
    ]
    assert vote_date(readings, latest_year=2027) == date(2018, 3, 10)


def test_vote_date_impossible_year_keeps_its_day_and_month() -> None:
    readings = [(2.0, date(2048, 3, 14)), (1.0, date(2018, 3, 4))]
    assert vote_date(readings, latest_year=2027) == date(2018, 3, 14)


def test_vote_date_ties_go_to_the_page_and_nothing_gives_none() -> None:
    assert vote_date([(1.0, date(2018, 1, 26)), (1.0, date(2018, 1, 25))], latest_year=2027) == date(
        2018, 1, 26
    )
    assert vote_date([(2.0, None), (1.0, None)], latest_year=2027) is None
    assert vote_date([(2.0, date(2048, 1, 1))], latest_year=2027) is None
    # components that disagree into an impossible day: no date rather than a made-up one
    split = [(2.0, date(2018, 2, 10)), (1.5, date(2018, 1, 31)), (1.5, date(2018, 5, 31))]
    assert vote_date(split, latest_year=2027) is None  # month 02 wins, day 31 wins: no 31 February


@settings(max_examples=50, deadline=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2027, 12, 31)), st.integers(1, 4))
def test_vote_date_agreeing_readings_round_trip(when: date, copies: int) -> None:
    assert vote_date([(1.0, when)] * copies + [(1.0, None)], latest_year=2027) == when


def test_date_line_finds_the_date_or_a_garbled_one() -> None:
    assert date_line("SHOP SDN BHD\nTOTAL 5.00\nDate: 19/03/2018 5:41") == 2
    assert date_line("AEON CO. (M) BHD\nCASH 100.00\nO6/C2/2016 20:01 1010") == 2  # no date parses
    assert date_line("AEON\nTOTAL 5.00") is None


def test_date_line_skips_document_numbers_for_a_faint_dot_matrix_date() -> None:
    # Receipt 070, first pass: the date "05-02-18" lost its first dash and read "$5 92-18"; the invoice
    # number above it is slash-separated but no date (five-digit and three-digit groups).
    text = "99 SPEED MART 9/2 (519837: x)\nINVOICE NO s 18299/182/76230\nS12 340% $4801? $5 92-18"
    assert date_line(text) == 2
    assert date_line("INVOICE NO s 18299/182/76230\nTOTAL 5.00") is None
    # Synthetic receipt 027 (seed 2), a dot-matrix item line: quantity, unit price, amount.
    assert date_line("STREPSILS HONEY 4 489.36 41.20 SR\nWood Glue 258m. 4 4.06 16.24") is None


def test_date_line_takes_a_labelled_garbled_date_and_never_a_promotion() -> None:
    # Synthetic receipt 045 (seed 1, dot-matrix), first pass: the sale date "2018-06-12" read
    # "2818-66-12" (no date parses, and year-first is no _DATE_LIKE shape); the promotion's date below
    # it looks like a date but is never the sale's, so its line is not the one to re-read.
    text = "BILL NO: INVOS93E?\nTarikh: 2818-66-12 TIME: 13:34:29\nNO REFUND\nOffer ends 20/7/2618"
    assert date_line(text) == 1
    assert date_line("NO REFUND\nOffer ends 20/7/2618") is None
    assert date_line("DATE: 12") is None  # a label with too few digits to hold a date


# --- matching a receipt to a bank transaction ------------------------------------------------------------


def test_merchant_similarity() -> None:
    assert merchant_similarity("UNIHAKKA INTERNATIONAL SDN BHD", "POS 4411 UNIHAKKA INTL JB") >= 0.5
    assert merchant_similarity("AEON CO. (M) BHD", "AEON BIG TEBRAU") == 1.0
    assert merchant_similarity("AEGON CO. (M) BHD", "AEON BIG") >= 0.5  # one OCR slip still matches
    assert merchant_similarity("SANYU STATIONERY SHOP", "PETRONAS TAMPOI") < 0.5
    assert merchant_similarity(None, "ANYTHING") == 0.0
    assert merchant_similarity("SDN BHD", "POS PURCHASE") == 0.0  # nothing but noise words


D = date(2018, 3, 27)


def cand(i: int, days: int, minor: int, desc: str, cur: str = "MYR") -> TxnCandidate:
    return TxnCandidate(i, D + timedelta(days=days), minor, cur, desc)


def test_match_needs_exact_amount_currency_and_window() -> None:
    cands = [
        cand(1, 0, -691, "UNIHAKKA"),  # amount off by a cent
        cand(2, 4, -690, "UNIHAKKA"),  # outside the 3-day window
        cand(3, 0, 690, "UNIHAKKA"),  # a refund, not an expense
        cand(4, 0, -690, "UNIHAKKA", "USD"),  # other currency
    ]
    assert match_transaction(690, "MYR", D, "UNIHAKKA INTERNATIONAL", cands) is None
    found = match_transaction(690, "MYR", D, "UNIHAKKA", [*cands, cand(5, -3, -690, "POS UNIHAKKA")])
    assert found is not None and found[0].id == 5


def test_match_prefers_the_similar_description_then_the_nearest_date() -> None:
    cands = [cand(1, 1, -690, "PETRONAS"), cand(2, 2, -690, "UNIHAKKA INTL"), cand(3, -1, -690, "UNIHAKKA")]
    found = match_transaction(690, "MYR", D, "UNIHAKKA INTERNATIONAL SDN BHD", cands)
    assert found is not None and found[0].id == 3  # both UNIHAKKA ones are alike; 3 is a day away, 2 two


def test_match_alone_is_enough_but_several_unlike_ones_are_ambiguous() -> None:
    only = [cand(7, 1, -690, "CARD 8812")]
    found = match_transaction(690, "MYR", D, "UNIHAKKA", only)
    assert found is not None and found[0].id == 7
    two = [cand(7, 1, -690, "CARD 8812"), cand(8, 2, -690, "GRAB RIDE")]
    assert match_transaction(690, "MYR", D, "UNIHAKKA", two) is None
    assert match_transaction(None, "MYR", D, "UNIHAKKA", only) is None
    assert match_transaction(690, "MYR", None, "UNIHAKKA", only) is None
    assert match_transaction(690, "", D, "UNIHAKKA", only) is not None  # currency unknown: amount decides


# --- several readings of one receipt, year repair, glued dates ------------------------------------

# Receipt 037 read with the page scaled to ~24 px words, --psm 6: "Total Amount + 49, 60" (before
# service charge and GST) has a label and the real total line below it lost a digit's worth of votes.
WARAKUYA_SCALED_PSM6 = """DN cess op
NO 2obo
WARAKUYA PERMAS CITY SON BHD
Reg No: 1203194-W
8 JALAN PERMAS UTARA i , :
PERMAS JAYA 31750 MASAI JOHOR
. Tel: 0111-558 0000
| GST IB: 0016 68993 5104 | Fe
TAX INVOICE NO | 42 =!
|
88244 | eee re Oey | .
Date: 10/03/2078 5:41:06 PAX NO: 4
: Cashier: cashivr3
Waiter: HANYIN
Qty Code/Desc Total RM
: 3 SABA SHIO YAKI SEY 53.70 ;
1 SALMON SHIGO SET ‘ 21.90
4 iCED GREEN TEA . 4.00
SUBTOTAL S80.
PISCOUNT -30. 06 : , a
Total Amount + 49, 60
Serv Charge 10% 4. OG
GST @ 6% ¥.33
Rounding Adj : -0. 03 5
Total Amount: = ts™*~S«~ST
TOTAL: RM 57.80
Type 3 :
GS) Suriméry Amoun i Ril TAX WM
SR Git aL. a8 Side
eo) Thank You )} Please Some again } ... ;"""

# The same page, --psm 4: "Total Amount: 57, 80." is read, but the last line says "RM 87.80".
WARAKUYA_SCALED_PSM4 = """Reg No: 1203194-W
JALAN PERMAS UTARA 1
PERMAS JAYA 81750 MASAI JOHOR
Tel 0111-558 0000
| GST ID: 0016 8993 5104 |
TAX INVOICE NO 42 =!
88244 ee en |
Date: 10/03/2078 5:41:06 PAX NO: 4
Cashier: cashier
Watter: HANYIN
Qty Code/Desc
Total RM
3 SABA SHIDO YAKI SEY 63.70
1 SALMON SHIGO SET ‘ 21.90
4 iCED GREEN TEA . 4.00
suBTarsi 70. 60
DISCOUNT -30. 06
fotal Amount * 49, 60
Serv Charge 10% 4. OG
GST @ 6% 1.33
Rounding Adj : -0..03
Total Amount: 57, 80.
TOTAL: RM 87.80
Type 3
GS) Suriméry Amoun i Ril TAX WM
SR Git 3. a8 ake
Thank You) Please Some again i..."""


def test_total_scores_rank_every_candidate_of_one_reading() -> None:
    scores = total_scores(WARAKUYA_SCALED_PSM6)
    assert max(scores, key=lambda v: scores[v]) == Decimal("49.60")  # wrong on its own
    assert scores[Decimal("57.80")] > scores[Decimal("53.70")]  # the labelled TOTAL beats an item
    assert total_scores("") == {}


def test_combine_totals_sums_evidence_across_readings() -> None:
    assert combine_totals([WARAKUYA_SCALED_PSM6])[0] == Decimal("49.60")
    assert combine_totals([WARAKUYA_SCALED_PSM4])[0] == Decimal("57.80")
    total, conf = combine_totals([WARAKUYA_SCALED_PSM6, WARAKUYA_SCALED_PSM4])
    assert total == Decimal("57.80")
    assert 0.0 < conf <= 1.0
    assert combine_totals([]) == (None, 0.0)
    assert combine_totals(["no amounts here", ""]) == (None, 0.0)


@pytest.mark.parametrize(
    ("year", "latest", "fixed"),
    [
        (2078, 2027, 2018),  # a thin 1 read as 7
        (2048, 2027, 2018),  # ... or as 4
        (7018, 2027, 2018),  # a 2 read as 7
        (2018, 2027, 2018),  # plausible years are kept
        (2031, 2027, 2021),  # the latest plausible year one digit away
        (5555, 2027, None),  # nothing plausible one digit away
    ],
)
def test_repair_year(year: int, latest: int, fixed: int | None) -> None:
    assert repair_year(year, latest) == fixed


@pytest.mark.parametrize(
    ("line", "when"),
    [
        ("Date: 10/03/2078 5:41:06 PAX NO: 4", date(2018, 3, 10)),  # receipt 037, scaled --psm 6
        ("14 Mar 2048 18:40", date(2018, 3, 14)),  # receipt 036, --psm 6
        ("Doc No CS0603 1664 Date 25/12/7018", date(2018, 12, 25)),  # receipt 003, scaled --psm 6
        ("Salesperson: Data: 09/08/2078 .", date(2018, 8, 9)),  # receipt 034 scaled: its 03 read as 08 too
    ],
)
def test_impossible_years_are_repaired_when_the_latest_year_is_known(line: str, when: date) -> None:
    assert parse_date(line, latest_year=2027)[0] == when
    found = find_date(line, latest_year=2027)
    assert found is not None and found[2] == when
    # Without the bound the year is taken as printed (or the date is not a date at all).
    assert parse_date(line)[0] != when


def test_parse_receipt_passes_the_latest_year_on() -> None:
    fields = parse_receipt(WARAKUYA_SCALED_PSM6, locale_hint="MY", latest_year=2027)
    assert fields.date == date(2018, 3, 10)
    assert parse_receipt(WARAKUYA_SCALED_PSM6, locale_hint="MY").date == date(2078, 3, 10)
    # A year that no single-digit slip makes plausible is no date at all.
    assert parse_date("Date: 10/03/5555", latest_year=2027) == (None, 0.0)


@pytest.mark.parametrize(
    ("line", "when"),
    [
        ("Salesperson: Date: 1202/2018", date(2018, 2, 12)),  # receipt 008, --psm 3: a lost "/"
        ("Date: 1003/2048 5:4 1:06 PAKMO. 4", date(2018, 3, 10)),  # receipt 037 binarised: both slips
        ("Date 12/022018 10:00", date(2018, 2, 12)),
        ("Tarikh 25122018", date(2018, 12, 25)),
        ("o1:340K 568019 05 02-18", date(2018, 2, 5)),  # receipt 070 re-read: a faint dash read as a space
    ],
)
def test_dates_with_a_lost_separator(line: str, when: date) -> None:
    assert parse_date(line, latest_year=2027)[0] == when


# Tesseract readings of synthetic receipts (scripts/make_receipts.py, seed 1): the sale's date against
# a promotion's, which a month name would otherwise rank higher.
SYNTH_006 = """INV NO: 12733/192/T1372 24/01/17
Staff PRIYA
AMOUNT DUE RM33.75
THANK YOU
Offer ends FEB 16, 2017"""
SYNTH_026 = """SR @ 6% 338.40 20.30
06-02-18 01:28PM 19946/101/T8280
** THANK YOU ***
Promo valid until 27 FEB 2018"""


# Tesseract readings (scaled page) of synthetic receipts 016 and 065, seed 2.
SYNTH2_016 = """item QTY PRICE AMOUNT
COUGH SYRUP 1 6.58 £6.58
150ML
COUGH SYRUP 3 6.58 £19.74
150ML
BALANCE DUE 26.32
AMEX ****1006 26.32
THANK YOU"""
SYNTH2_065 = """ITEM QTY PRICE AMOUNT
KICAP MANIS i 3.50 3.50
SUSU PEKAT F&N 1 3.05 3.05
BERAS SSTS 10KG 1 32.60 32.60
MAGGI KARI 5S 2 6.38 12.60
KICAP MANIS 1 3.56 3.50
Item(s) :°5 Qty{s) : 6
SUBTOTAL 55.25
Total Incl. GST RMSS.25
GST @6% incl. 3.13
CASH 100. 00
BAKT 44.75"""


# Synthetic receipt 009 (seed 3), first pass: no currency symbol anywhere, an American address.
SYNTH3_009 = """HARBOUR COFFEE CO LLC
9112 Lake Rd
Springfield, IL 62704
Tel: (707) 517-7942
Receipt
Date: 12/05/2018 10:26PM
SUBTOTAL V2
SALES TAX 8.8% 0.63
CASH 50.00
CHANGE 42.25"""


def test_the_address_tells_the_currency_and_date_order_when_no_symbol_does() -> None:
    fields = parse_receipt(SYNTH3_009)
    assert (fields.currency, fields.date) == ("USD", date(2018, 12, 5))
    assert parse_receipt("Tel: (707) 517-7942\nDate: 12/05/2018").currency == "USD"
    assert parse_receipt("MAPLE STREET CHEMIST\n135 Victoria Road\nYork YO1 7HH").currency == "GBP"
    # Malaysian addresses put the postcode first: neither.
    malaysian = "PERNIAGAAN WAH LEE\nLot 3582, Jalan Sagu 11,\n81620 Pengerang, Johor."
    assert parse_receipt(malaysian).currency == ""
    assert parse_receipt("Springfield, IL 62704", locale_hint="MY").currency == "MYR"  # a hint wins


def test_balance_due_is_the_amount_due_not_the_change() -> None:
    assert parse_receipt(SYNTH2_016).to_dict()["total"] == "26.32"
    assert parse_receipt("TOTAL 30.00\nCASH 50.00\nBALANCE 20.00").to_dict()["total"] == "30.00"


def test_a_tax_the_prices_include_is_not_added_to_the_subtotal() -> None:
    d = parse_receipt(SYNTH2_065, locale_hint="MY").to_dict()
    assert (d["total"], d["tax"]) == ("55.25", "3.13")  # not 55.25 + 3.13


# Headers of synthetic receipts 034, 039 and 015 (Tesseract readings): shop names with "Street" in them.
@pytest.mark.parametrize(
    ("header", "merchant"),
    [
        ("Maple Street Hardware\n9401 Oak Street\nAustin, TX 78701\nCUSTOMER COPY", "Maple Street Hardware"),
        ("BAKER STREET COFFEE CO INC\n1369 Market St\nColumbus, OH 43215", "BAKER STREET COFFEE CO INC"),
        ("MAPLE STREET CHEMIST\n135 Victoria Road\nYork YO1 7HH\nTel 01591 217231", "MAPLE STREET CHEMIST"),
    ],
)
def test_a_street_word_marks_an_address_only_beside_a_number(header: str, merchant: str) -> None:
    assert parse_receipt(header).merchant == merchant


def test_a_promotions_date_is_not_the_sales() -> None:
    assert parse_date(SYNTH_006)[0] == date(2017, 1, 24)
    assert parse_date(SYNTH_026)[0] == date(2018, 2, 6)
    # Alone, it is still not the sale's date: none, so the scanner looks again.
    assert parse_date("Promo valid until 27 FEB 2018") == (None, 0.0)
    assert parse_date("BEST BEFORE 12/03/2019\nVoucher expires 01/01/2019") == (None, 0.0)


def test_month_name_dates_with_a_misread_comma() -> None:
    line = "Receipt No: ORI7S9876863073 SEP 30. 2024 20:4)"  # synthetic 033: "SEP 30, 2024 20:41"
    assert parse_date(line, day_first=False)[0] == date(2024, 9, 30)


def test_glued_dates_lose_to_printed_ones_and_long_numbers_are_not_dates() -> None:
    # A properly printed date elsewhere on the slip outranks a glued digit run.
    assert parse_date("Ref 25122017\nDate: 26/12/2017 10:01") == (date(2017, 12, 26), 1.0)
    assert parse_date("Inv 2018120312345") == (None, 0.0)
    assert parse_date("Tel 0312202018") == (None, 0.0)
    # A space for the first separator: never before a time, never inside a longer digit run.
    assert parse_date("Date 12/03 18:20") == (None, 0.0)
    assert parse_date("Qty 2 12 05-12345") == (None, 0.0)
    assert parse_date("05 02-18\nDate: 06/02/2018")[0] == date(2018, 2, 6)
    # Receipt 054 re-read: the photo cuts "2018" after "20"; a garbled year is no year, not 2020.
    assert parse_date("RECEIPT — C800018757 DATE: 20/03/20%") == (None, 0.0)
    assert parse_date("RECEIPT — C800016751 DATE: 20/03/20ii") == (None, 0.0)
    assert parse_date("DATE: 20/03/18 12:42")[0] == date(2018, 3, 20)


# Receipt 026, bottom half, scaled page --psm 4: the rounding line lost its "-0.01" and the GST summary
# repeats the subtotal 144.68 under "TOTAL:", where it is filed as tax.
TEO_HENG_TAIL = """9557389305606 2 3.96 0.00 7.92%
~ EAGLE F4 120 NUMBERING FOOLSCAP
BOOK
Total Qty. : 18
SUB-TOTAL ARDY) 3 ~ 144,68
TOTAL TAX mA 8.68
ROUNDING = 7 > > 0
TOTAI
CASH “ /Y53.35
CHANGE Ne 0.00
an,
GST SUMMARY
vee 7 a AMOUNT TAX
Ron SODR o% . -_ (RMD _ RM)
SR 6.00 144.68 8.68
TOTAL: ~ 144.68 = B68
Note: (*) indicated The Item Sold Has Been Related
To GST (Goods & Services Tax),
GOODS SOLD ARE NOT RETURNABLE,
THANK YOU."""


def test_subtotal_plus_tax_needs_a_tax_smaller_than_the_subtotal() -> None:
    scores = total_scores(TEO_HENG_TAIL)
    assert Decimal("289.36") not in scores  # 144.68 + a "tax" of 144.68 is no total
    assert scores[Decimal("153.36")] == max(scores.values())  # 144.68 + 8.68
    assert combine_totals([TEO_HENG_TAIL]) == (Decimal("153.36"), 0.31)


# --- general classes of misreading, each seen on a held-out receipt (040-079), verbatim OCR text ------

# A rounding line between two totals one rounding apart: the amount due is the total printed after
# it, even though the "Inclusive of GST" line above carries the stronger label.
ROUNDED_AFTER_INCLUSIVE = """Qty Description Total TAX
1 205 SUNG NON RAM CHUA 9.90 SR
205 Sweet &Sour Pork Ribs
1 217 Tau Hu tion Thit Chi 9.90 &R
217 Stuff Meat Tou Fu
1 605 TRA DA 1.50 SR
605 Vietnamese Iced Tea
Total (Excluding G81): 21,30
Serv. Charge (3%): 0.65
GST payable (6%): 1.31
Total (Inclusive of GST): 23.26
Rounding Adj: ~0.01
TOTAL: 23.25
Closed: 29-10-2017
Server: Cashier A
GST Summary Amount (RM) Tax(RM)"""

# "Tax Code" as a column of the item table header is not the GST summary table (which "Tax Code"
# also heads): the totals below it still count.
TAX_CODE_COLUMN = """QTY UOM UNITAmt Exc. Amt Inc. GST
Price Tax Tax Code
WALL'S TOPTEN CHOCOLATE 73ML
1 WALK 1.60 1.60 1.60 ZRL
WALL'S TOPTEN CHOCOLATE 73ML
1 WALK 1 60 1.60 1.60 ZRL
MAGNUM ALMOND 90ML
1 WALK 4.50 4.50 450 ZRL
Cloud 9 plus 22g
1 WALK 0.50 0.50 0.50 ZRL
*Total Qty: 4.00 8 20
Total Includes GST 0% 8.20
Customer's Payment
Cash 20.20
Change 12.00
GST Summary Amount(RM) Tax (RM)
ZRL=0% 8.20 0.00"""

# "(Inclusive) GST 6% 33,57" states the tax a total includes: without a TOTAL word on the line it
# is a tax line, not the amount due ("Total" is on the lines below; "§" is a misread 5).
INCLUSIVE_TAX_RATE = """1 Sour Apple Mojite SR 18.90
1 Berry Easy SR 18.90
{Aust Rib-eye Steak SR 74,90
1 Fruity Garden Salad Sp ° 23.90
2 HH Asahi 1+1/2 SR 77.80
————“s total: SS*~S*S«S
(Inciusive) GST 6% 33,57
Total :
19:92:35 "Total: §93.10
aS Simm SCS*«S TR) Tea)
SR= 6h §59,53 33.57
§$= 0% 0.00 0"""


@pytest.mark.parametrize(
    ("text", "total"),
    [(ROUNDED_AFTER_INCLUSIVE, "23.25"), (TAX_CODE_COLUMN, "8.20"), (INCLUSIVE_TAX_RATE, "593.10")],
)
def test_total_general_misreadings(text: str, total: str) -> None:
    assert parse_receipt(text, locale_hint="MY").to_dict()["total"] == total


def test_rounding_direction_and_inclusive_rules_keep_their_counterparts() -> None:
    # The total BEFORE the rounding line does not get the bonus when it is the only one printed.
    assert parse_receipt("TOTAL 23.26\nROUNDING ADJ -0.01\n", locale_hint="MY").to_dict()["total"] == "23.26"
    # "Total ... Includes GST 0%" still names the amount due (a TOTAL word is on the line).
    assert parse_receipt("Total Includes GST 0% 8.20\nCash 10.00\n").to_dict()["total"] == "8.20"
    # "Tax Code" below the payment lines still opens the summary table, whose TOTAL is not the total.
    text = "Nett Total 10.60\nCash 20.00\nChange 9.40\nTax Code Amount Tax\nSR 10.00 0.60\nTotal 99.00 0.60\n"
    assert parse_receipt(text, locale_hint="MY").to_dict()["total"] == "10.60"


@pytest.mark.parametrize(
    ("text", "merchant"),
    [
        # A leading two-digit number is part of a shop name, not a stray mark ...
        (
            "99 SPEED MART S/B (519537-X)\nLOT PJ. 2811, JALAN ANGSA,\nTAMAN BERKELEY\n44150 KLANG, SELANGOR",
            "99 SPEED MART S/B",
        ),
        # ... while a one-character mark before the name still goes.
        ("7 AEON CO. (M) BHD h)\nTAX INVOICE\n", "AEON CO. (M) BHD"),
    ],
)
def test_merchant_leading_number(text: str, merchant: str) -> None:
    assert parse_receipt(text).merchant == merchant


def test_a_zero_glued_to_its_currency_prefix_is_still_an_amount() -> None:
    # Synthetic receipt 018 (seed 6), --psm 6 text: the rounding and the change read "RMO.01" and
    # "RMO.00". Unread, the pre-rounding TOTAL won on its subtotal + tax arithmetic.
    text = (
        "Total Sales (Excluding GST), RM31.00\nGST 6% RM1.86\nTOTAL RM32.86\n"
        "ROUNDING ADJUSTMENT -RMO.01\nGRAND TOTAL RM32.85\nCash RM32.85\nCHANGE : RMO.00\n"
    )
    assert parse_receipt(text, locale_hint="MY").to_dict()["total"] == "32.85"
    assert parse_receipt("TOTAL $4.50\nCASH $5.00\nCHANGE $O.50\n").to_dict()["total"] == "4.50"
    assert total_scores("DOC.12 RMOD.00") == {}  # letters that merely look like digits, not a price


def test_a_currency_sign_counts_only_before_a_number_on_its_own_line() -> None:
    # Synthetic receipt 002 (seed 6), flattened reading: a stray "€" closes an item line and the
    # next line starts with a digit; the receipt is in dollars.
    text = "Albany, NY 12207\nDRILL BIT SET 1 13.56 $13.56€\n10PC\nTOTAL $54.77\n"
    assert parse_receipt(text).currency == "USD"
    assert parse_receipt("TOTAL €5.00\n").currency == "EUR"


def test_a_quantity_and_price_are_no_date_with_a_lost_separator() -> None:
    # Synthetic receipt 042 (seed 4), a US receipt whose date line the first pass lost: the item line
    # "10 15.26" read as 15 October 2026 through the faint-separator pattern ("05 02-18").
    text = "DRILL BIT SET 3 15.26 45.78\nDRILL BIT SET 10 15.26 152.60\nTOTAL $352.91\n"
    assert find_date(text, day_first=False, latest_year=2027) is None
    assert find_date("S12 340 05 02-18", latest_year=2027) is not None  # the dot-matrix date it is for
    assert find_date("Date 05 02.2018", latest_year=2027) is not None


def test_an_amount_over_one_unit_on_a_rounding_line_is_the_rounded_total() -> None:
    # Receipt 228 (--psm 6): "Total After Rounding" is no adjustment; 48.93 is the pre-rounding total.
    text = "Total Sales Incl. GST 48.93\nRounding Adjustment 0.02\nTotal After Rounding 48,95\nVISA 48,95\n"
    assert parse_receipt(text, locale_hint="MY").to_dict()["total"] == "48.95"
    # Receipt 259: the adjustment itself garbled ("RH 2"), the rounded total on the "Rounding" line.
    text = "Total Sales (Inclusive GST) RH 42.33\nRounding Adjustment RH 2\nRounding RM = 42,35\n"
    assert parse_receipt(text, locale_hint="MY").to_dict()["total"] == "42.35"


def test_a_total_includes_n_percent_tax_line_states_the_tax() -> None:
    # Receipt 244 (--psm 6): the last line states the GST the total includes.
    text = (
        "Eat-In Total (incl GST) 29,28\nRounding Adjust 0.02\nTotal Rounded 29.30\nCash Tendered 50.00\n"
        "Change 20.70\nTOTAL INCLUDES 6% GST 1.66 ff\n"
    )
    fields = parse_receipt(text, locale_hint="MY").to_dict()
    assert (fields["total"], fields["tax"]) == ("29.30", "1.66")


def test_a_company_word_on_a_price_line_names_no_merchant() -> None:
    # Receipt 225 (--psm 6): "CAFE" is a company word, but the line is an item with its prices.
    text = "AUTOROUTE RABAT MEKNES\nCAFE CREME 12.00 2 24.00\nTOTAL 56.00\n"
    assert parse_receipt(text).merchant == "AUTOROUTE RABAT MEKNES"


# --- candidates, the weights table, the vote, the line-label table --------------------------------


def test_one_weights_table_decides_between_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Doc 12/05/2018\nDate: 13/05/2018"
    assert find_date(text) == (6.0, 1, date(2018, 5, 13))  # found 2 + labelled 3 + four-digit year 1
    monkeypatch.setitem(WEIGHTS, "date.labelled", 0.0)
    assert find_date(text) == (3.0, 0, date(2018, 5, 12))  # without it, the earlier line wins the tie
    assert Candidate("x", {"total.label_total": 1.0, "total.repeated": 2.0}).score == 8.0 + 2 * 0.7


def test_vote_sums_weights_and_breaks_ties_as_told() -> None:
    assert vote([("a", 1.0), ("b", 2.0), ("a", 1.5)]) == ("a", 2.5 / 4.5)
    assert vote([("a", 1.0), ("b", 1.0)]) == ("a", 0.5)  # first seen
    assert vote([(Decimal("1.00"), 1.0), (Decimal("2.00"), 1.0)], tie=lambda v: v) == (Decimal("2.00"), 0.5)
    assert vote([]) is None


@pytest.mark.parametrize(
    ("line", "label"),
    [
        ("BALANCE 5.00", "change"),
        ("BALANCE DUE 12.00", "strong"),
        ("(Inclusive) GST 6% 33.57", "tax"),
        ("Rounding Adj -0.01", "rounding"),
        ("TOTAL QTY 2", "none"),
        ("Sub Total (RM) 10.00", "weak"),
        ("TOTAL GST 0.60", "tax"),
        ("DISCOUNT 1.00", "none"),
        ("GRAND TOTAL 10.60", "strong"),
        ("TOTAL 10.60", "total"),
        ("CASH 20.00", "tender"),
        ("NASI LEMAK 5.00", "none"),
    ],
)
def test_line_labels_come_from_the_first_matching_row(line: str, label: str) -> None:
    assert label_line(line) == label
