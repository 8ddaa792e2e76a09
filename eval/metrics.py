"""Metric arithmetic, kept free of I/O so it is easy to test and deterministic."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

KS = (1, 3, 5, 10)


def first_hit_rank(hits: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant result, or None."""
    return next((i for i, h in enumerate(hits, start=1) if h), None)


def retrieval_scores(ranks: Sequence[int | None]) -> dict[str, float]:
    """hit@k and MRR@10 over questions, given each question's first-hit rank."""
    n = len(ranks)
    if n == 0:
        return {**{f"hit@{k}": 0.0 for k in KS}, "mrr@10": 0.0, "n": 0}
    out: dict[str, float] = {f"hit@{k}": sum(1 for r in ranks if r and r <= k) / n for k in KS}
    out["mrr@10"] = sum(1.0 / r for r in ranks if r and r <= 10) / n
    out["n"] = n
    return out


def grouped(rows: Iterable[dict], key: str, score: Callable[[list[dict]], dict]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[str(row[key])].append(row)
    return {name: score(group) for name, group in sorted(groups.items())}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[max(0, min(len(ordered), rank) - 1)]


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0
