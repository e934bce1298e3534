"""The API's one translation of the live state's agent request errors: the code,
status and field come from the exception, never from parsing its text."""

from __future__ import annotations

import pytest

from cti.agents import AgentRequestError, ExtensionInUse
from webapp.api.errors import translate


@pytest.mark.parametrize(("exc", "status", "code", "field"), [
    (ExtensionInUse("1013", 7), 409, "extension-in-use", "extension"),
    (ExtensionInUse("1013", 7, "Ann Lee (A01)"), 409, "extension-in-use", "extension"),
    (AgentRequestError("'nap' is not a not-ready reason; use one of: break"), 422, "invalid-agent-request", None),
])
def test_agent_request_errors_keep_their_code(exc: AgentRequestError, status: int, code: str,
                                              field: str | None) -> None:
    mapped = translate(exc)
    assert mapped is not None
    assert (mapped.status, mapped.code, mapped.field, mapped.message) == (status, code, field, str(exc))


def test_a_clash_names_the_phone_or_the_colleague_never_the_internal_id() -> None:
    assert str(ExtensionInUse("1013", 7)).startswith("extension 1013 is in use by another agent;")
    assert "in use by Ann Lee (A01);" in str(ExtensionInUse("1013", 7, "Ann Lee (A01)"))
    assert "7" not in str(ExtensionInUse("1013", 7, "Ann Lee (A01)")).replace("1013", "")
