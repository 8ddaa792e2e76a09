"""The evaluation harness: metrics, dataset schema, gate, reports, comparisons, drafting."""

from __future__ import annotations

import json

import pytest

from assistant.errors import BadRequest
from eval.dataset import EvalItem, Gold, covers, load_dataset, normalise
from eval.gate import check_gate, load_gate
from eval.metrics import first_hit_rank, percentile, retrieval_scores
from eval.runner import parse_config


@pytest.mark.unit
def test_retrieval_scores_and_percentiles():
    assert first_hit_rank([False, True, True]) == 2
    assert first_hit_rank([False]) is None
    scores = retrieval_scores([1, 3, None, 12])
    assert scores["hit@1"] == 0.25 and scores["hit@3"] == 0.5 and scores["hit@10"] == 0.5
    assert scores["mrr@10"] == pytest.approx((1 + 1 / 3) / 4)
    assert percentile([5, 1, 3, 2, 4], 50) == 3 and percentile([], 95) == 0.0
    assert percentile(list(range(1, 101)), 95) == 95


@pytest.mark.unit
def test_quote_matching_ignores_whitespace_and_case():
    gold = Gold(doc="d", quote="Godkendelse af  projektforslag\ntil fjernvarme")
    assert covers("• godkendelse af projektforslag til FJERNVARME udrulning", gold, "d")
    assert not covers("godkendelse af projektforslag til fjernvarme", gold, "other-doc")
    assert normalise("  A\n b ") == "a b"


@pytest.mark.unit
def test_dataset_schema_errors_name_the_line(tmp_path):
    good = {"id": "q1", "question": "Hvad?", "gold": [{"doc": "d", "quote": "x"}]}
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "answerable": False}) + "\n")
    with pytest.raises(BadRequest, match=r"set.jsonl:2"):
        load_dataset(path)
    path.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n")
    with pytest.raises(BadRequest, match="duplicate id"):
        load_dataset(path)
    path.write_text("{not json\n")
    with pytest.raises(BadRequest, match=r"set.jsonl:1"):
        load_dataset(path)
    assert len(load_dataset()) >= 60  # the checked-in development set loads


@pytest.mark.unit
def test_gate_fails_on_low_or_missing_metrics():
    gate = {
        "retrieval": {"hybrid": {"hit@5": {"min": 0.9}}},
        "answers": {"false_abstention": {"max": 0.1}},
    }
    ok = {
        "retrieval": {"hybrid": {"overall": {"hit@5": 0.95}}},
        "answers": {"overall": {"false_abstention": 0.0}},
    }
    assert check_gate(ok, gate) == []
    bad = {
        "retrieval": {"hybrid": {"overall": {"hit@5": 0.5}}},
        "answers": {"overall": {"false_abstention": 0.3}},
    }
    failures = check_gate(bad, gate)
    assert len(failures) == 2 and "hit@5" in failures[0]
    assert check_gate({}, gate)[0].endswith("missing from the report")
    assert "answers" in load_gate()  # the checked-in gate parses


@pytest.mark.unit
def test_parse_config():
    assert parse_config("dense") == ("dense", {"retrieval_mode": "dense"})
    assert parse_config("k3:retrieval_k=3,generator=extractive") == (
        "k3",
        {"retrieval_k": "3", "generator": "extractive"},
    )
    with pytest.raises(ValueError):
        parse_config("x:broken")


SMALL = [
    EvalItem(
        id="a",
        question="Hvad sker der i 1. kvartal under Varme og Energi?",
        audience="staff",
        gold=[Gold(doc="lyngby-taarbaek-ctmb-indsatser-2025", quote="fjernvarmeudrulning Etape 2")],
        keywords=["Etape 2"],
        type="milestone",
    ),
    EvalItem(
        id="b",
        question="När ska Borlänge vara klimatneutralt?",
        language="sv",
        audience="public",
        gold=[Gold(doc="borlange-miljostrategi", quote="Borlänge ska vara klimatneutralt 2030")],
        keywords=["2030"],
        type="goal",
    ),
    EvalItem(
        id="c",
        question="Hvad koster en busbillet i Aarhus?",
        audience="public",
        answerable=False,
        type="unanswerable",
    ),
]


@pytest.mark.integration
def test_evaluation_is_deterministic_and_reports_everything(demo_core, tmp_path):
    from eval.report import write_report
    from eval.runner import run_evaluation

    first = run_evaluation(
        demo_core, SMALL, dataset=tmp_path / "x.jsonl", compare=["dense", "k3:retrieval_k=3"]
    )
    second = run_evaluation(demo_core, SMALL, dataset=tmp_path / "x.jsonl")

    def stable(report):
        return {
            "retrieval": {c: (v["overall"], v["rows"]) for c, v in report["retrieval"].items()},
            "answers": (report["answers"]["overall"], report["answers"]["rows"]),
        }

    assert stable(first) == stable(second)
    assert first["retrieval"]["hybrid"]["overall"]["hit@5"] == 1.0
    assert first["answers"]["overall"]["abstention_accuracy"] == 1.0
    assert set(first["compare"]) == {"dense", "k3"}
    assert set(first["answers"]["latency"]) >= {"rewrite", "retrieval", "generation", "total"}
    paths = write_report(first, tmp_path / "report")
    assert json.loads(paths["json"].read_text())["items"] == 3
    assert "| hybrid |" in paths["markdown"].read_text()
    html = paths["html"].read_text()
    assert html.count("<svg") >= 2 and "Evaluation report" in html


@pytest.mark.integration
def test_draft_dataset_rows_are_valid_and_quote_the_documents(demo_core):
    from eval.draft import draft_dataset

    rows = draft_dataset(demo_core.store, ["borlange-miljostrategi"], 3)
    assert rows
    for row in rows:
        item = EvalItem.model_validate(row)
        text = demo_core.store.get_document(item.gold[0].doc).text
        assert normalise(item.gold[0].quote) in normalise(text)


@pytest.mark.integration
def test_http_client_evaluates_a_running_api(demo_core):
    """`eval --url` path: the same metrics from answers fetched over HTTP."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from eval.answers import HttpClient, evaluate_answers

    app = create_app(core=demo_core)
    with TestClient(app) as client:
        http = HttpClient("http://testserver")
        http.http = client  # the test client speaks httpx's API, bound to the app
        report = evaluate_answers(http, [SMALL[1], SMALL[2]])
    assert report["overall"]["citation_recall"] == 1.0
    assert report["overall"]["abstention_accuracy"] == 1.0
