"""Validates the retrieval/answer development set ``eval/data/dev.jsonl``.

The dev set is data, not code: these tests only check that every row is well-formed and that its
gold citations really exist in the demo corpus, so that retrieval and answer metrics computed on
it are meaningful. They read nothing but the JSONL file and the corpus files.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT / "examples" / "corpus"
DEV_FILE = ROOT / "eval" / "data" / "dev.jsonl"

LANGUAGES = {"da", "sv", "en"}
TYPES = {"milestone", "goal", "responsibility", "resource", "fact", "unanswerable", "followup"}
AUDIENCES = {"staff", "public"}
ROLES = {"user", "assistant"}
REQUIRED_KEYS = {
    "id",
    "question",
    "language",
    "type",
    "history",
    "audience",
    "answerable",
    "gold",
    "keywords",
}
OPTIONAL_KEYS = {"notes"}

MIN_TOTAL = 70
MIN_PER_LANGUAGE = {"da": 25, "sv": 20, "en": 20}
MIN_UNANSWERABLE = 8
MIN_FOLLOWUP = 8
QUOTE_WORDS = (4, 20)
GOLD_PER_QUESTION = (1, 3)
KEYWORDS_PER_QUESTION = (2, 5)

PAGE_MARKER = re.compile(r"(?:^|\s)\d{1,3}/\d{2,3}(?:\s|$)")  # e.g. "5/30"
BULLET_START = re.compile(r"^(?:[•·▪◦\-–—*]|o\s)")


def normalise(text: str) -> str:
    """Collapse every run of whitespace (incl. newlines) to one space."""
    return re.sub(r"\s+", " ", text).strip()


def _load_rows() -> list[dict]:
    rows = []
    with DEV_FILE.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:  # pragma: no cover - reported as failure
                pytest.fail(f"{DEV_FILE.name}:{lineno}: invalid JSON: {exc}")
            assert isinstance(row, dict), f"line {lineno} is not a JSON object"
            rows.append(row)
    return rows


def _load_corpus() -> tuple[dict[str, str], dict[str, dict]]:
    manifest = tomllib.loads((CORPUS_DIR / "corpus.toml").read_text(encoding="utf-8"))
    meta = {Path(d["file"]).stem: d for d in manifest["documents"]}
    texts = {
        doc_id: normalise((CORPUS_DIR / d["file"]).read_text(encoding="utf-8"))
        for doc_id, d in meta.items()
    }
    return texts, meta


ROWS = _load_rows()
ANSWERABLE_ROWS = [r for r in ROWS if r.get("gold")]
TEXTS, META = _load_corpus()
STAFF_DOCS = {doc_id for doc_id, m in META.items() if m["audience"] == "staff"}


def _ids(rows: list[dict]) -> list[str]:
    return [str(r.get("id")) for r in rows]


@pytest.mark.unit
def test_file_is_utf8_jsonl_and_large_enough():
    DEV_FILE.read_bytes().decode("utf-8")
    assert len(ROWS) >= MIN_TOTAL


@pytest.mark.unit
def test_ids_are_unique_and_well_formed():
    ids = _ids(ROWS)
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    bad = [i for i in ids if not re.fullmatch(r"dev-\d{3,}", i)]
    assert not bad, f"malformed ids: {bad}"


@pytest.mark.unit
@pytest.mark.parametrize("row", ROWS, ids=_ids(ROWS))
def test_row_schema(row):
    keys = set(row)
    assert keys >= REQUIRED_KEYS, f"missing keys: {REQUIRED_KEYS - keys}"
    unknown = keys - REQUIRED_KEYS - OPTIONAL_KEYS
    assert not unknown, f"unknown keys: {unknown}"

    assert isinstance(row["question"], str) and row["question"].strip()
    assert row["language"] in LANGUAGES
    assert row["type"] in TYPES
    assert row["audience"] in AUDIENCES
    assert isinstance(row["answerable"], bool)
    if "notes" in row:
        assert isinstance(row["notes"], str)

    # history
    history = row["history"]
    assert isinstance(history, list)
    for turn in history:
        assert isinstance(turn, dict) and set(turn) == {"role", "content"}, turn
        assert turn["role"] in ROLES
        assert isinstance(turn["content"], str) and turn["content"].strip()
    if row["type"] == "followup":
        assert len(history) >= 2, "a follow-up needs a previous user question and answer"
        assert history[0]["role"] == "user"
        assert history[-1]["role"] == "assistant"
        roles = [t["role"] for t in history]
        assert all(a != b for a, b in zip(roles, roles[1:], strict=False)), (
            "history roles must alternate"
        )
    else:
        assert history == [], "only follow-ups carry a history"

    # gold / keywords / answerable
    gold = row["gold"]
    keywords = row["keywords"]
    assert isinstance(gold, list) and isinstance(keywords, list)
    assert all(isinstance(k, str) and k.strip() for k in keywords)
    assert row["answerable"] == bool(gold), "answerable must be true iff gold is non-empty"
    if row["type"] == "unanswerable":
        assert not row["answerable"]
    if row["answerable"]:
        lo, hi = GOLD_PER_QUESTION
        assert lo <= len(gold) <= hi
        lo, hi = KEYWORDS_PER_QUESTION
        assert lo <= len(keywords) <= hi
    else:
        assert keywords == []
    for g in gold:
        assert isinstance(g, dict) and set(g) == {"doc", "quote"}, g
        assert g["doc"] in TEXTS, f"unknown doc id {g['doc']!r}"
        assert isinstance(g["quote"], str) and g["quote"].strip()
        if g["doc"] in STAFF_DOCS:
            assert row["audience"] == "staff", "staff-only document cited under public audience"


@pytest.mark.unit
@pytest.mark.parametrize("row", ANSWERABLE_ROWS, ids=_ids(ANSWERABLE_ROWS))
def test_gold_quotes_exist_in_documents(row):
    for g in row["gold"]:
        quote = normalise(g["quote"])
        assert quote in TEXTS[g["doc"]], f"quote not found in {g['doc']}: {quote!r}"
        n_words = len(quote.split())
        lo, hi = QUOTE_WORDS
        assert lo <= n_words <= hi, f"quote has {n_words} words: {quote!r}"
        assert not PAGE_MARKER.search(quote), f"quote contains a page marker: {quote!r}"
        assert not BULLET_START.match(quote), f"quote starts with a bullet: {quote!r}"


@pytest.mark.unit
@pytest.mark.parametrize("row", ANSWERABLE_ROWS, ids=_ids(ANSWERABLE_ROWS))
def test_keywords_occur_in_gold_documents(row):
    docs = {g["doc"] for g in row["gold"]}
    for kw in row["keywords"]:
        assert any(kw.lower() in TEXTS[d].lower() for d in docs), (
            f"keyword {kw!r} not found in {sorted(docs)}"
        )


@pytest.mark.unit
def test_distribution():
    languages = Counter(r["language"] for r in ROWS)
    for lang, minimum in MIN_PER_LANGUAGE.items():
        assert languages[lang] >= minimum, f"{lang}: {languages[lang]} < {minimum}"
    types = Counter(r["type"] for r in ROWS)
    assert types["unanswerable"] >= MIN_UNANSWERABLE
    assert types["followup"] >= MIN_FOLLOWUP
    for t in ("milestone", "goal", "responsibility", "resource", "fact"):
        assert types[t] >= 1, f"no {t} questions"
    assert sum(1 for r in ROWS if not r["answerable"]) >= MIN_UNANSWERABLE
    audiences = Counter(r["audience"] for r in ROWS)
    assert audiences["staff"] >= 1 and audiences["public"] >= 1


@pytest.mark.unit
def test_english_questions_are_cross_lingual():
    for r in ROWS:
        if r["language"] == "en":
            for g in r["gold"]:
                assert META[g["doc"]]["language"] in {"da", "sv"}, r["id"]


@pytest.mark.unit
def test_leakage_probes_present():
    """Public questions whose answer exists only in the staff document must be unanswerable."""
    probes = [
        r
        for r in ROWS
        if r["audience"] == "public"
        and not r["answerable"]
        and "answer only in staff document" in r.get("notes", "")
    ]
    assert len(probes) >= 2
