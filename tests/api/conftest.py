"""Fixtures of the API tests: the app around the shared demo index, keys, clients, servers.

``api_app`` wraps the session's ``demo_core`` (read-only use: chat, search, documents) with rate
limiting off; tests that change the index (uploads, deletes) get ``fresh_core``, a private copy
of the demo corpus ingested into its own data directory.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import EMBEDDING_CACHE, ROOT, make_settings

STAFF_DOC = "lyngby-taarbaek-ctmb-indsatser-2025"
STAFF_TITLE = "Center for Trafik, Miljø og Bæredygtighed"
READY_TIMEOUT_S = 120


@dataclass(frozen=True)
class Keys:
    staff: str
    admin: str

    @staticmethod
    def header(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    @property
    def staff_headers(self) -> dict[str, str]:
        return self.header(self.staff)

    @property
    def admin_headers(self) -> dict[str, str]:
        return self.header(self.admin)


def create_keys(data_dir: Path) -> Keys:
    from assistant.auth import KeyFile

    key_file = KeyFile(data_dir / "keys.json")
    _, staff = key_file.create("staff", "test-staff")
    _, admin = key_file.create("admin", "test-admin")
    return Keys(staff, admin)


def app_settings(core, **overrides):
    """The core's settings with API overrides (rate limiting off unless a test turns it on)."""
    overrides.setdefault("rate_limit_per_minute", 0)
    return core.settings.model_copy(update=overrides)


@pytest.fixture(scope="session")
def api_keys(demo_core) -> Keys:
    return create_keys(demo_core.settings.data_dir)


@pytest.fixture(scope="session")
def api_app(demo_core, api_keys):
    from api.main import create_app

    return create_app(core=demo_core, settings=app_settings(demo_core))


@pytest.fixture(scope="session")
def client(api_app) -> Iterator[TestClient]:
    with TestClient(api_app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def fresh_core(tmp_path_factory, demo_corpus):
    """A Core over its own copy of the demo index (for tests that change documents)."""
    from assistant.core import Core
    from assistant.indexer import ingest_paths

    core = Core(make_settings(tmp_path_factory.mktemp("fresh-data")))
    report = ingest_paths(
        [demo_corpus], settings=core.settings, store=core.store, embedder=core.embedder
    )
    assert report.count("failed") == 0, report.as_dict()
    return core


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The developer's SA_* settings never reach a server under test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SA_")}
    env.update(
        SA_DATA_DIR=str(data_dir),
        SA_CONFIG_FILE=str(data_dir / "absent.toml"),
        SA_EMBEDDING_CACHE_PATH=str(EMBEDDING_CACHE),
        HF_HUB_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        **extra,
    )
    return env


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout_s: float = READY_TIMEOUT_S):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"server not ready after {timeout_s} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Server:
    url: str
    data_dir: Path
    keys: Keys


@pytest.fixture(scope="module")
def uvicorn_server(tmp_path_factory, demo_corpus) -> Iterator[Server]:
    """A real ``uvicorn --factory api.main:create_app`` process on a free loopback port, over a
    data directory with the demo corpus ingested (by the CLI, in its own process)."""
    data_dir = tmp_path_factory.mktemp("server-data")
    env = server_env(data_dir)
    cli = [sys.executable, "-c", "from assistant.cli import main; main()"]
    subprocess.run(
        [*cli, "ingest", str(demo_corpus), "--json"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    keys = create_keys(data_dir)
    port = free_port()
    log = data_dir / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
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
    try:
        wait_ready(url, process, log)
        yield Server(url, data_dir, keys)
    finally:
        stop(process)
