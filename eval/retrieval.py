"""Retrieval evaluation: hit@k and MRR@10 for dense, BM25, hybrid and the LangChain baseline,
overall, per language and per question type."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from assistant.answering.rewrite import rewrite
from assistant.core import Core
from eval.baseline import BaselineIndex
from eval.dataset import EvalItem, covers
from eval.metrics import first_hit_rank, grouped, percentile, retrieval_scores
from vectorstore.filters import SearchFilter

MODES = ("dense", "bm25", "hybrid")
DEPTH = 10


def _scores(rows: list[dict]) -> dict:
    return retrieval_scores([r["rank"] for r in rows])


def summarise(rows: list[dict]) -> dict:
    return {
        "overall": _scores(rows),
        "by_language": grouped(rows, "language", _scores),
        "by_type": grouped(rows, "type", _scores),
    }


def evaluate_retrieval(
    core: Core,
    items: Sequence[EvalItem],
    *,
    modes: Sequence[str] = MODES,
    baseline_corpus: Path | None = None,
) -> dict:
    """Per configuration: summary scores, per-question rows and search latencies."""
    answerable = [i for i in items if i.answerable]
    configs: dict[str, dict] = {}
    for mode in modes:
        rows, latencies = [], []
        for item in answerable:
            query = rewrite(item.question, item.history)
            t = time.perf_counter()
            passages = core.retriever.search(
                query, SearchFilter(audience=item.audience), k=DEPTH, mode=mode, expand=False
            )  # type: ignore[arg-type]
            latencies.append(time.perf_counter() - t)
            hits = [
                any(covers(p.chunk.text, g, p.chunk.doc_id) for g in item.gold) for p in passages
            ]
            rows.append(
                _row(
                    item,
                    query,
                    hits,
                    [(p.chunk.doc_id, p.chunk.section, p.chunk.text) for p in passages],
                )
            )
        configs[mode] = {**summarise(rows), "rows": rows, "latency": _latency(latencies)}
    if baseline_corpus is not None:
        index = BaselineIndex.build(baseline_corpus, core.embedder)
        rows, latencies = [], []
        for item in answerable:
            query = rewrite(item.question, item.history)
            t = time.perf_counter()
            found = index.search(query, item.audience, DEPTH)
            latencies.append(time.perf_counter() - t)
            hits = [any(covers(c.text, g, c.doc_id) for g in item.gold) for c in found]
            rows.append(_row(item, query, hits, [(c.doc_id, "", c.text) for c in found]))
        configs["baseline"] = {**summarise(rows), "rows": rows, "latency": _latency(latencies)}
    return configs


def _row(
    item: EvalItem, query: str, hits: list[bool], retrieved: list[tuple[str, str, str]]
) -> dict:
    return {
        "id": item.id,
        "language": item.language,
        "type": item.type,
        "question": item.question,
        "standalone": query,
        "rank": first_hit_rank(hits),
        "expected": [g.quote for g in item.gold],
        "retrieved": [{"doc_id": d, "section": s, "text": t[:200]} for d, s, t in retrieved[:3]],
    }


def _latency(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2)}
