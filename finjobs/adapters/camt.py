"""ISO 20022 camt.053 (and camt.052) bank statements as StatementRows, streamed with the standard
library's pull parser; one Ntry (entry) is one row. Reads bytes from an opener only.

Written here because no maintained reader fits (see the commit that added it): pycamt splits a batched
entry into rows that share one AcctSvcrRef and ignores NtryRef. Safety as defusedxml's default
(forbid_dtd): a camt document has no DTD, so a DOCTYPE (and with it any entity declaration, the
billion-laughs and external-entity attacks) is refused before parsing; no entity is ever expanded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

from finjobs.adapters.statement_files import Opener, Rows, currency_code, minor_units
from finjobs.domain.statements import SkippedRow, StatementRow
from finjobs.errors import InputError

NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.05[23]\.001\.\d{2}")
NO_REF = {"NOTPROVIDED", "NONREF", "NONE", "N/A"}  # what banks write where they have no reference
BOOKED = {"BOOK"}  # PDNG (pending) and INFO entries are not yet on the account: skipped
_PROLOG_BYTES = 1 << 16
_LINE_BYTES = 1 << 16


def _refuse_dtd(opener: Opener, source: str) -> None:
    with opener() as stream:
        head = stream.read(_PROLOG_BYTES)
    root_at = re.search(rb"<[A-Za-z_]", head)
    prolog = head[: root_at.start()] if root_at else head
    if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
        raise InputError(
            "CAMT file declares a DTD or entities: refused (camt documents have none)", source=source
        )


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class _Doc:
    """Finds children by local name in the document's one namespace."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def find(self, element: Element | None, path: str) -> Element | None:
        if element is None:
            return None
        return element.find("/".join(f"{{{self.ns}}}{p}" for p in path.split("/")))

    def text(self, element: Element | None, path: str) -> str | None:
        found = self.find(element, path)
        if found is None or found.text is None:
            return None
        return " ".join(found.text.split()) or None


def _events(opener: Opener, source: str) -> Iterator[tuple[int, str, Element]]:
    """(line, event, element) for start and end events; line is the line the event was read on."""
    parser: XMLPullParser[Element] = XMLPullParser(events=("start", "end"))
    line = 1
    with opener() as stream:
        while chunk := stream.readline(_LINE_BYTES):
            try:
                parser.feed(chunk)
                events: Iterator[Any] = parser.read_events()  # typeshed's event tuple type is too loose
                for event, element in events:
                    if isinstance(element, Element):  # start and end events carry elements only
                        yield line, event, element
            except ParseError as exc:
                at = exc.position[0] if exc.position else line
                raise InputError(f"not well-formed XML: {exc}", source=source, line=at) from None
            line += chunk.count(b"\n")
        try:
            parser.close()
        except ParseError as exc:
            raise InputError(f"not well-formed XML: {exc}", source=source, line=line) from None


def read_camt(opener: Opener, *, source: str = "<camt>") -> Rows:
    """Every booked entry of every statement (Stmt, or Rpt in camt.052), in file order; pending ones
    are SkippedRows. `line` is the line its <Ntry> starts on; `ref` is "<account>/<AcctSvcrRef>",
    else "<account>/<NtryRef>" (both unique per account only)."""
    _refuse_dtd(opener, source)
    doc: _Doc | None = None
    account = ""
    statements = 0
    entry_line = 0
    path: list[str] = []  # local names of the open elements
    for line, event, element in _events(opener, source):
        name = _local(element.tag)
        if event == "start":
            path.append(name)
        else:
            path.pop()
        if doc is None:
            namespace = element.tag[1:].partition("}")[0] if element.tag.startswith("{") else ""
            if name != "Document" or not NAMESPACE.fullmatch(namespace):
                raise InputError(
                    f"not a camt.053/camt.052 document (root {element.tag!r})", source=source, line=line
                )
            doc = _Doc(namespace)
            continue
        if event == "start":
            if name == "Ntry":
                entry_line = line
            elif name in ("Stmt", "Rpt"):
                statements += 1
            continue
        if name == "Acct" and path and path[-1] in ("Stmt", "Rpt"):  # the statement's own account
            iban = doc.text(element, "Id/IBAN") or doc.text(element, "Id/Othr/Id")
            account = iban or account
        elif name == "Ntry":
            yield _entry(doc, element, entry_line, f"Stmt {statements} Ntry", account, source)
            element.clear()  # memory stays flat however many entries
        elif name in ("Stmt", "Rpt"):
            element.clear()
    if doc is None:
        raise InputError("file has no XML element", source=source)
    if statements == 0:
        raise InputError("camt document holds no statement (Stmt/Rpt)", source=source)


