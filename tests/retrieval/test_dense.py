"""The dense side's fast path (unfiltered ids, visibility in memory) against the filtered query,
where it must fall back: leftovers of an interrupted ingest crowding the top, narrow filters."""

from __future__ import annotations

import pytest

from assistant.retrieval.dense import DenseSearch
from tests.vectorstore.test_store import make_doc, put
from vectorstore.filters import SearchFilter, visible_share
from vectorstore.records import chunk_id, chunk_metadata

pytestmark = pytest.mark.unit
WORDS = ["skolen", "havnen", "stationen", "skoven", "søen", "torvet"]  # distinct: no tied scores


def visible_table(store):
    return {c.chunk_id: c for c in store.chunks_where(SearchFilter(audience="staff"))}


def write_leftovers(core, doc_id: str, texts: list[str]) -> None:
    """New chunks of ``doc_id`` written but never registered (a killed ingest)."""
    meta, _, chunks = make_doc(doc_id, texts)
    core.store.chunks.upsert(
        ids=[chunk_id(doc_id, "v2", c.index) for c in chunks],
        embeddings=core.embedder.embed_passages([c.embed_text for c in chunks]),
        documents=[c.text for c in chunks],
        metadatas=[chunk_metadata(c, meta, "v2") for c in chunks],
    )


@pytest.mark.parametrize("audience", ["staff", "public"])
def test_falls_back_when_leftovers_crowd_the_top(fake_core, audience):
    put(fake_core, "doc-a", [f"cykelstier ved {w}" for w in WORDS], "v1")
    put(fake_core, "doc-s", ["intern note om budget"], "v1", audience="staff")
    write_leftovers(fake_core, "doc-a", ["ny tekst om klima"] + [f"klima {i}" for i in range(30)])
    store = fake_core.store
    flt = SearchFilter(audience=audience)
    registry = store.documents()
    allowed = {d.version_key for d in registry if flt.allows_document(d)}
    vector = fake_core.embedder.embed_query("ny tekst om klima")
    nearest = store.nearest("chunks", vector, 20)
    assert sum("::v1::" in i for i, _ in nearest[:14]) < 5  # the unfiltered fetch falls short

    fast = DenseSearch(store).chunks(
        vector, 5, flt, allowed, visible_share(flt, registry), visible_table(store).get
    )
    exact = store.query(vector, 5, flt, allowed=sorted(allowed))
    # The same scores (the bag-of-words fake ties chunks, and ties may come in either order).
    assert [round(sim, 5) for _, sim in fast] == [round(sim, 5) for _, sim in exact]
    assert len(fast) == 5 and {c.version for c, _ in fast} == {"v1"}
    if audience == "public":
        assert {c.doc_id for c, _ in fast} == {"doc-a"}


def test_a_narrow_filter(fake_core, monkeypatch):
    for n in range(12):
        put(fake_core, f"doc-{n:02d}", [f"tekst {n} om vand", f"mere {n} om vand"], "v1")
    store = fake_core.store
    flt = SearchFilter(audience="staff", doc_ids=("doc-03",))
    registry = store.documents()
    allowed = {d.version_key for d in registry if flt.allows_document(d)}
    share = visible_share(flt, registry)
    assert share == pytest.approx(1 / 12)
    calls = []
    real = store.nearest
    monkeypatch.setattr(
        store, "nearest", lambda *a, **kw: calls.append((a[2], a[3:] or kw)) or real(*a, **kw)
    )
    vector = fake_core.embedder.embed_query("vand")
    table = visible_table(store)
    # k / share * 1.3 + 8 = 101 neighbours asked: more than the index holds, so the one
    # unfiltered query saw everything and its two visible chunks are the whole answer.
    hits = DenseSearch(store).chunks(vector, 6, flt, allowed, share, table.get)
    assert {c.doc_id for c, _ in hits} == {"doc-03"} and len(hits) == 2
    assert [c[0] for c in calls] == [101]
    # Where that many neighbours would cost more than the filter, the filtered query runs alone.
    calls.clear()
    monkeypatch.setattr("assistant.retrieval.dense.MAX_FETCH", 50)
    again = DenseSearch(store).chunks(vector, 6, flt, allowed, share, table.get)
    assert [c.chunk_id for c, _ in again] == [c.chunk_id for c, _ in hits]
    assert [c[0] for c in calls] == [6]


def test_a_short_fetch_is_retried_larger_before_the_filter(fake_core, monkeypatch):
    """Leftovers crowd the first fetch; a larger unfiltered fetch finds the visible chunks."""
    put(fake_core, "doc-a", [f"cykelstier ved {w}" for w in WORDS], "v1")
    write_leftovers(fake_core, "doc-a", ["ny tekst om klima"] + [f"klima {i}" for i in range(30)])
    store = fake_core.store
    flt = SearchFilter(audience="staff")
    allowed = {d.version_key for d in store.documents()}
    calls = []
    real = store.nearest
    monkeypatch.setattr(
        store, "nearest", lambda *a, **kw: calls.append((a[2], a[3:] or kw)) or real(*a, **kw)
    )
    vector = fake_core.embedder.embed_query("ny tekst om klima")
    hits = DenseSearch(store).chunks(vector, 5, flt, allowed, 1.0, visible_table(store).get)
    assert len(hits) == 5 and {c.version for c, _ in hits} == {"v1"}
    assert [c[0] for c in calls] == [14, 56]  # short by leftovers; 4x larger: the whole index


def test_a_staff_record_in_the_public_mirror_never_reaches_a_public_caller(fake_core):
    """Defence in depth: if a staff document's vectors ever landed in the public mirror (a bug,
    a hand-edited index), visibility is still decided by the registry and the chunk itself."""
    from assistant.retrieval.retriever import HybridRetriever

    put(fake_core, "doc-a", [f"cykelstier ved {w}" for w in WORDS], "v1")
    put(fake_core, "doc-s", ["fortroligt budget for vintappervej"], "v1", audience="staff")
    store = fake_core.store
    leaked = store.chunks.get(
        ids=[chunk_id("doc-s", "v1", 0)], include=["embeddings", "documents", "metadatas"]
    )
    store.public_chunks.upsert(
        ids=leaked["ids"],
        embeddings=[list(e) for e in leaked["embeddings"]],
        documents=leaked["documents"],
        metadatas=leaked["metadatas"],
    )
    assert store.nearest(
        "chunks", fake_core.embedder.embed_query("vintappervej"), 1, public_only=True
    )[0][0] == chunk_id("doc-s", "v1", 0)
    retriever = HybridRetriever(store, fake_core.embedder, fake_core.settings)
    for mode in ("dense", "hybrid"):
        hits = retriever.search(
            "fortroligt budget for vintappervej", SearchFilter(audience="public"), mode=mode
        )
        assert all(p.chunk.doc_id == "doc-a" for p in hits), mode
    staff = retriever.search("fortroligt budget for vintappervej", SearchFilter(audience="staff"))
    assert staff[0].chunk.doc_id == "doc-s"
