"""Passage-embedding cache keyed by content hash.

Re-ingesting a changed document re-embeds only its changed chunks, and a rebuilt index (tests,
``reindex`` after a crash) costs no model time for text seen before. The key includes the embedder
identity, so vectors of different models never mix. SQLite in WAL mode lets several processes on
one machine share the file; a failing cache degrades to no cache, never to a failed ingest.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.embedders.base import Embedder, EmbedderInfo

log = logging.getLogger(__name__)


def content_key(info: EmbedderInfo, text: str) -> str:
    return hashlib.sha256(f"{info.describe()}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """A small key → float32 vector store in SQLite."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")
                self._conn = conn
            except (sqlite3.Error, OSError) as exc:
                log.warning("embedding cache disabled (%s): %s", self.path, exc)
                return None
        return self._conn

    def get_many(self, keys: Sequence[str]) -> dict[str, list[float]]:
        with self._lock:
            conn = self._connect()
            if conn is None or not keys:
                return {}
            found: dict[str, list[float]] = {}
            try:
                for i in range(0, len(keys), 500):
                    part = list(keys[i : i + 500])
                    marks = ",".join("?" * len(part))
                    rows = conn.execute(
                        f"SELECT key, vec FROM vectors WHERE key IN ({marks})", part
                    )
                    for key, blob in rows:
                        found[key] = np.frombuffer(blob, dtype=np.float32).tolist()
            except sqlite3.Error as exc:
                log.warning("embedding cache read failed: %s", exc)
            return found

    def put_many(self, items: dict[str, list[float]]) -> None:
        with self._lock:
            conn = self._connect()
            if conn is None or not items:
                return
            try:
                with conn:
                    conn.executemany(
                        "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                        [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
                    )
            except sqlite3.Error as exc:
                log.warning("embedding cache write failed: %s", exc)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class CachedEmbedder:
    """Wraps an :class:`Embedder`; passages are looked up in the cache before the model runs.

    ``model_calls`` counts passages actually embedded, so tests and benchmarks can prove that
    unchanged chunks are never embedded twice.
    """

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self.inner = inner
        self.cache = cache
        self.model_calls = 0
        self._info: EmbedderInfo | None = None

    def info(self) -> EmbedderInfo:
        if self._info is None:
            self._info = self.inner.info()
        return self._info

    def warm_up(self) -> None:
        self.inner.warm_up()

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        info = self.info()
        keys = [content_key(info, t) for t in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)))
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in found))
        if missing:
            vectors = self.inner.embed_passages(missing)
            self.model_calls += len(missing)
            fresh = {content_key(info, t): v for t, v in zip(missing, vectors, strict=True)}
            self.cache.put_many(fresh)
            found.update(fresh)
        return [found[k] for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)
