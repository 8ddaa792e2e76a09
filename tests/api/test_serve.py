"""Serving with a Chroma server: a dead server fails fast with 503 and the API recovers when it
returns; ``strategy-assistant serve --workers 2`` starts one, fills it and stops it."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.cli.serve import ChromaServer
from tests.api.conftest import ROOT, app_settings, free_port, server_env, stop, wait_ready
from tests.conftest import make_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUESTION = {"messages": [{"role": "user", "content": "När ska Borlänge vara klimatneutralt?"}]}


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_dead_chroma_server_is_503_and_recovers(tmp_path, demo_corpus):
    from api.main import create_app
    from assistant.core import Core
    from assistant.indexer import ingest_paths

    server = ChromaServer(tmp_path / "chroma-server")
    url = server.start()
    try:
        core = Core(make_settings(tmp_path / "data", chroma_url=url, store_timeout_s=2))
        ingest_paths(
            [demo_corpus], settings=core.settings, store=core.store, embedder=core.embedder
        )
        with TestClient(create_app(core=core, settings=app_settings(core))) as c:
            assert c.post("/api/chat", json=QUESTION).json()["found"] is True
            server.stop()
            started = time.monotonic()
            r = c.post("/api/chat", json=QUESTION)
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "store_unavailable"
            assert time.monotonic() - started < 10
            assert c.get("/readyz").status_code == 503
            assert c.get("/api/documents").status_code == 503
            # the same data, the same address: the API picks it up without a restart
            restarted = ChromaServer(server.path)
            restarted.port = server.port
            _start_on_port(restarted)
            server = restarted
            assert c.get("/readyz").status_code == 200
            assert c.post("/api/chat", json=QUESTION).json()["found"] is True
    finally:
        server.stop()


def _start_on_port(server: ChromaServer) -> None:
    """Like ``ChromaServer.start`` but on the server's fixed port (a restart at the same URL)."""
    from assistant.cli.serve import HEARTBEAT_PATH, chroma_executable

    server.process = subprocess.Popen(
        [
            chroma_executable(),
            "run",
            "--path",
            str(server.path),
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(server.url + HEARTBEAT_PATH, timeout=1, trust_env=False).status_code
                == 200
            ):
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail("the Chroma server did not come back")


def test_serve_with_two_workers_starts_and_stops_a_chroma_server(tmp_path, demo_corpus):
    data_dir = tmp_path / "data"
    port = free_port()
    limit = 8
    env = server_env(data_dir, SA_CORPUS_PATH=str(demo_corpus), SA_RATE_LIMIT_PER_MINUTE=str(limit))
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from assistant.cli import main; main()",
                "serve",
                "--port",
                str(port),
                "--workers",
                "2",
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    chroma_port = None
    try:
        wait_ready(url, process, log, timeout_s=300)
        found = re.search(r"Chroma server at http://127\.0\.0\.1:(\d+)", log.read_text())
        assert found, log.read_text()
        chroma_port = int(found.group(1))
        assert port_open(chroma_port)
        assert (data_dir / "chroma-server").is_dir()
        with httpx.Client(base_url=url, trust_env=False, timeout=60) as http:
            docs = http.get("/api/documents").json()
            assert len(docs) == 4  # the demo corpus's public documents, ingested on first start
            for _ in range(4):  # spread over both workers
                assert http.post("/api/chat", json=QUESTION).json()["found"] is True
        # The public rate limit holds for the service, not per worker: 1 + 4 requests so far,
        # each further one on a new connection (so both workers take some).
        statuses = []
        for _ in range(2 * limit):
            with httpx.Client(base_url=url, trust_env=False, timeout=60) as fresh:
                statuses.append(fresh.get("/api/search", params={"q": "cykel"}).status_code)
        assert statuses.count(200) == limit - 5 and statuses.count(429) == limit + 5, statuses
        assert (data_dir / "ratelimit-public.sqlite").is_file()  # counted in the shared file
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stop(process)
    if chroma_port is not None:
        deadline = time.monotonic() + 15
        while port_open(chroma_port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not port_open(chroma_port), "the Chroma server outlived `serve`"
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def test_serve_help_is_fast():
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", "from assistant.cli import main; main()", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--workers" in result.stdout
    assert time.monotonic() - started < 5


def test_cli_does_not_import_the_api():
    code = (
        "import sys; from assistant.cli import app; "
        "heavy = ('fastapi', 'uvicorn', 'chromadb', 'api.'); "
        "print(any(m.startswith(heavy) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
