"""Property-based checks of the read operations from the app's own OpenAPI schema (via ASGI):
whatever schemathesis sends — valid or not — the API answers without a server error. Uploads and
deletes change the index and are covered by test_documents.py instead.

(schemathesis' own pytest plugin does not run under this pytest, so the operations are driven
through Hypothesis directly: one bounded run per operation and generation mode.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MAX_EXAMPLES = 30


def operations(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(
        method=["POST", "DELETE"], path="/api/documents"
    )
    schema = schema.exclude(method="DELETE")
    return [result.ok() for result in schema.get_all_operations()]


def run_operation(op, mode: GenerationMode, seen: dict[str, set[int]]) -> None:
    label = f"{op.method.upper()} {op.path} ({mode.value})"

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def no_5xx(case):
        response = case.call()
        seen.setdefault(label, set()).add(response.status_code)
        assert response.status_code < 500, (
            f"{label} -> {response.status_code}: {response.text[:500]}\n{case.as_curl_command()}"
        )

    try:
        no_5xx()
    except Unsatisfiable:
        # nothing to break in an operation without parameters (e.g. /healthz)
        assert mode is GenerationMode.NEGATIVE, label
        seen.setdefault(label, set())


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(api_app, mode):
    ops = operations(api_app)
    assert {op.path for op in ops} >= {"/api/chat", "/api/search", "/v1/chat/completions"}
    seen: dict[str, set[int]] = {}
    for op in ops:
        run_operation(op, mode, seen)
    assert len(seen) == len(ops)
