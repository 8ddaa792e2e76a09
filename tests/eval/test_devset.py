"""Validates the evaluation datasets ``eval/data/dev.jsonl``, ``eval/data/holdout.jsonl``,
``eval/data/holdout2.jsonl``, ``eval/data/holdout3.jsonl``, ``eval/data/holdout4.jsonl``,
``eval/data/holdout5.jsonl`` and ``eval/data/holdout6.jsonl``.

The dev set is used while tuning; the held-out sets were written without looking at system output
and check that the tuning generalises (``holdout2`` is the second one, for a measurement after
``holdout`` had been looked at; ``holdout3`` is the third, for a measurement after both earlier
held-out sets had been looked at; ``holdout4`` is the fourth, untouched one, for a measurement after
the first three had been looked at; ``holdout5`` and ``holdout6`` were written together, blind,
after all four earlier ones had been looked at). All are data, not code: these tests only check
that every row is well-formed and that its gold citations really exist in the demo corpus, so that
retrieval and answer metrics computed on them are meaningful. They read nothing but the JSONL files
and the corpus files.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT / "examples" / "corpus"
DATA_DIR = ROOT / "eval" / "data"

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

QUOTE_WORDS = (4, 20)
GOLD_PER_QUESTION = (1, 3)


@dataclass(frozen=True)
class DatasetSpec:
    """Per-file expectations; the row-level checks are the same for every file."""

    name: str
    file: Path
    id_pattern: str
    min_total: int
    min_per_language: dict[str, int]
    min_unanswerable: int
    min_followup: int
    keywords_per_question: tuple[int, int]
    min_leakage_probes: int
    # held-out rule: every keyword is a substring of one of the row's gold quotes
    keywords_in_quotes: bool = False


def _holdout(name: str, id_prefix: str) -> DatasetSpec:
    """A held-out set: same minimums for every one, keywords must come from the gold quotes."""
    return DatasetSpec(
        name=name,
        file=DATA_DIR / f"{name}.jsonl",
        id_pattern=rf"{id_prefix}-\d{{3,}}",
        min_total=35,
        min_per_language={"da": 12, "sv": 10, "en": 10},
        min_unanswerable=5,
        min_followup=4,
        keywords_per_question=(1, 3),
        min_leakage_probes=1,
        keywords_in_quotes=True,
    )


DATASETS = [
    DatasetSpec(
        name="dev",
        file=DATA_DIR / "dev.jsonl",
        id_pattern=r"dev-\d{3,}",
        min_total=70,
        min_per_language={"da": 25, "sv": 20, "en": 20},
        min_unanswerable=8,
        min_followup=8,
        keywords_per_question=(2, 5),
        min_leakage_probes=2,
    ),
    _holdout("holdout", "hold"),
    _holdout("holdout2", "h2"),
    _holdout("holdout3", "h3"),
    _holdout("holdout4", "h4"),
    _holdout("holdout5", "h5"),
    _holdout("holdout6", "h6"),
]

PAGE_MARKER = re.compile(r"(?:^|\s)\d{1,3}/\d{2,3}(?:\s|$)")  # e.g. "5/30"
BULLET_START = re.compile(r"^(?:[•·▪◦\-–—*]|o\s)")


def normalise(text: str) -> str:
    """Collapse every run of whitespace (incl. newlines) to one space."""
    return re.sub(r"\s+", " ", text).strip()


def _load_rows(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:  # pragma: no cover - reported as failure
                pytest.fail(f"{path.name}:{lineno}: invalid JSON: {exc}")
            assert isinstance(row, dict), f"{path.name}: line {lineno} is not a JSON object"
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


ROWS = {spec.name: _load_rows(spec.file) for spec in DATASETS}
TEXTS, META = _load_corpus()
STAFF_DOCS = {doc_id for doc_id, m in META.items() if m["audience"] == "staff"}

# (spec, row) pairs for the per-row checks, over all datasets
ALL_ROWS = [(spec, row) for spec in DATASETS for row in ROWS[spec.name]]
ANSWERABLE_ROWS = [(spec, row) for spec, row in ALL_ROWS if row.get("gold")]


def _ids(rows: list[dict]) -> list[str]:
    return [str(r.get("id")) for r in rows]


def _pair_ids(pairs: list[tuple[DatasetSpec, dict]]) -> list[str]:
    return [f"{spec.name}:{row.get('id')}" for spec, row in pairs]


by_dataset = pytest.mark.parametrize("spec", DATASETS, ids=[spec.name for spec in DATASETS])


@pytest.mark.unit
@by_dataset
def test_file_is_utf8_jsonl_and_large_enough(spec):
    spec.file.read_bytes().decode("utf-8")
    assert len(ROWS[spec.name]) >= spec.min_total


@pytest.mark.unit
@by_dataset
def test_ids_are_unique_and_well_formed(spec):
    ids = _ids(ROWS[spec.name])
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    bad = [i for i in ids if not re.fullmatch(spec.id_pattern, i)]
    assert not bad, f"malformed ids: {bad}"


@pytest.mark.unit
@pytest.mark.parametrize(("spec", "row"), ALL_ROWS, ids=_pair_ids(ALL_ROWS))
def test_row_schema(spec, row):
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
        lo, hi = spec.keywords_per_question
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
@pytest.mark.parametrize(("spec", "row"), ANSWERABLE_ROWS, ids=_pair_ids(ANSWERABLE_ROWS))
def test_gold_quotes_exist_in_documents(spec, row):
    for g in row["gold"]:
        quote = normalise(g["quote"])
        assert quote in TEXTS[g["doc"]], f"quote not found in {g['doc']}: {quote!r}"
        n_words = len(quote.split())
        lo, hi = QUOTE_WORDS
        assert lo <= n_words <= hi, f"quote has {n_words} words: {quote!r}"
        assert not PAGE_MARKER.search(quote), f"quote contains a page marker: {quote!r}"
        assert not BULLET_START.match(quote), f"quote starts with a bullet: {quote!r}"


@pytest.mark.unit
@pytest.mark.parametrize(("spec", "row"), ANSWERABLE_ROWS, ids=_pair_ids(ANSWERABLE_ROWS))
def test_keywords_occur_in_gold_documents(spec, row):
    docs = {g["doc"] for g in row["gold"]}
    for kw in row["keywords"]:
        assert any(kw.lower() in TEXTS[d].lower() for d in docs), (
            f"keyword {kw!r} not found in {sorted(docs)}"
        )
    if spec.keywords_in_quotes:
        quotes = [normalise(g["quote"]).lower() for g in row["gold"]]
        for kw in row["keywords"]:
            assert any(normalise(kw).lower() in q for q in quotes), (
                f"keyword {kw!r} is not part of any gold quote"
            )


@pytest.mark.unit
@by_dataset
def test_distribution(spec):
    rows = ROWS[spec.name]
    languages = Counter(r["language"] for r in rows)
    for lang, minimum in spec.min_per_language.items():
        assert languages[lang] >= minimum, f"{lang}: {languages[lang]} < {minimum}"
    types = Counter(r["type"] for r in rows)
    assert types["unanswerable"] >= spec.min_unanswerable
    assert types["followup"] >= spec.min_followup
    for t in ("milestone", "goal", "responsibility", "resource", "fact"):
        assert types[t] >= 1, f"no {t} questions"
    assert sum(1 for r in rows if not r["answerable"]) >= spec.min_unanswerable
    audiences = Counter(r["audience"] for r in rows)
    assert audiences["staff"] >= 1 and audiences["public"] >= 1


@pytest.mark.unit
@by_dataset
def test_english_questions_are_cross_lingual(spec):
    for r in ROWS[spec.name]:
        if r["language"] == "en":
            for g in r["gold"]:
                assert META[g["doc"]]["language"] in {"da", "sv"}, r["id"]


@pytest.mark.unit
@by_dataset
def test_leakage_probes_present(spec):
    """Public questions whose answer exists only in the staff document must be unanswerable."""
    probes = [
        r
        for r in ROWS[spec.name]
        if r["audience"] == "public"
        and not r["answerable"]
        and "answer only in staff document" in r.get("notes", "")
    ]
    assert len(probes) >= spec.min_leakage_probes
