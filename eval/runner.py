"""One harness, one report: retrieval and answer evaluation, configurations side by side, gate.

Metrics and per-question rows are deterministic for the extractive backend (same index, same
dataset → same numbers); latency numbers are measurements and naturally vary.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.core import Core
from assistant.settings import Settings
from eval.answers import AnswerClient, LocalClient, evaluate_answers
from eval.dataset import EvalItem
from eval.gate import check_gate, load_gate
from eval.retrieval import evaluate_retrieval


def parse_config(spec: str) -> tuple[str, dict[str, str]]:
    """``"dense:retrieval_mode=dense,retrieval_k=3"`` → ("dense", {...}). A bare name that is a
    retrieval mode (dense, bm25, hybrid) or a generator (extractive, llm) needs no settings."""
    name, _, rest = spec.partition(":")
    name = name.strip()
    overrides: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"bad setting {part!r} in {spec!r}: expected key=value")
        overrides[key.strip()] = value.strip()
    if not overrides:
        if name in ("dense", "bm25", "hybrid"):
            overrides = {"retrieval_mode": name}
        elif name in ("extractive", "llm"):
            overrides = {"generator": name}
    return name, overrides


def run_evaluation(
    core: Core,
    items: Sequence[EvalItem],
    *,
    dataset: Path,
    parts: Sequence[str] = ("retrieval", "answers"),
    baseline_corpus: Path | None = None,
    client: AnswerClient | None = None,
    compare: Sequence[str] = (),
    gate: Path | None = None,
) -> dict:
    report: dict = {"dataset": str(dataset), "items": len(items)}
    if "retrieval" in parts and client is None:
        report["retrieval"] = evaluate_retrieval(core, items, baseline_corpus=baseline_corpus)
    if "answers" in parts:
        report["answers"] = evaluate_answers(client or LocalClient(core), items)
    if compare:
        report["compare"] = compare_configs(
            core.settings, items, compare, report.get("retrieval", {})
        )
    if gate is not None:
        report["gate"] = check_gate(report, load_gate(gate))
    return report


def compare_configs(
    base: Settings, items: Sequence[EvalItem], specs: Sequence[str], retrieval: dict
) -> dict:
    """Answers and retrieval for each named configuration, on the same index. The LangChain
    baseline's retrieval scores are added when the report has them."""
    table: dict[str, dict] = {}
    for spec in specs:
        name, overrides = parse_config(spec)
        settings = base.model_copy(
            update=Settings(**{**base.model_dump(), **overrides}).model_dump()
        )
        core = Core(settings)
        mode = settings.retrieval_mode
        retrieval_scores = evaluate_retrieval(core, items, modes=(mode,))[mode]["overall"]
        answers = evaluate_answers(LocalClient(core), items)["overall"]
        table[name] = {**retrieval_scores, **answers}
    if "baseline" in retrieval:
        table["langchain-baseline"] = dict(retrieval["baseline"]["overall"])
    return table
