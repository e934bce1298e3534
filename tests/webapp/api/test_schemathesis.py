"""Property-based conformance of the whole API (schemathesis), against a running site
(simulated switch, real database, demo site), with an admin token: for cases generated
from the OpenAPI document, no 5xx, every status documented, every body matching its
schema and content type.

The schemathesis pytest plugin is disabled for this suite (tests/conftest.py: it would
import ssl before gevent patches it), so schemathesis is driven from a normal test:
every operation of the loaded document, each with hypothesis-generated cases.
"""

from __future__ import annotations

import pytest

from cti.tokens import TokenStore

#: Cases per operation; enough to hit every parameter and body field several times.
EXAMPLES = 15


@pytest.mark.slow
def test_every_operation_conforms_to_the_document(stack):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from webapp import create_app

    app, _ = create_app(stack.services, {"TESTING": True})
    token = TokenStore(stack.db).create("schemathesis", ["admin"], rate_per_minute=100_000)[1]
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    tested: list[str] = []
    succeeded: set[str] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/tokens/{token_id}" and operation.method.upper() == "DELETE":
            continue  # revoking tokens at random could revoke this test's own token

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def conforms(case):
            response = case.call_and_validate(headers=headers, checks=checks)
            if 200 <= response.status_code < 300:
                succeeded.add(case.operation.label)

        conforms()
        tested.append(operation.label)
    assert len(tested) >= 50
    # The token works: most operations answered 2xx to some generated case (the rest
    # need ids of things that exist, which random cases rarely hit).
    assert len(succeeded) >= 20, sorted(succeeded)
