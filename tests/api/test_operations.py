"""Health, readiness, metrics, the page, and how failures look: store down, unexpected errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assistant.errors import StoreUnavailable
from tests.api.conftest import app_settings, free_port

pytestmark = pytest.mark.integration

QUESTION = {"messages": [{"role": "user", "content": "När ska Borlänge vara klimatneutralt?"}]}
SECRET_DETAIL = "/srv/secret/chroma.sqlite3 at 10.9.8.7:8001"


class Broken:
    """Stands in for the AnswerService: fails with ``exc`` (streaming: after the first event)."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def answer(self, messages, flt, k=None):
        raise self.exc

    def stream(self, messages, flt, k=None):
        yield "meta", {"language": "sv", "standalone_question": "q"}
        raise self.exc


def app_with(demo_core, **overrides):
    from api.main import create_app
    from assistant.core import Core

    core = Core(
        demo_core.settings.model_copy(update=overrides) if overrides else demo_core.settings
    )
    return core, create_app(core=core, settings=app_settings(core))


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok", "checks": {}}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"embedder": "ok", "index": "ok"}}


def test_unreachable_chroma_server_is_503(demo_core):
    _, app = app_with(demo_core, chroma_url=f"http://127.0.0.1:{free_port()}")
    with TestClient(app) as c:  # the start-up warm-up logs the failure; the app still starts
        assert c.get("/healthz").status_code == 200
        ready = c.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["index"] == "store_unavailable"
        for r in (c.post("/api/chat", json=QUESTION), c.get("/api/documents")):
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "store_unavailable"
            assert "127.0.0.1" not in r.text


def test_store_failure_drops_the_cached_store(demo_core):
    core, app = app_with(demo_core)
    with TestClient(app) as c:
        core.__dict__["answers"] = Broken(StoreUnavailable(f"Chroma at {SECRET_DETAIL} is gone"))
        r = c.post("/api/chat", json=QUESTION)
        assert r.status_code == 503
        assert r.json()["error"] == {
            "code": "store_unavailable",
            "message": "the document index is not reachable right now; try again shortly",
        }
        assert "answers" not in core.__dict__ and "store" not in core.__dict__
        assert c.post("/api/chat", json=QUESTION).status_code == 200  # reopened


def test_failure_during_a_stream_is_an_error_event(demo_core):
    core, app = app_with(demo_core)
    with TestClient(app) as c:
        core.__dict__["answers"] = Broken(StoreUnavailable(f"lost {SECRET_DETAIL}"))
        r = c.post("/api/chat", json={**QUESTION, "stream": True})
        assert r.status_code == 200
        assert r.text.startswith("event: meta\n")
        assert r.text.endswith(
            'event: error\ndata: {"code": "store_unavailable", "message": "the document index is '
            'not reachable right now; try again shortly"}\n\n'
        )
        assert "answers" not in core.__dict__
        core.__dict__["answers"] = Broken(RuntimeError(SECRET_DETAIL))
        r = c.post("/api/chat", json={**QUESTION, "stream": True})
        assert 'event: error\ndata: {"code": "internal_error"' in r.text
        assert "secret" not in r.text


def test_unexpected_errors_are_500_without_internals(demo_core):
    core, app = app_with(demo_core)
    core.__dict__["answers"] = Broken(RuntimeError(f"boom in {SECRET_DETAIL}"))
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/api/chat", json=QUESTION)
        assert r.status_code == 500
        assert r.json() == {
            "error": {
                "code": "internal_error",
                "message": "internal error; the server log has the details",
            }
        }


def test_not_found_and_method_not_allowed_use_the_error_shape(client):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.put("/api/chat", json=QUESTION)
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_metrics(demo_core):
    _, app = app_with(demo_core)
    with TestClient(app) as c:
        c.post("/api/chat", json=QUESTION)
        c.post(
            "/api/chat",
            json={"messages": [{"role": "user", "content": "Hvad koster en busbillet i Aarhus?"}]},
        )
        c.get("/api/documents/borlange-miljostrategi")
        c.get("/api/documents/missing-one")
        c.get("/no/such/route")
        r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'sa_http_requests_total{method="POST",route="/api/chat",status="200"} 2.0' in text
    assert 'route="/api/documents/{doc_id}",status="200"} 1.0' in text
    assert 'route="/api/documents/{doc_id}",status="404"} 1.0' in text
    assert 'route="<unmatched>",status="404"' in text
    assert 'sa_answers_total{endpoint="chat",outcome="found"} 1.0' in text
    assert 'sa_answers_total{endpoint="chat",outcome="abstained"} 1.0' in text
    assert "sa_http_request_duration_seconds_bucket" in text
    assert "missing-one" not in text


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Strategy Assistant" in page.text or "<html" in page.text.lower()
    assert client.get("/static/../main.py").status_code == 404
    assert client.get("/static/no-such-file.js").status_code == 404
