"""schemathesis against the OpenAPI document: no input makes the server fail (no 5xx)."""

from __future__ import annotations

import base64

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from govmedia.web import create_app

from web_fixtures import PASSWORD, build_store

pytestmark = pytest.mark.slow  # schemathesis walks the whole API


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    app = create_app(build_store(tmp_path_factory.mktemp("schema")), secret="schema-secret", login_attempts=10**6)
    yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    app.state.store.close()


def test_every_operation_without_server_error(api_schema):
    # Writes are tried as an editor, so that generated input reaches the code behind the role check.
    token = base64.b64encode(f"editor1:{PASSWORD}".encode()).decode()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(headers={"Authorization": f"Basic {token}"}, checks=[not_a_server_error])

        check()
