"""OFX 1.x (SGML), OFX 2.x (XML) and QFX bank and credit-card statements as StatementRows, through
ofxtools' header and SGML/XML parser. Reads bytes from an opener; imports ofxtools.

ofxtools builds the element tree (headers, unclosed SGML tags, encodings, Intuit's private tags); the
values are read from that tree here rather than through ofxtools' typed models, because the models turn
DTPOSTED into UTC (a purchase at 23:00 EST would land on the next day) and refuse a whole file for one
NAME longer than the spec's 32 characters, which real banks write.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import warnings
from collections.abc import Iterator
from xml.etree.ElementTree import Element

from finjobs.adapters.statement_files import Opener, Rows, currency_code, minor_units
from finjobs.domain.statements import StatementRow
from finjobs.errors import InputError

STATEMENTS = ("STMTRS", "CCSTMTRS")  # bank and credit card; investment statements hold no cash rows
_DATE = re.compile(r"\s*(\d{4})(\d{2})(\d{2})")


def _tree(opener: Opener, source: str) -> Element:
    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    with opener() as stream:  # ofxtools seeks in its source; the upload size limit bounds this
        data = io.BytesIO(stream.read())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "private extension tag <INTU.BID>; skipping": expected
            tree.parse(data)
    except (SyntaxError, ValueError, KeyError, IndexError) as exc:
        # ofxtools' header and SGML errors are SyntaxError / ValueError subclasses with the bad text
        message = " ".join(str(exc).split())[:300]
        raise InputError(f"not a readable OFX file: {message}", source=source) from exc
    root = tree.getroot()
    if root is None:
        raise InputError("not a readable OFX file: no <OFX> element", source=source)
    return root


def _text(element: Element, path: str) -> str | None:
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return html.unescape(found.text).strip() or None  # ofxtools leaves SGML's &amp; &lt; &gt; as written


def _date(raw: str | None, where: str, source: str) -> dt.date:
    m = _DATE.match(raw or "")
    try:
        if m is None:
            raise ValueError
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise InputError(f"{where}: DTPOSTED {raw!r} is not an OFX date", source=source) from None


def _account(statement: Element) -> str:
    for path in ("BANKACCTFROM/ACCTID", "CCACCTFROM/ACCTID"):
        if acct := _text(statement, path):
            return acct
    return ""


def _unsigned_debits(transactions: list[Element]) -> bool:
    """Some banks write every amount unsigned and say the direction in TRNTYPE only: every DEBIT of
    the statement positive is that bank (one positive DEBIT alone could be a refund)."""
    debits = [t for t in transactions if (_text(t, "TRNTYPE") or "").upper() == "DEBIT"]
    return bool(debits) and all(not (_text(t, "TRNAMT") or "").startswith("-") for t in debits)


def _description(trn: Element) -> str:
    name = _text(trn, "NAME") or _text(trn, "PAYEE/NAME") or ""
    memo = _text(trn, "MEMO") or ""
    if memo and memo.casefold() not in name.casefold():
        return f"{name} {memo}".strip()
    return name or (_text(trn, "CHECKNUM") and f"Check {_text(trn, 'CHECKNUM')}") or ""


def _statements(root: Element) -> Iterator[Element]:
    for element in root.iter():
        if element.tag in STATEMENTS:
            yield element


def read_ofx(opener: Opener, *, source: str = "<ofx>") -> Rows:
    """Every STMTTRN of every bank or card statement in the file, in file order. `line` is the
    transaction's ordinal in the file (the SGML tree keeps no line numbers); `ref` is
    "<ACCTID>/<FITID>" (a FITID is unique within its account only)."""
    root = _tree(opener, source)
    found = False
    n = 0
    for s_index, statement in enumerate(_statements(root), 1):
        found = True
        label = f"{statement.tag} {s_index}"
        currency = currency_code(_text(statement, "CURDEF"), where=f"{label} CURDEF", source=source)
        account = _account(statement)
        transactions = statement.findall("BANKTRANLIST/STMTTRN")
        flip_debits = _unsigned_debits(transactions)
        for t_index, trn in enumerate(transactions, 1):
            n += 1
            yield _row(trn, n, f"{label} STMTTRN {t_index}", currency, account, flip_debits, source)
    if not found:
        raise InputError("OFX file holds no bank or credit card statement (STMTRS/CCSTMTRS)", source=source)


def _row(
    trn: Element, n: int, where: str, default_ccy: str, account: str, flip_debits: bool, source: str
) -> StatementRow:
    fitid = _text(trn, "FITID")
    if fitid:
        where = f"{where} (FITID {fitid})"
    ccy_raw = _text(trn, "CURRENCY/CURSYM")  # the amount is in this currency (ORIGCURRENCY: converted)
    currency = currency_code(ccy_raw, where=f"{where} CURSYM", source=source) if ccy_raw else default_ccy
    amount = minor_units(_text(trn, "TRNAMT"), currency, where=f"{where} TRNAMT", source=source)
    if flip_debits and (_text(trn, "TRNTYPE") or "").upper() == "DEBIT":
        amount = -abs(amount)
    date = _date(_text(trn, "DTPOSTED"), where, source)
    ref = f"{account}/{fitid}" if fitid else None
    return StatementRow(n, date, amount, currency, _description(trn), None, None, ref)
