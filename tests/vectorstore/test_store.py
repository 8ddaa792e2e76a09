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


def test_registry_copies_follow_other_writers(fake_core):
    """Each process keeps a copy of the registry; another writer's change reaches it on the
    next read (the change token), and a writer killed before moving the token is caught up
    with by the copy's age limit."""
    import time

    from vectorstore.store import ChromaStore, document_metadata

    writer = fake_core.store
    reader = ChromaStore(writer.client, writer.prefix, writer.embedder, registry_ttl_s=0.2)
    put(fake_core, "doc-a", ["første udgave"], "v1")
    assert [d.version for d in reader.documents()] == ["v1"]
    put(fake_core, "doc-a", ["anden udgave"], "v2")
    assert [d.version for d in reader.documents()] == ["v2"]
    writer.remove_document("doc-a")
    assert reader.documents() == []

    put(fake_core, "doc-b", ["tekst"], "v1")
    assert [d.version for d in reader.documents()] == ["v1"]
    meta, _, _ = make_doc("doc-b", ["tekst"])  # the registry flips, the token does not move
    writer.docs.upsert(
        ids=["doc-b"], embeddings=[[1.0]], metadatas=[document_metadata(meta, "v9", 1, "now")]
    )
    assert [d.version for d in reader.documents()] == ["v1"]  # the copy, within its age limit
    time.sleep(0.25)
    assert [d.version for d in reader.documents()] == ["v9"]


def mirror_ids(store):
    return set(store.public_chunks.get(include=[])["ids"]), set(
        store.public_units.get(include=[])["ids"]
    )


def public_ids(store):
    public = [d.version_key for d in store.documents() if d.audience == "public"]
    where = {"vkey": {"$in": public}}
    return set(store.chunks.get(where=where, include=[])["ids"]), set(
        store.units.get(where=where, include=[])["ids"]
    )


def put_with_units(core, doc_id, texts, version, audience="public"):
    from vectorstore.store import UnitRecord

    meta, full, chunks = make_doc(doc_id, texts, audience)
    units = [UnitRecord(c.index, 0, c.start, c.end, False, c.text) for c in chunks]
    embed = core.embedder.embed_passages
    core.store.replace_document(
        meta,
        version,
        full,
        chunks,
        embed([c.embed_text for c in chunks]),
        units,
        embed([u.embed_text for u in units]),
    )


def test_public_mirror_holds_exactly_the_public_records(fake_core):
    store = fake_core.store
    put_with_units(fake_core, "doc-a", ["cykelsti ved skolen", "ny bro"], "v1")
    put_with_units(fake_core, "doc-s", ["intern budgetnote"], "v1", audience="staff")
    assert mirror_ids(store) == public_ids(store) and len(mirror_ids(store)[0]) == 2
    put_with_units(fake_core, "doc-a", ["cykelsti ved havnen"], "v2")  # replaced
    assert mirror_ids(store) == public_ids(store) and len(mirror_ids(store)[0]) == 1
    put_with_units(fake_core, "doc-a", ["cykelsti ved havnen"], "v3", audience="staff")
    assert mirror_ids(store) == (set(), set())  # no longer public: gone from the mirror
    put_with_units(fake_core, "doc-b", ["offentlig plan"], "v1")
    store.remove_document("doc-b")
    assert mirror_ids(store) == (set(), set())


def test_an_index_without_mirrors_gets_them_on_open(fake_core):
    from vectorstore.store import ChromaStore

    store = fake_core.store
    put_with_units(fake_core, "doc-a", ["cykelsti ved skolen", "ny bro"], "v1")
    put_with_units(fake_core, "doc-s", ["intern budgetnote"], "v1", audience="staff")
    expected = public_ids(store)
    store.client.delete_collection(store.public_chunks.name)
    store.client.delete_collection(store.public_units.name)
    reopened = ChromaStore(store.client, store.prefix, store.embedder)
    assert mirror_ids(reopened) == expected
    vector = fake_core.embedder.embed_query("cykelsti ved skolen")
    top = reopened.nearest("chunks", vector, 1, public_only=True)
    assert top == reopened.nearest("chunks", vector, 1)  # vectors copied as they were
    # One record lost (a writer stopped between a collection and its mirror): found by count.
    lost = sorted(expected[1])[0]
    reopened.public_units.delete(ids=[lost])
    again = ChromaStore(store.client, store.prefix, store.embedder)
    assert mirror_ids(again) == expected


def test_garbage_collection_covers_the_mirrors(fake_core):
    store = fake_core.store
    put_with_units(fake_core, "doc-a", ["gammel tekst"], "v1")
    meta, _, chunks = make_doc("doc-a", ["ny tekst"])  # a killed writer's public leftovers
    vectors = fake_core.embedder.embed_passages([c.embed_text for c in chunks])
    for collection in (store.chunks, store.public_chunks):
        collection.upsert(
            ids=[chunk_id("doc-a", "v2", 0)],
            embeddings=vectors,
            documents=["ny tekst"],
            metadatas=[chunk_metadata(chunks[0], meta, "v2")],
        )
    assert store.collect_garbage() == 1
    assert mirror_ids(store)[0] == {chunk_id("doc-a", "v1", 0)}


def test_reading_in_pages_returns_every_record_once(fake_core, monkeypatch):
    """Whole-collection reads go page by page (Chroma cannot bind ~32,000+ ids in one query):
    with a page of 2 records, everything is still read exactly once."""
    from vectorstore.paging import get_all

    for n in range(3):
        put_with_units(
            fake_core, f"doc-{n}", [f"tekst {n} om {w}" for w in ("vand", "vej", "skov")], "v1"
        )
    store = fake_core.store
    expected = {c.chunk_id: c.text for c in store.chunks_where(SearchFilter(audience="staff"))}
    got = get_all(store.chunks, include=["documents"], page=2)
    assert dict(zip(got["ids"], got["documents"], strict=True)) == expected
    assert len(got["ids"]) == 9
    monkeypatch.setattr(get_all, "__kwdefaults__", {"where": None, "include": (), "page": 2})
    paged = {c.chunk_id: c.text for c in store.chunks_where(SearchFilter(audience="staff"))}
    assert paged == expected
    assert [d.doc_id for d in store.documents()] == ["doc-0", "doc-1", "doc-2"]
