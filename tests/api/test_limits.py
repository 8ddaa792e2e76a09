"""Rate limits, body and question size limits, CORS allow-list."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.ratelimit import RateLimited, SlidingWindowLimiter
from tests.api.conftest import app_settings

QUESTION = {"messages": [{"role": "user", "content": "Vad är Borlänges miljömål?"}]}


def make_client(core, **overrides) -> TestClient:
    from api.main import create_app

    return TestClient(create_app(core=core, settings=app_settings(core, **overrides)))


@pytest.mark.unit
def test_sliding_window():
    now = [0.0]
    limiter = SlidingWindowLimiter(2, window_s=60, clock=lambda: now[0])
    limiter.hit("a")
    limiter.hit("a")
    limiter.hit("b")
    with pytest.raises(RateLimited) as info:
        limiter.hit("a")
    assert info.value.retry_after == 60
    now[0] = 30
    with pytest.raises(RateLimited) as info:
        limiter.hit("a")
    assert info.value.retry_after == 30
    now[0] = 60.5
    limiter.hit("a")
    SlidingWindowLimiter(0).hit("anyone")  # 0: no limit


@pytest.mark.integration
def test_public_callers_are_rate_limited_staff_are_not(demo_core, api_keys):
    with make_client(demo_core, rate_limit_per_minute=3) as c:
        for _ in range(3):
            assert c.get("/api/documents").status_code == 200
        r = c.get("/api/search", params={"q": "klimat"})
        assert r.status_code == 429
        assert r.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert c.post("/api/chat", json=QUESTION).status_code == 429
        assert (
            c.get("/api/documents", headers={"Authorization": "Bearer public"}).status_code == 429
        )
        for _ in range(5):
            assert c.get("/api/documents", headers=api_keys.staff_headers).status_code == 200
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 200


@pytest.mark.integration
def test_staff_limit_is_per_key(demo_core, api_keys):
    with make_client(demo_core, rate_limit_per_minute=1, rate_limit_staff_per_minute=2) as c:
        assert c.get("/api/documents", headers=api_keys.staff_headers).status_code == 200
        assert c.get("/api/documents", headers=api_keys.staff_headers).status_code == 200
        assert c.get("/api/documents", headers=api_keys.staff_headers).status_code == 429
        assert c.get("/api/documents", headers=api_keys.admin_headers).status_code == 200


@pytest.mark.integration
def test_wrong_keys_count_against_the_public_limit(demo_core):
    bad = {"Authorization": "Bearer sa_00000000_" + "y" * 43}
    with make_client(demo_core, rate_limit_per_minute=2) as c:
        assert c.get("/api/documents", headers=bad).status_code == 401
        assert c.get("/api/documents", headers=bad).status_code == 401
        assert c.get("/api/documents", headers=bad).status_code == 429


@pytest.mark.integration
def test_body_limits(demo_core, api_keys):
    with make_client(demo_core, max_body_bytes=4096, max_upload_bytes=8192) as c:
        big = {"messages": [{"role": "user", "content": "klimat " * 1000}]}
        r = c.post("/api/chat", json=big)
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "body_too_large"

        def chunks():  # no Content-Length: counted while read
            yield b'{"messages": [{"role": "user", "content": "'
            for _ in range(100):
                yield b"klimat " * 10
            yield b'"}]}'

        r = c.post("/api/chat", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "body_too_large"
        upload = {"files": ("big.txt", b"klimat " * 2000, "text/plain")}
        assert c.post("/api/documents", files=upload).status_code == 413
        medium = {"files": ("medium.txt", b"klimat " * 800, "text/plain")}  # body < upload limit
        assert c.post("/api/documents", files=medium).status_code == 413  # no key: body limit
        staff = c.post("/api/documents", files=medium, headers=api_keys.staff_headers)
        assert staff.status_code == 403  # read in full, then refused for the role
        assert c.post("/api/chat", json=QUESTION).status_code == 200


@pytest.mark.integration
def test_question_length_limits(client):
    r = client.post("/api/chat", json={"messages": [{"role": "user", "content": "klimat " * 400}]})
    assert r.status_code == 400
    assert "too long" in r.json()["error"]["message"]
    r = client.post("/api/chat", json={"messages": [{"role": "user", "content": "x" * 20_001}]})
    assert r.status_code == 422
    r = client.get("/api/search", params={"q": "klimat " * 400})
    assert r.status_code == 400


@pytest.mark.integration
def test_cors_allow_list(demo_core, client):
    preflight = {
        "Origin": "https://www.kommune.dk",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    assert (
        "access-control-allow-origin" not in client.options("/api/chat", headers=preflight).headers
    )
    with make_client(demo_core, cors_origins=["https://www.kommune.dk"]) as c:
        r = c.options("/api/chat", headers=preflight)
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://www.kommune.dk"
        other = c.options("/api/chat", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        r = c.post("/api/chat", json={}, headers={"Origin": "https://www.kommune.dk"})
        assert r.status_code == 422
        assert r.headers["access-control-allow-origin"] == "https://www.kommune.dk"


@pytest.mark.unit
@pytest.mark.parametrize("origins", [["*"], ["kommune.dk"], ["https://kommune.dk/app"]])
def test_cors_setting_refuses_wildcards_and_non_origins(origins, tmp_path):
    from pydantic import ValidationError

    from assistant.settings import Settings

    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, cors_origins=origins)


@pytest.mark.unit
def test_shared_window_counts_for_all_workers(tmp_path):
    """Two limiters on one file stand for two worker processes: together they allow the limit."""
    from api.ratelimit import SharedWindowLimiter

    now = [1000.0]
    path = tmp_path / "ratelimit.sqlite"
    first, second = (SharedWindowLimiter(3, path, clock=lambda: now[0]) for _ in range(2))
    first.hit("1.2.3.4")
    second.hit("1.2.3.4")
    first.hit("1.2.3.4")
    second.hit("5.6.7.8")
    with pytest.raises(RateLimited) as info:
        second.hit("1.2.3.4")
    assert info.value.retry_after == 60
    now[0] += 60.5
    second.hit("1.2.3.4")


@pytest.mark.unit
def test_shared_window_under_concurrent_hits(tmp_path):
    """Threads of several "workers" racing: exactly the limit gets through."""
    import threading

    from api.ratelimit import SharedWindowLimiter

    path = tmp_path / "ratelimit.sqlite"
    limiters = [SharedWindowLimiter(25, path) for _ in range(3)]
    accepted, refused = [], []

    def client(limiter) -> None:
        for _ in range(20):
            try:
                limiter.hit("same-client")
                accepted.append(1)
            except RateLimited:
                refused.append(1)

    threads = [threading.Thread(target=client, args=(limiters[n % 3],)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == 25 and len(refused) == 95


@pytest.mark.unit
def test_several_workers_share_their_limit(tmp_path):
    from api.ratelimit import SharedWindowLimiter, build_limiter

    assert isinstance(build_limiter(10, 1, tmp_path, "public"), SlidingWindowLimiter)
    assert isinstance(build_limiter(10, 2, tmp_path, "public"), SharedWindowLimiter)
    assert isinstance(build_limiter(0, 2, tmp_path, "public"), SlidingWindowLimiter)  # no limit
