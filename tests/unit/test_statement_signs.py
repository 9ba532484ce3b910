"""The sign questions (issue 15): an amount column that is never negative read as money in or out from
the file's evidence (card and purchase columns, masked card numbers, row words), an open question with the
caller's answer or the stated default when the evidence does not decide, and direction words that a running
balance contradicts weighed against it. Real csv2ofx exports (skipped when ../shared/data is absent) and
faithful reconstructions; pure domain plus `import preview`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from finjobs.cli.app import app
from finjobs.domain.statement_signs import FLIPPED
from finjobs.domain.statements import StatementRow, detect_format, read_statement

INPUT = Path(__file__).parents[2].parent / "shared" / "data" / "bank-csv" / "csv2ofx" / "input"
real = pytest.mark.skipif(not INPUT.is_dir(), reason="../shared/data is not present")
NO_ANSWER = "sign: positive amounts are money in (as written) by the stated default"


def text_opener(text: str):
    data = text.encode()
    return lambda: io.BytesIO(data)


def file_opener(name: str):
    path = INPUT / name
    return lambda: path.open("rb")


def amounts(open_, **kw) -> list[int]:
    fmt = detect_format(open_, **kw)
    return [r.amount_minor for r in read_statement(open_, fmt) if isinstance(r, StatementRow)]


@real
def test_a_card_export_of_positive_charges_reads_as_money_out_from_its_columns() -> None:
    fmt = detect_format(file_opener("pcmastercard.csv"))
    assert fmt.sign_rule == FLIPPED and fmt.open_questions == [] and fmt.assumptions == []
    assert fmt.evidence["amount"] == (
        "header 'Amount'; all 2 amounts positive; positive amounts are money out: "
        "header 'Card Used For Transaction' names a card, header 'Merchant Name' names a merchant, "
        "masked card numbers in column 2 on 2/2 rows (+3.0 for money out)"
    )
    assert amounts(file_opener("pcmastercard.csv")) == [-3633, -1398]


@real
def test_an_order_history_reads_as_money_out_from_its_order_and_card_columns() -> None:
    fmt = detect_format(file_opener("amazon.csv"))
    assert fmt.sign_rule == FLIPPED and fmt.open_questions == []
    assert "header 'order id' names a purchase" in fmt.evidence["amount"]
    assert "masked card numbers in column 12 on 3/3 rows" in fmt.evidence["amount"]  # "Visa ending in 1234"
    assert amounts(file_opener("amazon.csv")) == [-422, -742, -3412]


@real
def test_a_sellers_list_of_card_payments_reads_as_money_in() -> None:
    fmt = detect_format(file_opener("stripe-all.csv"))
    assert fmt.sign_rule == "amount" and fmt.open_questions == []
    said = fmt.evidence["amount"]
    assert "row words PAYMENT COMPLETE agree with the signs as written on 5/5 rows" in said
    assert "header 'card_id' names a card" in said and "header 'customer_id' names a customer" in said
    assert said.endswith("(-4.0 for money out)")
    assert all(a > 0 for a in amounts(file_opener("stripe-all.csv")))


@real
def test_positive_amounts_nothing_decides_are_an_open_question_with_the_stated_default() -> None:
    fmt = detect_format(file_opener("creditunion.csv"))
    assert fmt.open_questions == [
        "sign: all 8 amounts are positive and the file does not say if they are money in or out"
    ]
    assert fmt.assumptions == [NO_ANSWER]
    assert (
        fmt.sign_rule == "amount"
        and fmt.evidence["amount"] == "header 'Amount'; all 8 amounts positive; sign open"
    )
    assert min(amounts(file_opener("creditunion.csv"))) == 4500000


@real
def test_the_callers_answer_decides_the_open_sign_and_is_recorded() -> None:
    answers = [("debit_credit", "import 9"), (FLIPPED, "the previous import of account 'cu'")]
    fmt = detect_format(
        file_opener("creditunion.csv"), sign_fallback=answers
    )  # debit_credit: another question
    assert fmt.sign_rule == FLIPPED
    assert fmt.assumptions == [
        "sign: positive amounts are money out from the previous import of account 'cu'"
    ]
    assert max(amounts(file_opener("creditunion.csv"), sign_fallback=answers)) == -4500000
    kept = detect_format(file_opener("creditunion.csv"), sign_fallback=[("amount", "preset 'cu'")])
    assert kept.sign_rule == "amount" and kept.assumptions == [
        "sign: positive amounts are money in (as written) from preset 'cu'"
    ]


@real
def test_account_type_credit_answers_the_sign_without_a_question() -> None:
    fmt = detect_format(file_opener("creditunion.csv"), account_type="credit")
    assert fmt.sign_rule == FLIPPED and fmt.open_questions == [] and fmt.assumptions == []


@real
def test_signed_amounts_whose_row_words_agree_read_as_written() -> None:
    fmt = detect_format(file_opener("outbank.csv"))
    assert fmt.sign_rule == "amount" and fmt.open_questions == []
    assert "row words PURCHASE/REFUND agree with the signs as written on 3/3 rows" in fmt.evidence["amount"]


# After an American Express export: charges positive, the payment negative, no balance column.
AMEX = """Date,Description,Amount
01/22/2024,AUTOPAY PAYMENT - THANK YOU,-500.00
01/23/2024,WHOLE FOODS MARKET,54.20
01/25/2024,SHELL OIL 5744,38.10
"""


def test_signs_the_row_words_contradict_are_an_open_question() -> None:
    fmt = detect_format(text_opener(AMEX))
    assert fmt.open_questions == [
        "sign: 3 amounts carry their own signs but the row words read them the other way "
        "(row words PAYMENT - THANK agree with the signs as written on 0/1 rows: +1.0 for money out)"
    ]
    assert fmt.assumptions == [NO_ANSWER] and fmt.sign_rule == "amount"
    answered = [(FLIPPED, "the previous import of account 'amex'")]
    assert amounts(text_opener(AMEX), sign_fallback=answered) == [50000, -5420, -3810]


def test_a_balance_the_file_proves_leaves_no_sign_question() -> None:
    text = "Date,Description,Amount,Balance\n2024-05-01,A,10.00,110.00\n2024-05-02,B,5.00,115.00\n"
    fmt = detect_format(text_opener(text + "2024-05-03,C,2.50,117.50\n2024-05-04,D,1.00,118.50\n"))
    assert fmt.open_questions == [] and fmt.sign_rule == "amount"


# Direction words a running balance contradicts: a bank file whose Type column reads the other way (the
# payroll row is marked DEBIT and the balance rises by it), and a card whose balance is what is owed.
REVERSED = """Date,Description,Amount,Type,Balance
2024-05-01,ACME PAYROLL SALARY,2000.00,DEBIT,3000.00
2024-05-02,Coffee Corner,3.50,CREDIT,2996.50
2024-05-03,Rent May,950.00,CREDIT,2046.50
2024-05-04,Grocer,21.45,CREDIT,2025.05
"""
CARD_OWED = """Date,Card No.,Description,Amount,Type,Balance
2024-05-01,1234,Coffee Corner,3.50,DEBIT,103.50
2024-05-02,1234,Car Rental,50.00,DEBIT,153.50
2024-05-03,1234,PAYMENT THANK YOU,100.00,CREDIT,53.50
2024-05-04,1234,Grocer,21.45,DEBIT,74.95
"""
TIED = REVERSED.replace("ACME PAYROLL SALARY", "ACME Ltd")


def test_a_balance_and_row_words_outweigh_direction_words_and_say_so() -> None:
    fmt = detect_format(text_opener(REVERSED))
    assert fmt.sign_rule == "direction_reversed:Type" and fmt.open_questions == []
    assert fmt.evidence["direction"].endswith(
        "direction words read reversed: words 2.0 (the words label 4/4 rows) against balance 3.0 (the "
        "balance holds reversed on 3/3 rows, row words PAYROLL agree with the signs as written on 0/1 rows)"
    )
    assert amounts(text_opener(REVERSED)) == [200000, -350, -95000, -2145]


def test_a_cards_owed_balance_does_not_overrule_its_direction_words() -> None:
    fmt = detect_format(text_opener(CARD_OWED))
    assert fmt.sign_rule == "direction:Type"
    assert "direction words kept: words 4.0" in fmt.evidence["direction"]
    assert "header 'Card No.' names a card: a card's balance is what is owed" in fmt.evidence["direction"]
    assert amounts(text_opener(CARD_OWED)) == [-350, -5000, 10000, -2145]


def test_words_and_balance_of_equal_weight_are_an_open_question_answered_by_history() -> None:
    fmt = detect_format(text_opener(TIED))
    assert fmt.open_questions == [
        "sign: the direction words and the running balance disagree and weigh the same"
    ]
    assert fmt.assumptions == ["sign: direction words kept by the stated default"]
    assert fmt.sign_rule == "direction:Type"
    answers = [("amount", "import 3"), ("direction_reversed:Type", "the previous import of account 'giro'")]
    fmt = detect_format(text_opener(TIED), sign_fallback=answers)
    assert fmt.assumptions == [
        "sign: direction words read reversed from the previous import of account 'giro'"
    ]
    assert amounts(text_opener(TIED), sign_fallback=answers) == [200000, -350, -95000, -2145]


@real
def test_import_preview_pairs_each_open_question_with_its_answer() -> None:
    result = CliRunner().invoke(app, ["import", "preview", str(INPUT / "creditunion.csv"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    question = "sign: all 8 amounts are positive and the file does not say if they are money in or out"
    assert doc["questions"] == [{"question": question, "answer": NO_ANSWER}]
    printed = CliRunner().invoke(app, ["import", "preview", str(INPUT / "creditunion.csv")])
    said = " ".join(printed.output.split())
    assert "open question: sign: all 8 amounts are positive" in said and f"assumed: {NO_ANSWER}" in said


# After a Chase card export (Type Sale/Payment/Return, charges negative), and the same rows in the other
# card convention (charges positive, the payment and the return negative).
CHASE = """Transaction Date,Post Date,Description,Category,Type,Amount,Memo
01/22/2024,01/23/2024,WHOLE FOODS,Groceries,Sale,-54.20,
01/24/2024,01/24/2024,AUTOMATIC PAYMENT - THANK,,Payment,500.00,
01/25/2024,01/26/2024,AMAZON RETURN,Shopping,Return,12.99,
"""
CHARGES_POSITIVE = (
    CHASE.replace("-54.20", "54.20").replace(",500.00", ",-500.00").replace(",12.99", ",-12.99")
)


def test_row_words_back_a_cards_signs_or_ask_when_they_read_them_the_other_way() -> None:
    fmt = detect_format(text_opener(CHASE))
    assert fmt.sign_rule == "amount" and fmt.open_questions == [] and "direction" not in fmt.columns
    assert (
        "row words PAYMENT - THANK/RETURN agree with the signs as written on 2/2 rows"
        in fmt.evidence["amount"]
    )
    other = detect_format(text_opener(CHARGES_POSITIVE))
    assert other.open_questions == [
        "sign: 3 amounts carry their own signs but the row words read them the other way (row words "
        "PAYMENT - THANK/RETURN agree with the signs as written on 0/2 rows: +2.0 for money out)"
    ]
    answered = [(FLIPPED, "the previous import of account 'sapphire' (account type credit)")]
    assert amounts(text_opener(CHARGES_POSITIVE), sign_fallback=answered) == [-5420, 50000, 1299]


def test_signed_amounts_without_row_words_are_left_as_they_are() -> None:
    text = "Date,Description,Amount\n2024-05-01,Coffee,-3.50\n2024-05-02,ACME Ltd,2000.00\n"
    fmt = detect_format(text_opener(text))
    assert fmt.evidence["amount"] == "header 'Amount'" and fmt.open_questions == []
