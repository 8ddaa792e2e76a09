"""Answer evaluation: keyword recall, citation precision and recall, abstention accuracy and
false abstentions, with per-stage latency. Runs through the same ``AnswerService`` the API uses,
or against a running server (``--url``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from assistant.contract import AnswerOut
from eval.dataset import EvalItem, covers
from eval.metrics import grouped, mean, percentile
from vectorstore.filters import SearchFilter


class AnswerClient(Protocol):
    def ask(self, item: EvalItem) -> tuple[AnswerOut, dict[str, float]]:
        """The answer and seconds per stage (``total`` at least)."""
        ...


class LocalClient:
    """In-process: the service the API and CLI use."""

    def __init__(self, core) -> None:
        self.core = core

    def ask(self, item: EvalItem) -> tuple[AnswerOut, dict[str, float]]:
        t = time.perf_counter()
        service = self.core.answers
        result = service.answer(item.messages, SearchFilter(audience=item.audience))
        stages = dict(service.last_timings.stages)
        stages["total"] = time.perf_counter() - t
        return result, stages


class HttpClient:
    """Against a deployment: ``POST {url}/api/chat``; staff questions use ``api_key``."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.api_key = api_key
        self.http = httpx.Client(timeout=timeout)

    def ask(self, item: EvalItem) -> tuple[AnswerOut, dict[str, float]]:
        headers = {}
        if item.audience == "staff" and self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = {"messages": [m.model_dump() for m in item.messages]}
        t = time.perf_counter()
        response = self.http.post(f"{self.url}/api/chat", json=body, headers=headers)
        response.raise_for_status()
        return AnswerOut.model_validate(response.json()), {"total": time.perf_counter() - t}


def score_item(item: EvalItem, result: AnswerOut) -> dict:
    answer = result.answer.casefold()
    cited = [any(covers(c.quote, g, c.doc_id) for g in item.gold) for c in result.citations]
    return {
        "id": item.id,
        "language": item.language,
        "type": item.type,
        "answerable": item.answerable,
        "found": result.found,
        "keyword_recall": (
            sum(1 for kw in item.keywords if kw.casefold() in answer) / len(item.keywords)
            if item.answerable and item.keywords
            else None
        ),
        "citations": len(cited),
        "citations_covering": sum(cited),
        "citation_hit": any(cited),
        "question": item.question,
        "standalone": result.standalone_question,
        "expected": [g.quote for g in item.gold],
        "answer": result.answer,
    }


def summarise(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    total_citations = sum(r["citations"] for r in answerable)
    return {
        "n": len(rows),
        "keyword_recall": round(
            mean(r["keyword_recall"] for r in answerable if r["keyword_recall"] is not None), 4
        ),
        "citation_precision": round(
            sum(r["citations_covering"] for r in answerable) / total_citations
            if total_citations
            else 0.0,
            4,
        ),
        "citation_recall": round(mean(1.0 if r["citation_hit"] else 0.0 for r in answerable), 4),
        "abstention_accuracy": round(mean(0.0 if r["found"] else 1.0 for r in unanswerable), 4),
        "false_abstention": round(mean(0.0 if r["found"] else 1.0 for r in answerable), 4),
    }


def evaluate_answers(client: AnswerClient, items: Sequence[EvalItem]) -> dict:
    rows, stages = [], {}
    for item in items:
        result, timing = client.ask(item)
        rows.append(score_item(item, result))
        for stage, seconds in timing.items():
            stages.setdefault(stage, []).append(seconds * 1000)
    latency = {
        stage: {
            "p50_ms": round(percentile(v, 50), 2),
            "p95_ms": round(percentile(v, 95), 2),
            "values_ms": [round(x, 2) for x in v],
        }
        for stage, v in stages.items()
    }
    return {
        **{"overall": summarise(rows)},
        "by_language": grouped(rows, "language", summarise),
        "by_type": grouped(rows, "type", summarise),
        "rows": rows,
        "latency": latency,
    }
