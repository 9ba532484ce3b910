"""Hypothesis over the two parsers users feed: any text to the receipt parser gives fields (never an
exception), and any bytes imported as a CSV end rejected or completed with the accounting identity
imported + skipped + duplicates = rows read, on a real SQLite database through the import service."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from finjobs.config import Settings
from finjobs.db.engine import session_scope
from finjobs.db.migrate import upgrade
from finjobs.db.models import Transaction
from finjobs.domain.receipts import parse_receipt
from finjobs.domain.statements import SkippedRow, StatementRow, detect_format, read_statement
from finjobs.errors import InputError
from finjobs.services.imports import accept_import, run_import
from finjobs.services.users import create_user

receipt_lines = st.lists(
    st.one_of(
        st.text(max_size=60),
        st.sampled_from(["TOTAL", "GRAND TOTAL RM", "CASH", "CHANGE", "GST 6%", "DATE:", "SDN BHD", "QTY"]),
        st.from_regex(r"[A-Z ]{0,12}(RM|\$)? ?-?\d{1,5}[.,]\d{2}", fullmatch=True),
        st.from_regex(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}( \d{1,2}:\d{2})?", fullmatch=True),
    ),
    max_size=40,
)


@given(receipt_lines, st.sampled_from([None, "MY", "US", "DE"]))
@settings(max_examples=300, deadline=None)
def test_any_text_parses_to_fields(lines: list[str], locale: str | None) -> None:
    fields = parse_receipt("\n".join(lines), locale_hint=locale)
    doc = fields.to_dict()
    assert set(doc) >= {"merchant", "date", "total", "currency", "items", "confidence"}
    assert fields.total_minor is None or isinstance(fields.total_minor, int)


csv_cells = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.from_regex(r"-?\d{1,4}[.,]\d{2}", fullmatch=True),
    st.from_regex(r"\d{1,2}/\d{1,2}/20\d{2}", fullmatch=True),
    st.sampled_from(["", "pending", "Total", "Saldo Anterior", "(12.34)", "1.234,56"]),
)
csv_files = st.builds(
    lambda header, rows, sep, nl: (
        nl.join(sep.join(r) for r in ([header] if header else []) + rows) + nl
    ).encode("utf-8", "surrogatepass"),
    st.sampled_from([["Date", "Description", "Amount"], ["Datum", "Omschrijving", "Bedrag"], []]),
    st.lists(st.lists(csv_cells, min_size=1, max_size=4), max_size=25),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["\n", "\r\n", "\r"]),
)


@given(st.one_of(csv_files, st.binary(max_size=600)))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_bytes_import_keeps_the_accounting_identity(tmp_path_factory, redis, data: bytes) -> None:  # type: ignore[no-untyped-def]
    db = Path(tmp_path_factory.mktemp("fuzz")) / "fuzz.sqlite3"
    url = f"sqlite:///{db}"
    upgrade(url)
    settings_ = Settings.from_env({"DATABASE_URL": url, "FINJOBS_STATE_DIR": str(db.parent)})
    try:
        fmt = detect_format(lambda: io.BytesIO(data), source="fuzz.csv")
        read = list(read_statement(lambda: io.BytesIO(data), fmt, source="fuzz.csv"))
    except InputError:
        read = None
    assert read is None or all(isinstance(r, StatementRow | SkippedRow) for r in read)
    with session_scope(url) as s:
        user_id = create_user(s, "fuzz@example.com").id
        try:
            import_id = accept_import(s, user_id, "fuzz.csv", data, settings=settings_).id
        except InputError:
            return  # empty file: refused up front
    doc = run_import(settings_, redis, import_id)
    assert doc["status"] in {"completed", "rejected"}
    with session_scope(url) as s:
        stored = s.scalar(select(func.count()).select_from(Transaction)) or 0
    if doc["status"] == "rejected":
        assert stored == 0 and doc["error_message"]
    else:
        assert doc["imported"] + doc["skipped"] + doc["duplicates"] == doc["processed"]
        assert read is not None and doc["processed"] == len(read)
        assert stored == doc["imported"]
