"""Schemathesis against /api/v1/openapi.json, in-process over real PostgreSQL/SQLite and Redis:
no 5xx, and every response matches the documented schema. Bounded examples keep the suite fast.

Driven through schemathesis' Python API with Hypothesis directly (its pytest plugin does not run on
this pytest), one operation at a time."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from finjobs.services.users import create_user
from finjobs.web import create_app
from tests.conftest import Stack

EXAMPLES = 30
# No 5xx, and every response (status, content type, headers, body) as documented. Not "schema-valid
# data must be accepted": a CSV's or a column map's validity is not expressible in JSON Schema, so a
# schema-valid request can rightly get a documented 422.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_every_operation_conforms_to_its_schema(stack: Stack) -> None:
    with stack.session() as s:
        token = create_user(s, "fuzz@example.com").token
    app = create_app(stack.settings)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        check()
