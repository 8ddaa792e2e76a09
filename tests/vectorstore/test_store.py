"""The Chroma store: atomic replacement, removal, garbage collection, embedder identity, audience."""

from __future__ import annotations

import pytest

from assistant.errors import DocumentNotFound, EmbedderMismatch
from assistant.models import Chunk, DocumentMeta
from tests.fakes import FakeEmbedder
from vectorstore.filters import SearchFilter
from vectorstore.records import chunk_id, chunk_metadata

pytestmark = pytest.mark.unit


def make_doc(
    doc_id: str, texts: list[str], audience: str = "public"
) -> tuple[DocumentMeta, str, list[Chunk]]:
    meta = DocumentMeta(
        doc_id=doc_id,
        title=f"Title {doc_id}",
        source=f"{doc_id}.txt",
        language="da",
        audience=audience,
    )  # type: ignore[arg-type]
    full = "\n\n".join(texts)
    chunks, pos = [], 0
    for i, t in enumerate(texts):
        start = full.index(t, pos)
        chunks.append(Chunk(doc_id, i, start, start + len(t), t, f"{meta.title}\n{t}", ("Afsnit",)))
        pos = start + len(t)
    return meta, full, chunks


def put(core, doc_id, texts, version, audience="public"):
    meta, full, chunks = make_doc(doc_id, texts, audience)
    vectors = core.embedder.embed_passages([c.embed_text for c in chunks])
    core.store.replace_document(meta, version, full, chunks, vectors)
    return meta, chunks


def all_chunk_ids(core):
    return set(core.store.chunks.get(include=[])["ids"])


def test_replace_swaps_versions_without_leftovers(fake_core):
    put(fake_core, "doc-a", ["fjernvarme etape 2", "solceller på taget"], "v1")
    assert fake_core.store.version_of("doc-a") == "v1"
    put(fake_core, "doc-a", ["fjernvarme etape 3"], "v2")
    ids = all_chunk_ids(fake_core)
    assert ids == {chunk_id("doc-a", "v2", 0)}
    doc = fake_core.store.get_document("doc-a")
    assert doc.text == "fjernvarme etape 3" and doc.chunk_count == 1 and doc.version == "v2"


def test_remove_deletes_registry_and_chunks(fake_core):
    put(fake_core, "doc-a", ["tekst et"], "v1")
    put(fake_core, "doc-b", ["tekst to"], "v1")
    fake_core.store.remove_document("doc-a")
    assert [d.doc_id for d in fake_core.store.documents()] == ["doc-b"]
    assert all(not i.startswith("doc-a") for i in all_chunk_ids(fake_core))
    with pytest.raises(DocumentNotFound):
        fake_core.store.remove_document("doc-a")
    with pytest.raises(DocumentNotFound):
        fake_core.store.get_document("nope")


def test_interrupted_write_is_invisible_and_collected(fake_core):
    put(fake_core, "doc-a", ["gammel tekst om klima"], "v1")
    # Simulate a crash after the new chunks were written but before the registry flipped.
    meta, full, chunks = make_doc("doc-a", ["ny tekst om klima", "mere ny tekst"])
    fake_core.store.chunks.upsert(
        ids=[chunk_id("doc-a", "v2", c.index) for c in chunks],
        embeddings=fake_core.embedder.embed_passages([c.embed_text for c in chunks]),
        documents=[c.text for c in chunks],
        metadatas=[chunk_metadata(c, meta, "v2") for c in chunks],
    )
    flt = SearchFilter(audience="staff")
    visible = fake_core.store.chunks_where(flt)
    assert [c.text for c in visible] == ["gammel tekst om klima"]
    hits = fake_core.store.query(fake_core.embedder.embed_query("ny tekst"), 5, flt)
    assert {c.version for c, _ in hits} == {"v1"}
    assert fake_core.store.collect_garbage() == 2
    assert all_chunk_ids(fake_core) == {chunk_id("doc-a", "v1", 0)}


