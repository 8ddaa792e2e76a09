"""The LLM endpoint never answers: ``POST /api/chat`` still ends within the LLM timeout plus a
little — with an extractive answer when ``llm_fallback_extractive`` is on, with a clean JSON
error (504) when it is off — never a 500, and the app keeps serving.

tests/answering/test_llm.py covers the service (every failure kind of the endpoint); these cover
the HTTP layer, streaming, the OpenAI-compatible route and the threads left behind.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import app_settings
from tests.reliability.helpers import BlackHole

pytestmark = pytest.mark.integration

LLM_TIMEOUT_S = 1.0
# Retrieval, the fallback answer and the test client on top of the LLM deadline.
SLACK_S = 4.0
QUESTION = "När ska Borlänge vara klimatneutralt?"
BODY = {"messages": [{"role": "user", "content": QUESTION}]}


@pytest.fixture(scope="module")
def hole():
    hole = BlackHole()
    yield hole
    hole.close()


def make_client(demo_core, hole: BlackHole, fallback: bool) -> TestClient:
    from api.main import create_app
    from assistant.core import Core

    settings = demo_core.settings.model_copy(
        update={
            "generator": "llm",
            "llm_base_url": f"{hole.url}/v1",
            "llm_model": "fake",
            "llm_timeout_s": LLM_TIMEOUT_S,
            "llm_fallback_extractive": fallback,
        }
    )
    core = Core(settings)
    return TestClient(create_app(core=core, settings=app_settings(core)))


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def llm_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "llm-call" and t.is_alive())


def test_hanging_llm_with_fallback_answers_extractively(demo_core, hole):
    with make_client(demo_core, hole, fallback=True) as c:
        r, seconds = timed(lambda: c.post("/api/chat", json=BODY))
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["generator"] == "extractive" and answer["found"] and answer["citations"]
        assert seconds < LLM_TIMEOUT_S + SLACK_S, f"{seconds:.1f} s"

        r, seconds = timed(lambda: c.post("/api/chat", json={**BODY, "stream": True}))
        assert r.status_code == 200
        events = sse_events(r.text)
        names = [name for name, _ in events]
        assert names[0] == "meta" and "reset" in names and names[-2:] == ["citations", "done"]
        assert events[-1][1]["generator"] == "extractive" and events[-1][1]["found"]
        assert seconds < LLM_TIMEOUT_S + SLACK_S, f"{seconds:.1f} s"

        r, seconds = timed(
            lambda: c.post("/v1/chat/completions", json={"model": "strategy-assistant", **BODY})
        )
        assert r.status_code == 200, r.text
        assert r.json()["strategy_assistant"]["generator"] == "extractive"
        assert seconds < LLM_TIMEOUT_S + SLACK_S


def test_hanging_llm_without_fallback_is_a_clean_504(demo_core, hole):
    with make_client(demo_core, hole, fallback=False) as c:
        r, seconds = timed(lambda: c.post("/api/chat", json=BODY))
        assert seconds < LLM_TIMEOUT_S + SLACK_S, f"{seconds:.1f} s"
        assert r.status_code == 504, r.text
        assert r.headers["content-type"].startswith("application/json")
        error = r.json()["error"]
        assert error["code"] == "generator_timeout" and error["message"]

        r, seconds = timed(lambda: c.post("/api/chat", json={**BODY, "stream": True}))
        assert seconds < LLM_TIMEOUT_S + SLACK_S, f"{seconds:.1f} s"
        assert r.status_code == 200  # the stream had started (meta) before the LLM was asked
        events = sse_events(r.text)
        assert events[0][0] == "meta" and events[-1][0] == "error"
        assert events[-1][1]["code"] == "generator_timeout"

        r, seconds = timed(
            lambda: c.post("/v1/chat/completions", json={"model": "strategy-assistant", **BODY})
        )
        assert r.status_code == 504, r.text
        assert r.json()["error"]["code"] == "generator_timeout"
        assert seconds < LLM_TIMEOUT_S + SLACK_S

        # Nothing crashed: the app serves, and what does not need the LLM still works.
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 200
        assert c.get("/api/search", params={"q": "klimatneutralt"}).status_code == 200
        metrics = c.get("/metrics").text
        assert 'route="/api/chat",status="504"' in metrics
        assert 'status="500"' not in metrics


def test_llm_errors_do_not_reveal_the_endpoint(demo_core, hole):
    """api/errors.py: internal addresses never leave the server. The LLM endpoint is one (an
    Ollama or vLLM host on the internal network); the log has it, the caller must not."""
    with make_client(demo_core, hole, fallback=False) as c:
        responses = [
            c.post("/api/chat", json=BODY),
            c.post("/api/chat", json={**BODY, "stream": True}),
            c.post("/v1/chat/completions", json={"model": "strategy-assistant", **BODY}),
        ]
    for r in responses:
        assert "generator_timeout" in r.text
        assert str(hole.port) not in r.text and "127.0.0.1" not in r.text, r.text


def test_abandoned_llm_calls_do_not_pile_up(demo_core, hole):
    """Each timed-out call leaves a daemon thread blocked on the socket; it must end at the
    client's own read timeout, so a hung endpoint cannot exhaust the process."""
    with make_client(demo_core, hole, fallback=True) as c:
        for _ in range(4):
            assert c.post("/api/chat", json=BODY).status_code == 200
    deadline = time.monotonic() + LLM_TIMEOUT_S + 10
    while llm_threads() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert llm_threads() == 0
