"""``eval``: the evaluation harness (retrieval, answers, both), reports, comparisons and gate."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from assistant.cli.output import console, print_json

app = typer.Typer(help="Evaluate retrieval and answers on a dataset; write a report.")

DatasetOpt = typer.Option(None, "--dataset", help="JSONL dataset (default: the dev set).")
OutOpt = typer.Option(Path("eval/reports/latest"), "--out", help="Report folder.")


def _run(parts, dataset, out, url, compare, gate, baseline, as_json) -> None:
    from assistant.core import Core
    from assistant.settings import DEMO_CORPUS
    from eval.answers import HttpClient
    from eval.dataset import DEFAULT_DATASET, load_dataset
    from eval.gate import DEFAULT_GATE
    from eval.report import to_markdown, write_report
    from eval.runner import run_evaluation

    dataset = dataset or DEFAULT_DATASET
    items = load_dataset(dataset)
    core = Core()
    client = HttpClient(url, os.environ.get("SA_EVAL_API_KEY")) if url else None
    report = run_evaluation(
        core,
        items,
        dataset=dataset,
        parts=parts,
        baseline_corpus=DEMO_CORPUS if baseline and not url else None,
        client=client,
        compare=compare or (),
        gate=DEFAULT_GATE if gate else None,
    )
    paths = write_report(report, out)
    if as_json:
        print_json(
            {k: v for k, v in report.items() if k not in ("retrieval", "answers")}
            | {
                "retrieval": {c: v["overall"] for c, v in report.get("retrieval", {}).items()},
                "answers": report.get("answers", {}).get("overall"),
            }
        )
    else:
        console.print(
            to_markdown(report).split("## Worst failures")[0], markup=False, highlight=False
        )
        console.print(f"report: {paths['markdown']}, {paths['html']}, {paths['json']}")
    if gate and report.get("gate"):
        console.print("[red]quality gate failed:[/red]\n  " + "\n  ".join(report["gate"]))
        raise typer.Exit(1)


@app.callback(invoke_without_command=True)
def evaluate(
    ctx: typer.Context,
    dataset: Path = DatasetOpt,
    out: Path = OutOpt,
    url: str = typer.Option(None, "--url", help="Evaluate a running server instead (answers)."),
    compare: list[str] = typer.Option([], "--compare", help="NAME[:key=value,...] (repeatable)."),
    gate: bool = typer.Option(False, "--gate", help="Exit 1 when a metric misses eval/gate.toml."),
    baseline: bool = typer.Option(
        True, "--baseline/--no-baseline", help="Include the LangChain baseline."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run retrieval and answer evaluation end to end and write the report."""
    if ctx.invoked_subcommand is None:
        _run(("retrieval", "answers"), dataset, out, url, compare, gate, baseline, as_json)


@app.command("retrieval")
def retrieval(
    dataset: Path = DatasetOpt, out: Path = OutOpt, as_json: bool = typer.Option(False, "--json")
) -> None:
    """hit@1/3/5/10 and MRR@10: dense, BM25, hybrid and the LangChain baseline."""
    _run(("retrieval",), dataset, out, None, (), False, True, as_json)


@app.command("answers")
def answers(
    dataset: Path = DatasetOpt,
    out: Path = OutOpt,
    url: str = typer.Option(None, "--url"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Keyword recall, citation precision/recall, abstention accuracy, false abstention."""
    _run(("answers",), dataset, out, url, (), False, False, as_json)


@app.command("draft")
def draft(
    doc_ids: list[str] = typer.Argument(
        None, help="Documents to draft questions for (default: all)."
    ),
    per_document: int = typer.Option(10, "--per-document", min=1),
    output: Path = typer.Option(Path("eval/data/draft.jsonl"), "--output", "-o"),
) -> None:
    """Draft a dataset from stored documents for a person to review (no LLM needed)."""
    from assistant.core import Core
    from eval.draft import draft_dataset

    rows = draft_dataset(Core().store, doc_ids or None, per_document)
    output.parent.mkdir(parents=True, exist_ok=True)
    import json

    output.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    console.print(f"wrote {len(rows)} draft questions to {output} — review every row before use")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="eval")
