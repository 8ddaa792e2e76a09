"""A killed process can leave embedded Chroma's vector files truncated (it rewrites them in
place); opening the index then repairs the damaged collections from their records.

The damage is made deterministically here (a truncated ``index_metadata.pickle``, exactly what
a SIGKILL during Chroma's persist leaves); ``test_kill_ingest`` meets it by chance.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.reliability.helpers import close_store, copied_corpus, copy_cache, read_state
from vectorstore.filters import SearchFilter
from vectorstore.repair import MARKER, QUARANTINE, RepairMarker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STAFF = SearchFilter(audience="staff")
QUERIES = [
    "Hvornår udrulles fjernvarmen i Etape 2?",
    "Who is responsible for climate adaptation?",
    "Vilka mål har Borlänge för 2030?",
]


def open_core(data_dir: Path):
    from assistant.core import Core

    # A private copy of the embedding cache: the copies' new sentences must not enter the
    # shared one, where test_kill_ingest counts on them being new.
    cache = data_dir.parent / "cache.sqlite"
    if not cache.exists():
        copy_cache(cache)
    return Core(make_settings(data_dir, embedding_cache_path=cache))


def results(core) -> list[list[tuple[str, float]]]:
    return [
        [(p.chunk.chunk_id, round(p.score, 4)) for p in core.retriever.search(q, STAFF, k=8)]
        for q in QUERIES
    ]


def vector_segment(data_dir: Path, collection: str) -> Path:
    chroma = data_dir / "chroma"
    conn = sqlite3.connect(chroma / "chroma.sqlite3")
    try:
        (segment,) = conn.execute(
            "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
            "WHERE c.name = ? AND s.scope = 'VECTOR'",
            (collection,),
        ).fetchone()
    finally:
        conn.close()
    return chroma / segment


def reopen_repaired(data_dir: Path, answers):
    """Open the index as the service does (which finishes a pending repair): it answers as
    before and the repair marker is gone. Returns the core and the stored state."""
    core = open_core(data_dir)
    repaired = read_state(core.store)
    assert results(core) == answers
    assert not (data_dir / MARKER).exists()
    return core, repaired


def raw_client(data_dir: Path):
    """Chroma itself on the test's index, to stage what an interrupted repair leaves."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(
        path=str(data_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )


def truncate_pickle(folder: Path) -> bool:
    """Damage a persisted vector index; False when Chroma has not persisted one yet (it does
    every ``sync_threshold`` = 1000 writes; until then the vectors live in its write-ahead log)."""
    pickle = folder / "index_metadata.pickle"
    if not pickle.is_file():
        return False
    data = pickle.read_bytes()
    pickle.write_bytes(data[: len(data) // 2])
    return True


@pytest.fixture
def built(tmp_path, demo_core):
    """A fresh index of two copies of the demo corpus (real embedder, cached; ~1900 units, so
    Chroma has persisted the unit vectors to files) and what it answers."""
    from assistant.indexer import ingest_paths

    corpus = copied_corpus(tmp_path / "corpus", copies=2)
    data_dir = tmp_path / "data"
    core = open_core(data_dir)
    report = ingest_paths(
        [corpus], settings=core.settings, store=core.store, embedder=core.embedder
    )
    assert report.count("failed") == 0
    before = results(core), read_state(core.store)
    prefix = core.settings.collection
    close_store(core.store)
    return data_dir, prefix, before


def test_damaged_vector_files_are_rebuilt_on_open(built):
    data_dir, prefix, (answers, state) = built
    names = [f"{prefix}_{n}" for n in ("chunks", "units")]
    damaged = [n for n in names if truncate_pickle(vector_segment(data_dir, n))]
    assert f"{prefix}_units" in damaged

    core = open_core(data_dir)
    repaired = read_state(core.store)
    assert repaired.registry == state.registry
    assert sorted(repaired.chunk_ids) == sorted(state.chunk_ids)
    assert sorted(repaired.unit_vkeys) == sorted(state.unit_vkeys)
    assert results(core) == answers  # every vector is back: search is exactly as before
    quarantined = sorted(p.name for p in (data_dir / QUARANTINE).iterdir())
    assert [q.split("-")[0] for q in quarantined] == damaged
    assert not (data_dir / MARKER).exists()
    close_store(core.store)

    core = open_core(data_dir)  # a healthy index is opened as it is
    assert results(core) == answers
    assert len(list((data_dir / QUARANTINE).iterdir())) == len(damaged)
    close_store(core.store)


def test_a_rebuild_interrupted_during_its_swap_is_finished(built):
    """Killed after the damaged collection was dropped and before its rebuilt copy took its
    name: the next open renames the copy instead of creating an empty collection."""
    data_dir, prefix, (answers, state) = built
    client = raw_client(data_dir)
    client.get_collection(f"{prefix}_units").modify(name=f"{prefix}_units_rebuild")
    RepairMarker(data_dir).write([f"{prefix}_units"])
    client.close()

    core, repaired = reopen_repaired(data_dir, answers)
    assert sorted(repaired.unit_vkeys) == sorted(state.unit_vkeys)
    names = {c.name for c in core.store.client.list_collections()}
    assert f"{prefix}_units_rebuild" not in names
    close_store(core.store)


def test_a_pending_rebuild_is_redone_from_the_records(built):
    """Killed while the rebuilt copy was half written: the copy is discarded and rebuilt."""
    data_dir, prefix, (answers, state) = built
    client = raw_client(data_dir)
    half = client.create_collection(f"{prefix}_chunks_rebuild", embedding_function=None)
    half.add(ids=["stray"], embeddings=[[0.0] * 384], documents=["half written"])
    RepairMarker(data_dir).write([f"{prefix}_chunks"])
    client.close()

    core, repaired = reopen_repaired(data_dir, answers)
    assert sorted(repaired.chunk_ids) == sorted(state.chunk_ids)
    close_store(core.store)
