"""CSV detection stays a pipeline of small stages: every function in finjobs/domain/statement*.py is at
most 40 lines (the hot row parser excepted), and every stage returns a frozen value all the way down."""

from __future__ import annotations

import ast
import dataclasses
import io
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from finjobs.domain import statements as st
from finjobs.domain.statement_scan import _scan_columns

DOMAIN = Path(__file__).resolve().parents[2] / "finjobs" / "domain"
MAX_LINES = 40
# The documented hot row parser: one closure with no calls per cell (a million calls per import).
EXEMPT = {"statements.py": "_row_parser"}


def _function_sizes(path: Path) -> dict[str, int]:
    """qualified name -> lines (end_lineno - lineno + 1) of every def, nested ones included."""
    sizes: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    assert child.end_lineno is not None
                    sizes[name] = child.end_lineno - child.lineno + 1
                name += "."
            visit(child, name)

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return sizes


def test_every_statement_function_is_at_most_40_lines() -> None:
    paths = sorted(DOMAIN.glob("statement*.py"))
    assert {"statements.py", "statement_sniff.py", "statement_scan.py"} <= {p.name for p in paths}
    long: dict[str, int] = {}
    for path in paths:
        sizes = _function_sizes(path)
        exempt = EXEMPT.get(path.name)
        if exempt is not None:
            assert exempt in sizes, f"{path.name} has no {exempt} any more: drop its exemption"
        for name, lines in sizes.items():
            if exempt is not None and (name == exempt or name.startswith(exempt + ".")):
                continue
            if lines > MAX_LINES:
                long[f"{path.name}:{name}"] = lines
    assert long == {}


def test_the_size_measure_counts_decorators_out_and_nested_defs_in(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        "@dec\ndef f():\n    def g():\n        pass\n    return g\n\n"
        "class C:\n    def m(self):\n        return 1\n"
    )
    assert _function_sizes(src) == {"f": 4, "f.g": 2, "C.m": 2}


def _is_frozen_value(value: Any) -> bool:
    """True when nothing reachable from value can be changed in place."""
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, tuple | frozenset):
        return all(_is_frozen_value(v) for v in value)
    if isinstance(value, MappingProxyType):
        return all(_is_frozen_value(k) and _is_frozen_value(v) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = type(value).__dataclass_params__  # type: ignore[attr-defined]
        return bool(params.frozen) and all(
            _is_frozen_value(getattr(value, f.name)) for f in dataclasses.fields(value)
        )
    return False


def test_the_frozen_check_catches_mutable_parts() -> None:
    assert _is_frozen_value((1, ("a", None), MappingProxyType({"k": (2,)})))
    assert not _is_frozen_value((1, ["a"]))
    assert not _is_frozen_value(MappingProxyType({"k": [2]}))
    assert not _is_frozen_value({"k": 1})


HEADERED = (  # ambiguous dates: the scan stage opens a question and answers it
    "Date,Description,Amount,Balance\n03/04/2024,Coffee,-3.50,96.50\n04/04/2024,Salary,100.00,196.50\n"
    "05/04/2024,Rent,-50.00,146.50\n"
)
HEADERLESS = "2024-01-02,Shop,-5.00 €,95.00\n2024-01-03,Pay,10.00 €,105.00\n2024-01-04,Cafe,-2.00 €,103.00\n"
DIRECTION = "Date,Memo,Amount,Type\n2024-01-02,Shop,5.00,debit\n2024-01-03,Pay,10.00,credit\n"


@pytest.mark.parametrize(
    ("text", "column_map"),
    [(HEADERED, None), (HEADERLESS, None), (DIRECTION, None), (HEADERED, {"description": "Description"})],
    ids=["header", "headerless", "direction", "column-map"],
)
def test_every_stage_returns_a_frozen_value(text: str, column_map: dict[str, str] | None) -> None:
    data = text.encode()

    def opener() -> io.BytesIO:
        return io.BytesIO(data)

    request = st._request(None, column_map, "checking", "t.csv")
    sniffed = st.sniff(opener, request.preset, "t.csv")
    spot = st.locate_header(sniffed, request.named, "t.csv")
    roles = st.assign_roles(spot, request, "t.csv")
    scanned = st.scan_values(opener, sniffed, spot, roles, request, None, "t.csv")
    currency = st.pick_currency(spot, roles, scanned, request.preset, "usd")
    rule = st.sign_rule(spot, roles, request.account_type)
    column_scan = _scan_columns(opener, sniffed.encoding, ",", spot.start, roles.columns, "t.csv")

    for stage in (request, sniffed, spot, roles, scanned):
        for f in dataclasses.fields(stage):
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(stage, f.name, None)
        assert _is_frozen_value(stage), type(stage).__name__
    with pytest.raises(AttributeError):
        column_scan.date_order = "DMY"  # type: ignore[misc]
    assert _is_frozen_value(column_scan)
    with pytest.raises(TypeError):
        roles.columns["date"] = (9,)  # type: ignore[index]
    assert isinstance(currency, str) and isinstance(rule, str)
    # The stages are the pipeline detect_format runs: composed here they give its answer.
    assert st._format(sniffed, spot, roles, scanned, currency, rule) == st.detect_format(
        opener, source="t.csv", column_map=column_map
    )
