"""``serve``: the HTTP API and chat page under uvicorn.

Before the workers start, the index is prepared once: opened, cleared of leftovers of an
interrupted ingest, and — when it is empty and ``corpus_path`` exists — filled with that corpus,
so the first start shows a working chat. Embedded Chroma must not be shared by processes, so with
several workers and no ``SA_CHROMA_URL`` a Chroma server is started for them (data in
``data_dir/chroma-server``) and stopped on exit.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import typer

from assistant.cli.output import err_console

HEARTBEAT_PATH = "/api/v2/heartbeat"
CHROMA_START_TIMEOUT_S = 60.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def chroma_executable() -> str:
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.is_file() else shutil.which("chroma")
    if not found:
        from assistant.errors import ConfigurationError

        raise ConfigurationError(
            "the `chroma` command (from the chromadb package) was not found; install chromadb "
            "or set SA_CHROMA_URL to a running Chroma server"
        )
    return found


class ChromaServer:
    """A ``chroma run`` child process on a free loopback port."""

    def __init__(self, path: Path, host: str = "127.0.0.1") -> None:
        self.path = path
        self.host = host
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = CHROMA_START_TIMEOUT_S) -> str:
        import httpx

        from assistant.errors import StoreUnavailable

        self.path.mkdir(parents=True, exist_ok=True)
        self.port = free_port(self.host)
        log = (self.path / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                chroma_executable(),
                "run",
                "--path",
                str(self.path),
                "--host",
                self.host,
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(self.url + HEARTBEAT_PATH, timeout=1.0).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise StoreUnavailable(
            f"the Chroma server did not start within {timeout_s:.0f} s; "
            f"see {self.path / 'server.log'}"
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def prepare_index(settings) -> None:
    """Open the index, remove leftovers, load the model, ingest the corpus into an empty index."""
    from assistant.auth import KeyRing
    from assistant.core import Core
    from assistant.indexer import ingest_paths

    keys = KeyRing.from_settings(settings)  # a malformed SA_API_KEYS stops here, not per request
    if not keys.records():
        err_console.print(
            "no API keys yet: every caller is public. Make one with "
            "`strategy-assistant keys create --role admin`."
        )
    core = Core(settings)
    store = core.store
    removed = store.collect_garbage()
    if removed:
        err_console.print(f"removed {removed} leftover chunks of an interrupted ingest")
    core.embedder.warm_up()
    corpus = settings.corpus_path
    if store.documents() or corpus is None or not Path(corpus).exists():
        return
    err_console.print(f"the index is empty: ingesting {corpus} …")
    report = ingest_paths([Path(corpus)], settings=settings, store=store, embedder=core.embedder)
    s = report.summary()
    err_console.print(
        f"ingested {s['added']} documents ({s['chunks']} chunks), {s['failed']} failed"
    )


def serve(
    host: str = typer.Option(
        None, "--host", help="Address to bind (default: settings, 127.0.0.1)."
    ),
    port: int = typer.Option(None, "--port", min=1, max=65535, help="Port (default: 8000)."),
    workers: int = typer.Option(None, "--workers", min=1, max=64, help="Worker processes."),
) -> None:
    """Run the HTTP API and the chat page (http://HOST:PORT/)."""
    import uvicorn

    from assistant.settings import get_settings

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    workers = workers or settings.workers
    # The workers read their settings from the environment: they must know how many they are
    # (rate limits are shared between them).
    os.environ["SA_WORKERS"] = str(workers)
    get_settings.cache_clear()
    settings = get_settings()
    server: ChromaServer | None = None
    if workers > 1 and not settings.chroma_url:
        server = ChromaServer(settings.data_dir / "chroma-server")
        url = server.start()
        err_console.print(
            f"{workers} workers share a Chroma server at {url} (data in {server.path}); "
            "it stops with this command"
        )
        os.environ["SA_CHROMA_URL"] = url  # the workers read their settings from the environment
        get_settings.cache_clear()
        settings = get_settings()
    try:
        prepare_index(settings)
        err_console.print(f"serving on http://{host}:{port}/  (API docs: /docs)")
        uvicorn.run(
            "api.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            timeout_graceful_shutdown=10,
        )
    finally:
        if server is not None:
            server.stop()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
