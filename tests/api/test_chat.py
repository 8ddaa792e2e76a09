"""POST /api/chat: answers with exact citations, streaming events, filters, error shapes."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration

PUBLIC_QUESTION = "När ska Borlänge vara klimatneutralt?"


def ask(client, question: str, headers=None, **body):
    return client.post(
        "/api/chat",
        json={"messages": [{"role": "user", "content": question}], **body},
        headers=headers,
    )


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def assert_exact_citations(client, answer: dict, headers=None) -> None:
    texts: dict[str, str] = {}
    for c in answer["citations"]:
        if c["doc_id"] not in texts:
            doc = client.get(f"/api/documents/{c['doc_id']}", headers=headers)
            assert doc.status_code == 200
            texts[c["doc_id"]] = doc.json()["text"]
        assert texts[c["doc_id"]][c["start"] : c["end"]] == c["quote"]
        assert f"[{c['id']}]" in answer["answer"]
        passage = client.get(c["link"], headers=headers)
        assert passage.status_code == 200
        assert passage.json()["passage"] == c["quote"]


def test_found_answer_cites_exact_passages(client):
    r = ask(client, PUBLIC_QUESTION)
    assert r.status_code == 200
    answer = r.json()
    assert answer["found"] is True
    assert answer["language"] == "sv"
    assert answer["citations"]
    assert "2030" in answer["answer"] or any("2030" in c["quote"] for c in answer["citations"])
    assert_exact_citations(client, answer)


def test_staff_answer_cites_staff_document(client, api_keys):
    r = ask(client, "Hvor mange årsværk bruger CTMB?", headers=api_keys.staff_headers)
    assert r.status_code == 200
    answer = r.json()
    assert answer["found"] is True
    assert any(c["doc_id"] == "lyngby-taarbaek-ctmb-indsatser-2025" for c in answer["citations"])
    assert_exact_citations(client, answer, headers=api_keys.staff_headers)


def test_stream_event_order(client):
    r = ask(client, PUBLIC_QUESTION, stream=True)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    names = [name for name, _ in events]
    assert names[0] == "meta"
    assert set(events[0][1]) == {"language", "standalone_question"}
    deltas = [i for i, n in enumerate(names) if n == "delta"]
    assert deltas and deltas == list(range(1, 1 + len(deltas)))
    assert names[1 + len(deltas) :] == ["citations", "done"]
    assert all(isinstance(data["text"], str) for name, data in events if name == "delta")
    done = events[-1][1]
    assert done["found"] is True
    assert events[-2][1]["citations"] == done["citations"]
    whole = ask(client, PUBLIC_QUESTION).json()
    assert done["answer"] == whole["answer"]


def test_stream_of_abstention_still_ends_with_done(client):
    events = parse_sse(ask(client, "Hvad koster en busbillet i Aarhus?", stream=True).text)
    assert [n for n, _ in events][0] == "meta"
    assert events[-1][0] == "done"
    assert events[-1][1]["found"] is False
    assert events[-2] == ("citations", {"citations": []})


def test_stream_errors_before_the_first_event_are_http_errors(client):
    r = ask(client, "x" * 2500, stream=True)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "bad_request"


def test_filters_narrow(client):
    answer = ask(client, PUBLIC_QUESTION, filters={"languages": ["da"]}).json()
    assert all(p["doc_id"].startswith("lyngby") for p in answer["passages"])
    answer = ask(client, PUBLIC_QUESTION, filters={"documents": ["borlange-miljostrategi"]}).json()
    assert {p["doc_id"] for p in answer["passages"]} == {"borlange-miljostrategi"}


def test_follow_up_uses_history(client):
    messages = [
        {"role": "user", "content": "Vad är Borlänges miljöstrategi?"},
        {"role": "assistant", "content": "Borlänges miljöstrategi …"},
        {"role": "user", "content": "När ska kommunen vara klimatneutral?"},
    ]
    r = client.post("/api/chat", json={"messages": messages})
    assert r.status_code == 200
    assert r.json()["language"] == "sv"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"messages": []},
        {"messages": [{"role": "robot", "content": "hej"}]},
        {"messages": [{"role": "user", "content": "hej"}], "filters": {"quarters": [5]}},
        {"messages": [{"role": "user", "content": "hej"}], "audience": "staff"},
        {"messages": [{"role": "user", "content": "hej"}], "filters": {"audience": "staff"}},
    ],
)
def test_invalid_bodies_are_422_in_the_error_shape(client, body):
    r = client.post("/api/chat", json=body)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith("invalid request")
    assert all(set(d) == {"loc", "msg", "type"} for d in error["details"])


def test_last_message_must_be_the_users(client):
    r = client.post("/api/chat", json={"messages": [{"role": "assistant", "content": "hej"}]})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "bad_request"


def test_malformed_json_is_422(client):
    r = client.post("/api/chat", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


def test_openapi_documents_the_main_routes(client):
    spec = client.get("/openapi.json").json()
    chat = spec["paths"]["/api/chat"]["post"]
    assert chat["tags"] == ["chat"] and chat["summary"]
    assert chat["requestBody"]["content"]["application/json"]["examples"]
    assert "text/event-stream" in chat["responses"]["200"]["content"]
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    for path in ("/api/search", "/api/documents", "/v1/chat/completions", "/readyz"):
        operation = next(iter(spec["paths"][path].values()))
        assert operation["summary"] and operation["tags"]
