"""Reciprocal rank fusion and structural boosts.

RRF needs no score calibration between cosine similarities and BM25 scores, which live on
different scales and shift with corpus size; only ranks matter, weighted per side.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.retrieval.hints import QueryHints
from vectorstore.records import StoredChunk


def rrf(rankings: Sequence[tuple[float, Sequence[str]]], k: int = 60) -> dict[str, float]:
    """Fuse ranked id lists: ``score(id) = Σ weight / (k + rank)`` with ranks from 1."""
    fused: dict[str, float] = {}
    for weight, ids in rankings:
        if weight <= 0:
            continue
        for rank, cid in enumerate(ids, start=1):
            fused[cid] = fused.get(cid, 0.0) + weight / (k + rank)
    return fused


def structure_match(chunk: StoredChunk, hints: QueryHints) -> float:
    """How well ``chunk``'s place in the outline matches what the question names (0..1)."""
    if hints.empty:
        return 0.0
    checks: list[bool] = []
    if hints.quarters:
        checks.append(bool(set(hints.quarters) & set(chunk.quarters)))
    if hints.years:
        checks.append(chunk.year in hints.years if chunk.year else False)
    if hints.sections:
        numbers = {part.split(" ", 1)[0].rstrip(".") for part in chunk.section_path}
        checks.append(any(s in numbers for s in hints.sections))
    return sum(checks) / len(checks)
