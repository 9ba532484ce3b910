#!/usr/bin/env python3
"""Benchmark the OFX and CAMT readers against the CSV reader on the same rows, in one run.

Generates N transactions as a bank CSV, an OFX 1.x SGML file and a camt.053.001.02 document, reads each
through the importer's reader (CSV: detect_format + read_statement; OFX/CAMT: structured_reader) and
prints rows/s per kind and `ratio_vs_csv_reader=` (reader rows/s over the CSV reader's; above 1 is
faster). No database: this is the parsing side of an import only.

    .venv/bin/python scripts/bench_statement_files.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable, Iterable

from finjobs.adapters.statement_files import structured_reader
from finjobs.domain.statements import detect_format, read_statement


def _days(n: int) -> Iterable[tuple[int, str, str]]:
    for i in range(n):
        yield i, f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}", f"{-(i % 9000 + 1) // 100}.{i % 100:02d}"


def csv_file(n: int) -> bytes:
    lines = ["Date,Description,Amount"]
    lines += [f"{d},SHOP {i % 500} REF{i},{a}" for i, d, a in _days(n)]
    return ("\n".join(lines) + "\n").encode()


def ofx_file(n: int) -> bytes:
    head = "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n"
    head += "CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
    head += "<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1"
    head += "<ACCTID>42<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>20260101<DTEND>20261231\r\n"
    body = "".join(
        f"<STMTTRN>\r\n<TRNTYPE>DEBIT\r\n<DTPOSTED>{d.replace('-', '')}\r\n<TRNAMT>{a}\r\n<FITID>F{i}\r\n"
        f"<NAME>SHOP {i % 500}\r\n</STMTTRN>\r\n"
        for i, d, a in _days(n)
    )
    return (head + body + "</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n").encode()


def camt_file(n: int) -> bytes:
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
    head += 'camt.053.001.02"><BkToCstmrStmt><Stmt><Id>1</Id><Acct><Id><IBAN>DE89370400440532013000'
    head += "</IBAN></Id></Acct>\n"
    body = "".join(
        f'<Ntry><Amt Ccy="EUR">{a.lstrip("-")}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>{d}</Dt></BookgDt><AcctSvcrRef>R{i}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties>"
        f"<Cdtr><Nm>SHOP {i % 500}</Nm></Cdtr></RltdPties></TxDtls></NtryDtls></Ntry>\n"
        for i, d, a in _days(n)
    )
    return (head + body + "</Stmt></BkToCstmrStmt></Document>\n").encode()


def timed(read: Callable[[], Iterable[object]]) -> tuple[int, float]:
    start = time.perf_counter()
    n = sum(1 for _ in read())
    return n, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    rows = ap.parse_args().rows

    data = csv_file(rows)

    def csv_rows() -> Iterable[object]:
        fmt = detect_format(lambda: io.BytesIO(data), source="bench.csv")
        return read_statement(lambda: io.BytesIO(data), fmt, source="bench.csv", balances=False)

    n, seconds = timed(csv_rows)
    base = n / seconds
    print(f"csv: rows={n} seconds={seconds:.2f} rows_per_s={base:,.0f} bytes={len(data):,}")
    for kind, make in (("ofx", ofx_file), ("camt", camt_file)):
        blob = make(rows)
        read = structured_reader(lambda blob=blob: io.BytesIO(blob), source=f"bench.{kind}")
        assert read is not None, kind
        n, seconds = timed(read)
        rate = n / seconds
        print(
            f"{kind}: rows={n} seconds={seconds:.2f} rows_per_s={rate:,.0f} bytes={len(blob):,} "
            f"ratio_vs_csv_reader={rate / base:.2f}"
        )


if __name__ == "__main__":
    main()
