"""The Chroma server is gone or hangs: the CLI fails fast with one line, the API with 503, and
both work again when the server is back.

tests/api/test_serve.py covers a stopped server (connection refused) and the API's recovery;
these add the CLI, a server that accepts connections but never answers (a hung process or a
firewall dropping packets, simulated by SIGSTOP or a socket nobody reads), and timings.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.api.conftest import free_port, stop, wait_ready
from tests.conftest import ROOT, make_settings
from tests.reliability.helpers import (
    BlackHole,
    assert_one_line_error,
    cli_env,
    demo_copy,
    run_cli,
)

pytestmark = pytest.mark.integration

QUESTION = {"messages": [{"role": "user", "content": "När ska Borlänge vara klimatneutralt?"}]}
STORE_TIMEOUT_S = 2.0
# Python start-up and imports (chromadb, the model is not loaded before the store opens).
CLI_BUDGET_S = 10.0
HANG_S = 30.0
UVICORN = [sys.executable, "-m", "uvicorn"]
COMMANDS = [
    ("search", "klimat"),
    ("search", "klimat", "--audience", "public", "--json"),
    ("ask", "Hvad er Lyngby-Taarbæks klimamål?"),
    ("documents",),
    ("documents", "show", "borlange-miljostrategi"),
    ("ingest", "CORPUS"),
]


def run_timed(args, env, corpus) -> tuple[subprocess.CompletedProcess, float]:
    args = [str(corpus) if a == "CORPUS" else a for a in args]
    started = time.monotonic()
    try:
        result = run_cli(*args, env=env, timeout=HANG_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(args)}` still running after {HANG_S:.0f} s", pytrace=False)
    return result, time.monotonic() - started


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a).replace(" ", "_")[:40])
def test_cli_against_a_dead_chroma_server(tmp_path, args):
    url = f"http://127.0.0.1:{free_port()}"
    env = cli_env(tmp_path / "data", SA_CHROMA_URL=url, SA_STORE_TIMEOUT_S=str(STORE_TIMEOUT_S))
    result, seconds = run_timed(args, env, demo_copy(tmp_path / "corpus"))
    assert result.returncode == 2
    assert_one_line_error(result, f"Chroma server at {url}", "not available")
    assert seconds < CLI_BUDGET_S, f"took {seconds:.1f} s"
    assert not (tmp_path / "data" / "chroma").exists()  # no silent fallback to embedded


@pytest.mark.parametrize("args", COMMANDS[:1] + COMMANDS[3:4], ids=lambda a: a[0])
def test_cli_against_a_chroma_server_that_never_answers(tmp_path, args):
    hole = BlackHole()
    try:
        env = cli_env(
            tmp_path / "data", SA_CHROMA_URL=hole.url, SA_STORE_TIMEOUT_S=str(STORE_TIMEOUT_S)
        )
        result, seconds = run_timed(args, env, tmp_path)
    finally:
        hole.close()
    assert result.returncode == 2
    assert_one_line_error(result, f"Chroma server at {hole.url}", "not available")
    assert seconds < STORE_TIMEOUT_S + CLI_BUDGET_S, f"took {seconds:.1f} s"


def timed_request(http: httpx.Client, method: str, path: str, **kwargs):
    started = time.monotonic()
    try:
        response = http.request(method, path, **kwargs)
    except httpx.TimeoutException:
        pytest.fail(f"{method} {path} did not return within {HANG_S:.0f} s", pytrace=False)
    return response, time.monotonic() - started


def assert_fast_503(response, seconds: float) -> None:
    assert response.status_code == 503, response.text
    assert seconds < 10, f"{seconds:.1f} s"  # the issue: fail fast, well under 10 s
    assert "127.0.0.1" not in response.text
    body = response.json()
    code = body["error"]["code"] if "error" in body else body["checks"]["index"]
    assert code == "store_unavailable", body


@pytest.mark.slow
def test_api_while_the_chroma_server_hangs_and_after_it_resumes(tmp_path, demo_corpus):
    """SIGSTOP: connections are accepted, nothing is answered. Every request must end with 503
    within the store timeout (not only the first, which still has an open client), and the API
    must serve again after SIGCONT without a restart.

    The API runs under uvicorn in its own process, so a request the product lets hang costs the
    test a client timeout, never a hung test process."""
    from assistant.cli.serve import ChromaServer
    from assistant.core import Core
    from assistant.indexer import ingest_paths

    server = ChromaServer(tmp_path / "chroma-server")
    url = server.start()
    api = None
    stopped = False
    try:
        core = Core(make_settings(tmp_path / "data", chroma_url=url))
        ingest_paths(
            [demo_corpus], settings=core.settings, store=core.store, embedder=core.embedder
        )
        api, api_url = start_api(tmp_path, url)
        with httpx.Client(base_url=api_url, timeout=HANG_S, trust_env=False) as http:
            assert http.post("/api/chat", json=QUESTION).json()["found"] is True
            server.process.send_signal(signal.SIGSTOP)
            stopped = True
            for method, path, kwargs in (
                ("POST", "/api/chat", {"json": QUESTION}),
                ("POST", "/api/chat", {"json": QUESTION}),  # reopens the store
                ("GET", "/api/documents", {}),
                ("GET", "/readyz", {}),
            ):
                assert_fast_503(*timed_request(http, method, path, **kwargs))
            server.process.send_signal(signal.SIGCONT)
            stopped = False
            assert http.get("/readyz").status_code == 200
            assert http.post("/api/chat", json=QUESTION).json()["found"] is True
    finally:
        if stopped:
            server.process.send_signal(signal.SIGCONT)
        if api is not None:
            stop(api)
        server.stop()


def start_api(tmp_path, chroma_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = cli_env(
        tmp_path / "data",
        SA_CHROMA_URL=chroma_url,
        SA_STORE_TIMEOUT_S=str(STORE_TIMEOUT_S),
        SA_RATE_LIMIT_PER_MINUTE="0",
    )
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *UVICORN,
                "--factory",
                "api.main:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process, log)
    return process, url