def _date(doc: _Doc, entry: Element, where: str, source: str) -> dt.date:
    for path in ("BookgDt/Dt", "BookgDt/DtTm", "ValDt/Dt", "ValDt/DtTm"):
        if raw := doc.text(entry, path):
            try:
                return dt.date.fromisoformat(raw[:10])  # a DtTm's own local date, not converted
            except ValueError:
                raise InputError(
                    f"{where} {path.replace('/', ' ')}: {raw!r} is not a date", source=source
                ) from None
    raise InputError(f"{where}: no BookgDt or ValDt", source=source)


def _description(doc: _Doc, entry: Element, credit: bool) -> str:
    """The other party's name (the payer of a credit, the payee of a debit) and the remittance text."""
    tx = doc.find(entry, "NtryDtls/TxDtls")
    party = "Dbtr" if credit else "Cdtr"
    name = doc.text(tx, f"RltdPties/{party}/Nm") or doc.text(tx, f"RltdPties/{party}/Pty/Nm")  # v02 | v08
    remittance = [
        " ".join(u.text.split())
        for u in (tx.iter(f"{{{doc.ns}}}Ustrd") if tx is not None else [])
        if u.text and u.text.strip()
    ]
    parts = [p for p in (name, " ".join(remittance)) if p]
    if not parts:
        parts = [p for p in (doc.text(entry, "AddtlNtryInf"), doc.text(tx, "AddtlTxInf")) if p]
    return " ".join(parts)


def _entry(
    doc: _Doc, entry: Element, line: int, label: str, account: str, source: str
) -> StatementRow | SkippedRow:
    status = doc.text(entry, "Sts/Cd") or doc.text(entry, "Sts") or ""
    refs = (doc.text(entry, "AcctSvcrRef"), doc.text(entry, "NtryRef"))
    ref_raw = next((r for r in refs if r and r.upper() not in NO_REF), None)
    where = f"{label} (line {line}{', ref ' + ref_raw if ref_raw else ''})"
    if status.upper() not in BOOKED:
        return SkippedRow(line, f"entry status {status or 'missing'}: not booked yet, not imported")
    amt = doc.find(entry, "Amt")
    if amt is None:
        raise InputError(f"{where}: no Amt", source=source, line=line)
    currency = currency_code(amt.get("Ccy"), where=f"{where} Amt Ccy", source=source)
    minor = minor_units(amt.text, currency, where=f"{where} Amt", source=source)
    indicator = (doc.text(entry, "CdtDbtInd") or "").upper()
    if indicator not in ("CRDT", "DBIT"):
        raise InputError(f"{where} CdtDbtInd: {indicator!r} is neither CRDT nor DBIT", source=source)
    # CdtDbtInd is the entry's own direction, a reversal (RvslInd) included: no flip for it
    amount = abs(minor) if indicator == "CRDT" else -abs(minor)
    date = _date(doc, entry, where, source)
    ref = f"{account}/{ref_raw}" if ref_raw else None
    return StatementRow(
        line, date, amount, currency, _description(doc, entry, indicator == "CRDT"), None, None, ref
    )
