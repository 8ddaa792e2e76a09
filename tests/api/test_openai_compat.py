"""The OpenAI-compatible endpoints, checked with the official ``openai`` client against a real
uvicorn process (``uvicorn --factory api.main:create_app``) on a loopback port."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.api.conftest import STAFF_DOC

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PUBLIC_QUESTION = "När ska Borlänge vara klimatneutralt?"
STAFF_QUESTION = "Hvor mange årsværk bruger CTMB?"


def client_for(server, key: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=server.url + "/v1",
        api_key=key,
        max_retries=0,
        timeout=60,
        http_client=httpx.Client(trust_env=False),
    )


def test_models(uvicorn_server):
    models = client_for(uvicorn_server, "public").models.list()
    assert [m.id for m in models] == ["strategy-assistant"]


def test_completion_public(uvicorn_server):
    client = client_for(uvicorn_server, "public")
    completion = client.chat.completions.create(
        model="strategy-assistant", messages=[{"role": "user", "content": PUBLIC_QUESTION}]
    )
    assert completion.object == "chat.completion"
    content = completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    extra = completion.model_extra
    answer = extra["strategy_assistant"]
    assert answer["found"] is True and answer["language"] == "sv"
    assert content.startswith(answer["answer"])
    assert "\n\nKällor:\n[1] Miljöstrategi" in content
    assert extra["citations"] == answer["citations"]
    for c in extra["citations"]:
        assert f"[{c['id']}] {c['title']}" in content
        passage = httpx.get(uvicorn_server.url + c["link"], trust_env=False).json()
        assert passage["passage"] == c["quote"]


def test_completion_staff_sees_staff_document(uvicorn_server):
    client = client_for(uvicorn_server, uvicorn_server.keys.staff)
    completion = client.chat.completions.create(
        model="strategy-assistant", messages=[{"role": "user", "content": STAFF_QUESTION}]
    )
    citations = completion.model_extra["citations"]
    assert any(c["doc_id"] == STAFF_DOC for c in citations)
    assert "\n\nKilder:\n[1] " in completion.choices[0].message.content
    public = client_for(uvicorn_server, "public").chat.completions.create(
        model="strategy-assistant", messages=[{"role": "user", "content": STAFF_QUESTION}]
    )
    assert STAFF_DOC not in public.model_dump_json()


def test_streaming(uvicorn_server):
    client = client_for(uvicorn_server, uvicorn_server.keys.staff)
    stream = client.chat.completions.create(
        model="strategy-assistant",
        messages=[
            {"role": "system", "content": "Svar kort."},
            {"role": "user", "content": [{"type": "text", "text": PUBLIC_QUESTION}]},
        ],
        stream=True,
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    final = chunks[-1].model_extra
    assert text.startswith(final["strategy_assistant"]["answer"])
    assert "Källor:" in text and final["citations"]
    assert len({c.id for c in chunks}) == 1


def test_raw_stream_ends_with_done(uvicorn_server):
    body = {
        "model": "strategy-assistant",
        "messages": [{"role": "user", "content": PUBLIC_QUESTION}],
        "stream": True,
    }
    with httpx.stream(
        "POST", uvicorn_server.url + "/v1/chat/completions", json=body, trust_env=False, timeout=60
    ) as r:
        assert r.status_code == 200
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines)


def test_errors_reach_the_client(uvicorn_server):
    with pytest.raises(openai.AuthenticationError):
        client_for(uvicorn_server, "sa_00000000_" + "z" * 43).models.list()
    client = client_for(uvicorn_server, "public")
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": PUBLIC_QUESTION}]
        )
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="strategy-assistant", messages=[{"role": "assistant", "content": "hej"}]
        )


def test_api_chat_and_metrics_over_http(uvicorn_server):
    r = httpx.post(
        uvicorn_server.url + "/api/chat",
        json={"messages": [{"role": "user", "content": PUBLIC_QUESTION}], "stream": True},
        trust_env=False,
        timeout=60,
    )
    assert r.status_code == 200 and "event: done" in r.text
    metrics = httpx.get(uvicorn_server.url + "/metrics", trust_env=False).text
    assert 'sa_answers_total{endpoint="openai",outcome="found"}' in metrics
    assert 'route="/v1/chat/completions",status="200"' in metrics