def test_public_caller_never_sees_staff_chunks(fake_core):
    put(fake_core, "open", ["klimaplan for borgerne"], "v1", "public")
    put(fake_core, "secret", ["klimaplan intern budget"], "v1", "staff")
    public = SearchFilter(audience="public")
    hits = fake_core.store.query(
        fake_core.embedder.embed_query("klimaplan intern budget"), 10, public
    )
    assert {c.doc_id for c, _ in hits} == {"open"}
    assert [d.doc_id for d in fake_core.store.documents(public)] == ["open"]
    with pytest.raises(DocumentNotFound):
        fake_core.store.get_document("secret", public)
    # Filters naming the staff document do not widen the audience.
    sneaky = SearchFilter(audience="public", doc_ids=("secret",))
    assert fake_core.store.query(fake_core.embedder.embed_query("budget"), 10, sneaky) == []
    staff = SearchFilter(audience="staff")
    hits = fake_core.store.query(
        fake_core.embedder.embed_query("klimaplan intern budget"), 10, staff
    )
    assert {c.doc_id for c, _ in hits} == {"open", "secret"}


def test_chunk_level_audience_guard_holds_even_if_registry_is_wrong(fake_core):
    """Defence in depth: a staff chunk stays hidden from the public even if its registry record
    were (wrongly) public."""
    meta, _chunks = put(fake_core, "secret", ["intern sag"], "v1", "staff")
    fake_core.store.docs.update(ids=["secret"], metadatas=[{"audience": "public"}])
    hits = fake_core.store.query(
        fake_core.embedder.embed_query("intern sag"), 5, SearchFilter("public")
    )
    assert hits == []


def test_opening_with_another_embedder_fails_clearly(fake_core):
    put(fake_core, "doc-a", ["tekst"], "v1")
    from vectorstore.store import ChromaStore

    other = FakeEmbedder(dim=32, model="other-model").info()
    with pytest.raises(EmbedderMismatch, match="reindex"):
        ChromaStore(fake_core.store.client, fake_core.settings.collection, other)


@pytest.mark.parametrize("audience", ["staff", "public"])
def test_fast_path_falls_back_when_leftovers_crowd_the_top(fake_core, audience):
    """Leftovers of an interrupted ingest nearest to the query: the unfiltered fast path keeps
    none of them and, short of ``k`` visible results, runs the filtered query instead."""
    texts = [f"afsnit {i} om cykelstier" for i in range(6)]
    put(fake_core, "doc-a", texts, "v1")
    put(fake_core, "doc-s", ["intern note om budget"], "v1", audience="staff")
    meta, _, chunks = make_doc(
        "doc-a", ["ny tekst om klima"] * 1 + [f"klima {i}" for i in range(30)]
    )
    fake_core.store.chunks.upsert(
        ids=[chunk_id("doc-a", "v2", c.index) for c in chunks],
        embeddings=fake_core.embedder.embed_passages([c.embed_text for c in chunks]),
        documents=[c.text for c in chunks],
        metadatas=[chunk_metadata(c, meta, "v2") for c in chunks],
    )
    flt = SearchFilter(audience=audience)
    vector = fake_core.embedder.embed_query("ny tekst om klima")
    nearest = fake_core.store.chunks.query(query_embeddings=[vector], n_results=14)
    assert sum(i.split("::")[1] == "v1" for i in nearest["ids"][0]) < 5  # the fast path falls short
    fast = fake_core.store.query(vector, 5, flt, share=1.0)
    exact = fake_core.store.query(vector, 5, flt)
    assert [c.chunk_id for c, _ in fast] == [c.chunk_id for c, _ in exact]
    assert len(fast) == 5 and {c.version for c, _ in fast} == {"v1"}
    if audience == "public":
        assert all(c.doc_id == "doc-a" for c, _ in fast)
