"""Repairing an embedded index whose vector files a killed process left damaged.

Chroma's embedded store keeps ids, texts and metadata in SQLite (transactional, so a kill never
damages them) but each collection's HNSW vector index in files that it rewrites in place every
few thousand writes. A process killed during that rewrite (SIGKILL, power loss) leaves a
truncated file, and from then on every read of the collection fails ("Error creating hnsw
segment reader"). Nothing that cannot be rebuilt is lost: the texts that were embedded are in
SQLite, and the embedding cache makes re-embedding them cheap.

The repair, run when the store is opened: the damaged segment's files are moved aside (to
``<data dir>/chroma-damaged/``) and Chroma's applied-position for that segment is reset, so
Chroma opens the collection again with all records but only some vectors; then the collection is
rebuilt from its records into a fresh collection that replaces it (see
:func:`vectorstore.rebuild.rebuild_collection`). A marker file names the collections under
repair until they are complete, so a repair that is itself interrupted resumes on the next open.

A Chroma server has the same weakness on its own disk; its operator repairs it the same way
with the server stopped (docs/operations.md). The service never edits a server's files.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from assistant.errors import StoreError

log = logging.getLogger(__name__)

MARKER = "chroma-repair.json"
QUARANTINE = "chroma-damaged"
#: What chromadb's errors say when a collection's vector segment cannot be loaded.
DAMAGE_MARKERS = ("hnsw segment", "hnsw index", "pickle")


def is_damage(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(m in text for m in DAMAGE_MARKERS)


def damaged_collections(client, names: Iterable[str]) -> list[str]:
    """The collections among ``names`` whose vectors cannot be read.

    Reading a record's vector and searching with it loads the vector index; counting alone
    would not when nothing is pending, so all three are tried.
    """
    damaged = []
    existing = {c.name for c in client.list_collections()}
    for name in names:
        if name not in existing:
            continue
        collection = client.get_collection(name, embedding_function=None)
        try:
            if collection.count():
                got = collection.get(limit=1, include=["embeddings"])
                collection.query(query_embeddings=[list(got["embeddings"][0])], n_results=1)
        except Exception as exc:  # chromadb's InternalError; anything else is re-raised below
            if not is_damage(exc):
                raise
            log.error("the vector index of %s is damaged: %s", name, exc)
            damaged.append(name)
    return damaged


class RepairMarker:
    """The collections under repair, recorded before anything is moved and cleared when done."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / MARKER

    def pending(self) -> list[str]:
        try:
            return list(json.loads(self.path.read_text(encoding="utf-8"))["collections"])
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"unreadable repair marker {self.path}: {exc}") from exc

    def write(self, names: Iterable[str]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"collections": sorted(set(names))}), encoding="utf-8")
        tmp.replace(self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def quarantine_vector_segments(chroma_path: Path, names: Iterable[str]) -> list[Path]:
    """Move the vector files of the named collections aside and reset their applied position.

    Must run while no client has the store open. Returns where the files went.
    """
    db = chroma_path / "chroma.sqlite3"
    conn = sqlite3.connect(db, timeout=30)
    moved = []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    try:
        with conn:
            for name in names:
                rows = conn.execute(
                    "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
                    "WHERE c.name = ? AND s.scope = 'VECTOR'",
                    (name,),
                ).fetchall()
                for (segment_id,) in rows:
                    folder = chroma_path / segment_id
                    if folder.exists():
                        target = chroma_path.parent / QUARANTINE / f"{name}-{segment_id}-{stamp}"
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.move(str(folder), str(target))
                        moved.append(target)
                    conn.execute("DELETE FROM max_seq_id WHERE segment_id = ?", (segment_id,))
    except sqlite3.Error as exc:
        raise StoreError(f"cannot repair the index at {chroma_path}: {exc}") from exc
    finally:
        conn.close()
    return moved


def release_client(client, path: Path) -> None:
    """Stop the embedded Chroma system of ``path`` so its files may be changed underneath."""
    from vectorstore.client import forget_embedded_system

    close = getattr(client, "close", None)
    if close is not None:
        close()
    system = forget_embedded_system(path)
    if system is not None:
        system.stop()


def repair_embedded(
    client,
    chroma_path: Path,
    data_dir: Path,
    names: list[str],
    reopen: Callable[[], object],
    rebuild: Callable[[object, str], int],
):
    """Find and repair damaged collections of an embedded store; returns the client to use.

    ``rebuild(client, name)`` rebuilds one collection from its records (it knows how to embed).
    """
    marker = RepairMarker(data_dir)
    pending = marker.pending()
    damaged = damaged_collections(client, [n for n in names if n not in pending])
    if not damaged and not pending:
        return client
    marker.write([*pending, *damaged])
    if damaged:
        release_client(client, chroma_path)
        moved = quarantine_vector_segments(chroma_path, damaged)
        for path in moved:
            log.warning("moved damaged vector files to %s", path)
        client = reopen()
    for name in sorted({*pending, *damaged}):
        count = rebuild(client, name)
        log.warning(
            "rebuilt the vectors of %s (%d records) after an interrupted write", name, count
        )
    marker.clear()
    return client
