"""Helpers of the reliability tests: the CLI in a subprocess, corpus copies, a private copy of the
embedding cache, and a consistency check of an index read straight from Chroma.

The CLI runs in its own process with its own ``SA_*`` environment (never the developer's); the
test process opens the index only while no other process writes to it, because embedded Chroma
is not safe for several processes at once.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ingestion.manifest import load_manifest
from tests.conftest import DEMO_CORPUS, EMBEDDING_CACHE, ROOT

CLI = [sys.executable, "-c", "from assistant.cli import main; main()"]
CLI_TIMEOUT_S = 300


def cli_env(data_dir: Path, cache: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a CLI or server process under test: no developer ``SA_*`` settings,
    offline, the given data directory and embedding cache (default: the shared test cache)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SA_")}
    env.update(
        SA_DATA_DIR=str(data_dir),
        SA_CONFIG_FILE=str(Path(data_dir).parent / "absent.toml"),
        SA_EMBEDDING_CACHE_PATH=str(cache or EMBEDDING_CACHE),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        COLUMNS="200",
    )
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], timeout: float = CLI_TIMEOUT_S
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def popen_cli(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [*CLI, *args], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )


def error_lines(stderr: str) -> list[str]:
    """The non-empty lines of a CLI's stderr, without log warnings."""
    return [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("WARNING ")]


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    """The CLI failed the way the style guide asks: non-zero exit, one line, no traceback."""
    assert result.returncode != 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle.casefold() in lines[0].casefold(), lines[0]
    return lines[0]


def copy_cache(target: Path) -> Path:
    """A private copy of the shared embedding cache (SQLite backup: safe while others write)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(EMBEDDING_CACHE)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return target


def cache_rows(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    finally:
        conn.close()


def demo_copy(target: Path) -> Path:
    """A writable copy of the demo corpus (the checked-in files are read-only)."""
    shutil.copytree(DEMO_CORPUS, target)
    for path in [target, *target.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def copied_corpus(target: Path, copies: int) -> Path:
    """``copies`` copies of each demo document, each with its own id and one new sentence."""
    demo = demo_copy(target.parent / "demo-source")
    manifest = load_manifest(demo / "corpus.toml")
    target.mkdir()
    tables = []
    for name, entry in manifest.items():
        stem = Path(name).stem
        for n in range(copies):
            file = f"{stem}-kopi{n}.txt"
            text = (demo / name).read_text(encoding="utf-8").rstrip("\n")
            (target / file).write_text(
                f"{text}\n\nKontrolmærke for kopi {n} af {stem}.\n", encoding="utf-8"
            )
            fields = {
                "file": file,
                "title": entry.title,
                "organisation": entry.organisation,
                "country": entry.country,
                "language": entry.language,
                "kind": entry.kind,
                "audience": entry.audience,
            }
            tables.append(
                "[[documents]]\n"
                + "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in fields.items())
            )
    (target / "corpus.toml").write_text("\n".join(tables), encoding="utf-8")
    shutil.rmtree(demo)
    return target


@dataclass
class IndexState:
    """Everything stored, read raw from Chroma (no visibility rules applied)."""

    registry: dict[str, dict]  # doc_id -> registry metadata
    chunk_vkeys: list[str]  # one per stored chunk
    unit_vkeys: list[str]  # one per stored unit
    chunk_ids: list[str] = field(default_factory=list)

    @property
    def registered(self) -> set[str]:
        return {f"{d}@{md['version']}" for d, md in self.registry.items()}

    @property
    def orphan_chunks(self) -> int:
        return sum(1 for v in self.chunk_vkeys if v not in self.registered)

    @property
    def orphan_units(self) -> int:
        return sum(1 for v in self.unit_vkeys if v not in self.registered)


def read_state(store) -> IndexState:
    docs = store.docs.get(include=["metadatas"])
    chunks = store.chunks.get(include=["metadatas"])
    units = store.units.get(include=["metadatas"])
    return IndexState(
        registry=dict(zip(docs["ids"], docs["metadatas"], strict=True)),
        chunk_vkeys=[md["vkey"] for md in chunks["metadatas"]],
        unit_vkeys=[md["vkey"] for md in units["metadatas"]],
        chunk_ids=list(chunks["ids"]),
    )


def assert_registered_complete(state: IndexState, expected_units: dict[str, int]) -> None:
    """Every registered document has all of its chunks and units, of its registered version.

    :param expected_units: units per document id, as the pipeline makes them.
    """
    chunks = Counter(state.chunk_vkeys)
    units = Counter(state.unit_vkeys)
    for doc_id, md in state.registry.items():
        vkey = f"{doc_id}@{md['version']}"
        assert chunks[vkey] == md["chunk_count"], (doc_id, chunks[vkey], md["chunk_count"])
        assert units[vkey] == expected_units[doc_id], (doc_id, units[vkey])
    assert len(state.chunk_ids) == len(set(state.chunk_ids))


def close_store(store) -> None:
    """Release an embedded Chroma client so that another process may open the directory."""
    close = getattr(store.client, "close", None)
    if close is not None:
        close()


# --- servers that misbehave ------------------------------------------------------------------
class BlackHole:
    """A loopback port that accepts connections (the kernel completes the handshake) and never
    answers: what a hung server or a silently dropping firewall looks like to a client."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.sock.close()


Reply = Callable[[dict], tuple[int, dict] | str]


class FakeOpenAI(ThreadingHTTPServer):
    """An OpenAI-compatible chat endpoint on 127.0.0.1 whose answer is ``reply(request_body)``:
    a string (the assistant's text, streamed in pieces when asked) or ``(status, json_body)``."""

    daemon_threads = True

    def __init__(self, reply: Reply) -> None:
        super().__init__(("127.0.0.1", 0), _OpenAIHandler)
        self.reply = reply
        self.requests: list[dict] = []
        self.headers_seen: list[dict[str, str]] = []
        self.thread = threading.Thread(target=self.serve_forever, name="fake-openai", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)


class _OpenAIHandler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, format, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        self.server.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
        reply = self.server.reply(body)
        if not isinstance(reply, str):
            status, payload = reply
            self._send(status, json.dumps(payload).encode())
            return
        if not body.get("stream"):
            message = {"role": "assistant", "content": reply}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            self._send(200, json.dumps(_completion("chat.completion", choice)).encode())
            return
        events = [{"role": "assistant", "content": ""}] + [
            {"content": reply[i : i + 16]} for i in range(0, len(reply), 16)
        ]
        out = b"".join(
            b"data: "
            + json.dumps(
                _completion(
                    "chat.completion.chunk", {"index": 0, "delta": d, "finish_reason": None}
                )
            ).encode()
            + b"\n\n"
            for d in events
        )
        self._send(200, out + b"data: [DONE]\n\n", "text/event-stream")


def _completion(kind: str, choice: dict) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": kind,
        "created": int(time.time()),
        "model": "fake",
        "choices": [choice],
    }
