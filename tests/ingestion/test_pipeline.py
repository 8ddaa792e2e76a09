"""The ingestion pipeline end to end: files → cleaned text → chunks → Chroma and BM25, read back.

Read-only checks use the session's ``demo_core``. Tests that change documents get their own copy
of the demo corpus ingested into their own data directory (fast: embeddings come from the shared
cache). The CLI is driven through typer's ``CliRunner`` with ``SA_DATA_DIR`` pointing at a
temporary directory.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import EMBEDDING_CACHE, STAFF_DOC, make_settings
from vectorstore.filters import SearchFilter

pytestmark = pytest.mark.integration

STAFF = SearchFilter(audience="staff")
MODES = ("dense", "bm25", "hybrid")
BOILERPLATE = [
    "Gå til hovedindhold",
    "Du använder en gammal webbläsare",
    "Klicka på bilden",
    "öppnas i nytt fönster",
    "Länk till annan webbplats",
    "5/30",
]
QUARTER_SECTIONS = ["3.1.1", "3.1.2", "3.1.3", "3.1.4", "3.1.5", "3.1.6", "3.1.7", "4.1"]
QUARTER_SECTIONS += ["5.1", "6.1", "7.1"]
NUMBERED_HEADING = re.compile(r"^\d+(?:\.\d+)+\s+\S")

BORLANGE = "borlange-miljostrategi"
BORLANGE_FILE = "borlange-miljostrategi.txt"
OLD_SENTENCES = (
    "Borlänge ska vara klimatneutralt 2030. Utsläppen ska minska så att vi håller oss inom vår "
    "koldioxidbudget och på så sätt bidrar till Parisavtalets mål."
)
NEW_SENTENCES = "Borlänge ska plantera tusen lindar i Kvarnsvedsparken före 2027."
OLD_TERMS = ("klimatneutralt", "koldioxidbudget", "Parisavtalets")


# --- helpers ---------------------------------------------------------------------------------
def writable_copy(source: Path, target: Path) -> Path:
    """A copy of the corpus that tests may edit (the checked-in files are read-only)."""
    shutil.copytree(source, target)
    target.chmod(0o755)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def ingest(core, *paths: Path):
    from assistant.indexer import ingest_paths

    return ingest_paths(
        list(paths), settings=core.settings, store=core.store, embedder=core.embedder
    )


def own_index(tmp_path: Path, demo_corpus: Path):
    """A private corpus copy and a Core over a fresh data directory with it ingested."""
    from assistant.core import Core

    corpus = writable_copy(demo_corpus, tmp_path / "corpus")
    core = Core(make_settings(tmp_path / "data"))
    report = ingest(core, corpus)
    assert report.summary()["added"] == 5 and report.count("failed") == 0, report.as_dict()
    return core, corpus


def snapshot(core) -> dict[str, tuple[str, int, str]]:
    """Per document: version, chunk count and ingestion time, as the registry has them."""
    return {d.doc_id: (d.version, d.chunk_count, d.ingested_at) for d in core.store.documents()}


def raw_chunk_ids(core) -> set[str]:
    return set(core.store.chunks.get(include=[])["ids"])


def by_status(report) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in report.results:
        out.setdefault(r.status, []).append(Path(r.path).name)
    return out


def texts_found(core, query: str, flt: SearchFilter = STAFF) -> dict[str, list[str]]:
    """Passage texts of the top ten per side: "vectors" is the plain dense search over chunk
    vectors in Chroma, the others are the retriever's modes (no neighbour expansion)."""
    vector = core.retriever.query_vector(query)
    found = {"vectors": [c.text for c, _ in core.store.query(vector, 10, flt)]}
    for mode in MODES:
        passages = core.retriever.search(query, flt, k=10, mode=mode, expand=False)
        found[mode] = [p.chunk.text for p in passages]
    return found


def assert_registry_matches_collections(core) -> None:
    """Each document's chunks and units in Chroma are exactly those of its registered version."""
    for doc in core.store.documents():
        got = core.store.chunks.get(where={"doc_id": doc.doc_id}, include=["metadatas"])
        assert len(got["ids"]) == doc.chunk_count, doc.doc_id
        assert {m["version"] for m in got["metadatas"]} == {doc.version}, doc.doc_id
        units = core.store.units.get(where={"doc_id": doc.doc_id}, include=["metadatas"])
        assert units["ids"], doc.doc_id
        assert {m["version"] for m in units["metadatas"]} == {doc.version}, doc.doc_id
        assert {m["chunk_id"] for m in units["metadatas"]} <= set(got["ids"]), doc.doc_id


class CountingEmbedder:
    """Passes everything through to the real embedder and counts passages it was asked for."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.passages_requested = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_passages(self, texts):
        self.passages_requested += len(texts)
        return self.inner.embed_passages(texts)


# --- the demo corpus as stored -------------------------------------------------------------
def test_every_stored_quote_is_the_exact_slice_of_the_stored_text(demo_core):
    chunks = demo_core.store.chunks_where(STAFF)
    docs = {d.doc_id: demo_core.store.get_document(d.doc_id) for d in demo_core.store.documents()}
    assert len(docs) == 5 and len(chunks) == sum(d.chunk_count for d in docs.values())
    for chunk in chunks:
        text = docs[chunk.doc_id].text
        assert 0 <= chunk.start < chunk.end <= len(text), chunk.chunk_id
        assert text[chunk.start : chunk.end] == chunk.text, chunk.chunk_id
        assert chunk.text.strip() == chunk.text and chunk.text, chunk.chunk_id


def test_chunks_of_a_document_are_in_order_and_do_not_overlap(demo_core):
    for doc in demo_core.store.documents():
        chunks = demo_core.store.chunks_where(SearchFilter(audience="staff", doc_ids=(doc.doc_id,)))
        assert [c.index for c in chunks] == list(range(doc.chunk_count)), doc.doc_id
        for before, after in zip(chunks, chunks[1:], strict=False):
            assert before.end <= after.start, (before.chunk_id, after.chunk_id)


def test_no_boilerplate_survives_in_the_stored_text(demo_core):
    for doc in demo_core.store.documents():
        text = demo_core.store.get_document(doc.doc_id).text
        assert text.strip(), doc.doc_id
        for line in BOILERPLATE:
            assert line not in text, f"{line!r} survived in {doc.doc_id}"
    for chunk in demo_core.store.chunks_where(STAFF):
        for line in BOILERPLATE:
            assert line not in chunk.text and line not in chunk.header, chunk.chunk_id
    # the content next to the boilerplate is kept
    borlange = demo_core.store.get_document(BORLANGE).text
    assert "Borlänge ska vara klimatneutralt 2030." in borlange
    assert "Miljöstrategin beslutades av kommunfullmäktige i september 2021." in borlange


def test_the_page_marker_became_page_numbers(demo_core):
    chunks = demo_core.store.chunks_where(SearchFilter(audience="staff", doc_ids=(STAFF_DOC,)))
    pages = [c.page for c in chunks]
    assert pages == sorted(pages) and set(pages) == {5, 6}
    first = next(c for c in chunks if c.text.startswith("Indledning"))
    overview = next(c for c in chunks if c.text.startswith("Overblik over indsatsområder"))
    assert (first.page, overview.page) == (5, 6)


def test_ctmb_numbered_sections_become_section_paths(demo_core):
    chunks = demo_core.store.chunks_where(SearchFilter(audience="staff", doc_ids=(STAFF_DOC,)))
    headings = {
        part
        for c in chunks
        for part in c.section_path
        if NUMBERED_HEADING.match(part) and "kvartal" not in part.casefold()
    }
    assert len(headings) >= 20, sorted(headings)
    for expected in (
        "3.1.1 Varme og Energi",
        "3.1.2 Grøn Mobilitet",
        "3.1.7 Kommunikation og aktørinddragelse",
        "2.4.2 Digitalisering",
        "4.1 Program for flådestyring",
        "5.1 Indsatser Trafik og Mobilitet",
        "6.1 Indsatser Klima og Forsyning",
        "7.1 Indsatser Natur og Miljø",
    ):
        assert expected in headings, sorted(headings)
    mobility = [c for c in chunks if "3.1.2 Grøn Mobilitet" in c.section_path]
    assert mobility
    assert all(c.section_path[0] == "3.1 Program for bæredygtighed" for c in mobility)
    # the header embedded with each chunk names its section path
    assert all(" > ".join(c.section_path) in c.header for c in mobility)


@pytest.mark.parametrize("section", QUARTER_SECTIONS)
def test_ctmb_milestone_chunks_carry_quarters_and_year(demo_core, section):
    chunks = demo_core.store.chunks_where(SearchFilter(audience="staff", doc_ids=(STAFF_DOC,)))
    under = [c for c in chunks if any(part.split(" ", 1)[0] == section for part in c.section_path)]
    milestones = [c for c in under if c.quarters]
    assert milestones, f"no quarter chunks under {section}"
    assert {q for c in milestones for q in c.quarters} == {1, 2, 3, 4}
    for c in milestones:
        assert c.year == 2025, c.chunk_id
        heading = c.section_path[-1]
        assert "kvartal" in heading.casefold() and "2025" in heading, c.chunk_id
        assert all(str(q) in heading for q in c.quarters), (heading, c.quarters)
    # a quarter filter finds exactly these chunks of the section
    for quarter in (1, 2, 3, 4):
        filtered = demo_core.store.chunks_where(
            SearchFilter(audience="staff", doc_ids=(STAFF_DOC,), quarters=(quarter,), year=2025)
        )
        under_ids = {c.chunk_id for c in under}
        assert {c.chunk_id for c in filtered if c.chunk_id in under_ids} == {
            c.chunk_id for c in milestones if quarter in c.quarters
        }


# --- re-ingesting ----------------------------------------------------------------------------
def test_reingesting_the_unchanged_corpus_is_a_no_op(demo_core, demo_corpus):
    before_docs = snapshot(demo_core)
    before_ids = raw_chunk_ids(demo_core)
    before_units = demo_core.store.units.count()
    counting = CountingEmbedder(demo_core.embedder)
    from assistant.indexer import ingest_paths

    report = ingest_paths(
        [demo_corpus], settings=demo_core.settings, store=demo_core.store, embedder=counting
    )
    assert [r.status for r in report.results] == ["unchanged"] * 5, report.as_dict()
    assert report.summary() == {
        "added": 0,
        "updated": 0,
        "unchanged": 5,
        "failed": 0,
        "chunks": 0,
        "embedded": 0,
    }
    assert counting.passages_requested == 0
    assert snapshot(demo_core) == before_docs  # not even the ingestion time changed
    assert raw_chunk_ids(demo_core) == before_ids
    assert demo_core.store.units.count() == before_units


def test_a_changed_file_replaces_its_document(tmp_path, demo_corpus):
    core, corpus = own_index(tmp_path, demo_corpus)
    before = snapshot(core)
    ids_before = raw_chunk_ids(core)
    # build the lexical index now, so the test also shows it follows the change
    assert any("klimatneutralt 2030" in t for t in texts_found(core, "klimatneutralt 2030")["bm25"])

    path = corpus / BORLANGE_FILE
    original = path.read_text(encoding="utf-8")
    assert OLD_SENTENCES in original
    path.write_text(original.replace(OLD_SENTENCES, NEW_SENTENCES), encoding="utf-8")
    report = ingest(core, corpus)

    statuses = {Path(r.path).name: r.status for r in report.results}
    assert statuses.pop(BORLANGE_FILE) == "updated"
    assert set(statuses.values()) == {"unchanged"}
    after = snapshot(core)
    assert after[BORLANGE][0] != before[BORLANGE][0]
    assert {k: v for k, v in after.items() if k != BORLANGE} == {
        k: v for k, v in before.items() if k != BORLANGE
    }
    text = core.store.get_document(BORLANGE).text
    assert NEW_SENTENCES in text and "klimatneutralt" not in text

    # the other documents' chunks are untouched; the changed one's are all new
    ids_after = raw_chunk_ids(core)
    assert {i for i in ids_before if not i.startswith(BORLANGE)} == {
        i for i in ids_after if not i.startswith(BORLANGE)
    }
    assert not {i for i in ids_before if i.startswith(BORLANGE)} & ids_after
    assert_registry_matches_collections(core)

    new = texts_found(core, "Var ska Borlänge plantera lindar? Kvarnsvedsparken")
    for side in ("vectors", "bm25", "hybrid"):
        assert any(NEW_SENTENCES in t for t in new[side][:3]), (side, new[side][:3])
    old = texts_found(
        core, "När ska Borlänge vara klimatneutralt? koldioxidbudget Parisavtalets mål"
    )
    for side, passages in old.items():
        for passage in passages:
            assert not any(term in passage for term in OLD_TERMS), (side, passage)
    old_ids = {i for i in ids_before if i.startswith(BORLANGE)}
    vector = core.retriever.query_vector(OLD_SENTENCES)
    allowed = core.store.allowed_version_keys(STAFF)
    assert not old_ids & {cid for cid, _ in core.store.query_units(vector, 80, STAFF, allowed)}


def test_bad_files_fail_clearly_and_nothing_stored_is_lost(tmp_path, demo_corpus):
    from assistant.core import Core

    corpus = writable_copy(demo_corpus, tmp_path / "corpus")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nendobj\ngarbage")
    (corpus / "empty.txt").write_bytes(b"")

    # a fresh index: the good files go in, the bad ones are reported
    core = Core(make_settings(tmp_path / "data"))
    report = ingest(core, corpus)
    assert sorted(by_status(report)["failed"]) == ["broken.pdf", "empty.txt"]
    assert report.count("added") == 5 and len(core.store.documents()) == 5
    failed = {Path(r.path).name: r for r in report.failed}
    assert failed["broken.pdf"].doc_id is None and failed["broken.pdf"].chunks == 0
    assert "broken.pdf" in failed["broken.pdf"].message
    assert re.search(r"pdf|corrupt|damaged|truncated", failed["broken.pdf"].message, re.I)
    assert "empty.txt" in failed["empty.txt"].message
    assert "empty" in failed["empty.txt"].message.casefold()

    # a good file that turns bad keeps its stored version; other bad files change nothing
    before, ids_before = snapshot(core), raw_chunk_ids(core)
    (corpus / "broken.pdf").write_bytes(b"this is not a pdf at all \x00\x01\x02")
    (corpus / BORLANGE_FILE).write_bytes(b"")
    report = ingest(core, corpus)
    assert sorted(by_status(report)["failed"]) == sorted(["broken.pdf", "empty.txt", BORLANGE_FILE])
    assert report.count("unchanged") == 4
    assert snapshot(core) == before and raw_chunk_ids(core) == ids_before
    assert_registry_matches_collections(core)
    hits = core.retriever.search("När ska Borlänge vara klimatneutralt?", STAFF, k=3)
    assert any("klimatneutralt 2030" in p.chunk.text for p in hits)


def test_removing_a_document_removes_it_from_dense_lexical_and_units(
    tmp_path, demo_corpus, monkeypatch
):
    core, _ = own_index(tmp_path, demo_corpus)
    question = "När ska Borlänge vara klimatneutralt 2030?"
    before = texts_found(core, question)
    for side in ("vectors", "bm25", "hybrid"):
        assert any("klimatneutralt 2030" in t for t in before[side][:3]), (side, before[side])
    doc = core.store.get_document(BORLANGE)
    old_chunk_ids = [
        c.chunk_id for c in core.store.chunks_where(SearchFilter("staff", (BORLANGE,)))
    ]
    assert core.store.unit_vectors(old_chunk_ids)

    result = cli(monkeypatch, core.settings.data_dir, "documents", "remove", BORLANGE)
    assert result.exit_code == 0, result.output
    assert f"removed {BORLANGE}" in result.output

    assert BORLANGE not in {d.doc_id for d in core.store.documents()}
    assert not core.store.chunks.get(where={"doc_id": BORLANGE}, include=[])["ids"]
    assert not core.store.units.get(where={"doc_id": BORLANGE}, include=[])["ids"]
    assert core.store.unit_vectors(old_chunk_ids) == {}
    for mode in MODES:
        for expand in (False, True):
            passages = core.retriever.search(question, STAFF, k=20, mode=mode, expand=expand)
            assert BORLANGE not in {p.chunk.doc_id for p in passages}, mode
            assert not any("klimatneutralt" in p.chunk.text for p in passages), mode
    assert all(c.doc_id != BORLANGE for c in core.retriever.lexical.chunks)
    vector = core.retriever.query_vector(question)
    allowed = core.store.allowed_version_keys(STAFF)
    assert not any(c.doc_id == BORLANGE for c, _ in core.store.query(vector, 40, STAFF, allowed))
    units = core.store.query_units(vector, 80, STAFF, allowed)
    assert units and not any(cid.startswith(BORLANGE) for cid, _ in units)
    assert "koldioxidbudget" not in core.retriever.lexical.vocabulary["staff"]
    assert doc.chunk_count == len(old_chunk_ids)
    assert len(core.store.documents()) == 4
    assert_registry_matches_collections(core)


# --- the CLI ---------------------------------------------------------------------------------
def cli(monkeypatch, data_dir: Path, *args: str):
    """Run ``strategy-assistant ARGS`` in-process against ``data_dir``."""
    from assistant.cli import app
    from assistant.settings import get_settings

    monkeypatch.setenv("SA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SA_EMBEDDING_CACHE_PATH", str(EMBEDDING_CACHE))
    get_settings.cache_clear()
    return CliRunner().invoke(app, list(args))


def squashed(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


def test_cli_ingest_documents_search_ask_and_remove(tmp_path, demo_corpus, monkeypatch):
    data_dir = tmp_path / "cli-data"
    corpus = writable_copy(demo_corpus, tmp_path / "corpus")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n%%garbage without objects")

    result = cli(monkeypatch, data_dir, "ingest", str(corpus))
    assert result.exit_code == 0, result.output
    out = squashed(result.output)
    assert re.search(
        r"documents: 5 added, 0 updated, 0 unchanged, 1 failed; chunks written: \d+ "
        r"\(\d+ newly embedded\)",
        out,
    ), out
    assert re.search(r"failed \S*broken\.pdf ?: broken\.pdf: \S", out), out
    written = int(re.search(r"chunks written: (\d+)", out).group(1))

    result = cli(monkeypatch, data_dir, "ingest", str(corpus))
    assert result.exit_code == 0
    assert (
        "documents: 0 added, 0 updated, 5 unchanged, 1 failed; chunks written: 0 "
        "(0 newly embedded)" in squashed(result.output)
    )

    result = cli(monkeypatch, data_dir, "ingest", "--json", str(corpus / "broken.pdf"))
    assert result.exit_code == 1  # nothing could be ingested
    report = json.loads(result.stdout)
    assert report["summary"]["failed"] == 1 and report["files"][0]["status"] == "failed"

    result = cli(monkeypatch, data_dir, "documents")
    assert result.exit_code == 0
    listing = squashed(result.output)
    assert "5 documents" in listing and STAFF_DOC in listing and BORLANGE in listing
    result = cli(monkeypatch, data_dir, "documents", "--json")
    docs = json.loads(result.stdout)
    assert len(docs) == 5 and sum(d["chunk_count"] for d in docs) == written
    assert {d["doc_id"]: d["audience"] for d in docs}[STAFF_DOC] == "staff"

    query = "När ska Borlänge vara klimatneutralt?"
    result = cli(monkeypatch, data_dir, "search", query, "--json", "--k", "3")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["query"] == query and 1 <= len(found["passages"]) <= 6
    top = found["passages"][0]
    assert top["doc_id"] == BORLANGE and top["rank"] == 1 and "klimatneutralt 2030" in top["text"]
    assert {"chunk_id", "start", "end", "section", "score", "quarters", "year"} <= set(top)

    staff_query = "Etape 2 fjernvarmeudrulning"
    result = cli(monkeypatch, data_dir, "search", staff_query, "--json", "--audience", "public")
    assert result.exit_code == 0
    assert STAFF_DOC not in {p["doc_id"] for p in json.loads(result.stdout)["passages"]}

    result = cli(monkeypatch, data_dir, "ask", query, "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    contract = {"answer", "found", "language", "standalone_question", "citations", "passages"}
    assert contract <= set(answer)
    assert answer["found"] is True and answer["language"] == "sv"
    assert answer["standalone_question"] == query
    assert answer["citations"] and answer["passages"]
    shown = cli(monkeypatch, data_dir, "documents", "show", BORLANGE, "--json")
    text = json.loads(shown.stdout)["text"]
    for c in answer["citations"]:
        assert f"[{c['id']}]" in answer["answer"]
        assert text[c["start"] : c["end"]] == c["quote"]

    history = tmp_path / "history.json"
    earlier = [
        {"role": "user", "content": "Hvad sker der i 2. kvartal under grøn mobilitet?"},
        {"role": "assistant", "content": "…"},
    ]
    history.write_text(json.dumps(earlier), encoding="utf-8")
    follow = ["ask", "Og i tredje kvartal?", "--history", str(history), "--json"]
    result = cli(monkeypatch, data_dir, *follow)
    assert result.exit_code == 0, result.output
    follow_up = json.loads(result.stdout)
    assert "grøn mobilitet" in follow_up["standalone_question"].casefold()

    result = cli(monkeypatch, data_dir, "documents", "remove", BORLANGE)
    assert result.exit_code == 0 and f"removed {BORLANGE}" in result.output
    result = cli(monkeypatch, data_dir, "search", query, "--json", "--k", "10")
    assert BORLANGE not in {p["doc_id"] for p in json.loads(result.stdout)["passages"]}
    result = cli(monkeypatch, data_dir, "documents", "--json")
    assert BORLANGE not in {d["doc_id"] for d in json.loads(result.stdout)}

    from assistant.errors import DocumentNotFound

    result = cli(monkeypatch, data_dir, "documents", "remove", BORLANGE)
    assert result.exit_code != 0 and isinstance(result.exception, DocumentNotFound)
