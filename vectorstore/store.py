"""The index in Chroma: a chunk collection (vectors, quotes, metadata) and a document registry.

Consistency without transactions: every chunk carries its document's version key, and readers
only see chunks whose version is the one the registry names. Replacing a document therefore
writes the new chunks first (invisible), then flips the registry record (one atomic upsert), then
deletes the old chunks. A process killed at any point leaves either the old or the new version
visible, never a mix; invisible leftovers are removed by :meth:`ChromaStore.collect_garbage`.
Everything lives in Chroma, so several API workers sharing one Chroma server need nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from assistant.embedders.base import EmbedderInfo
from assistant.errors import DocumentNotFound, EmbedderMismatch, StoreError
from assistant.models import Chunk, DocumentMeta
from vectorstore.client import translate_errors
from vectorstore.filters import SearchFilter, chunk_where
from vectorstore.records import (
    StoredChunk,
    StoredDocument,
    chunk_from_record,
    chunk_id,
    chunk_metadata,
    document_from_record,
    document_metadata,
    version_key,
)

log = logging.getLogger(__name__)
WRITE_BATCH = 256
SCHEMA_VERSION = 1


class ChromaStore:
    """Chunks and documents of one index (collection prefix) in one Chroma client."""

    def __init__(self, client, prefix: str, embedder: EmbedderInfo, where: str = "Chroma") -> None:
        self.client = client
        self.prefix = prefix
        self.embedder = embedder
        self.where = where
        with translate_errors(where):
            self.chunks = self._open_chunks()
            self.docs = client.get_or_create_collection(
                f"{prefix}_documents", metadata={"hnsw:space": "l2"}, embedding_function=None
            )

    # --- opening -------------------------------------------------------------------------
    def _open_chunks(self):
        name = f"{self.prefix}_chunks"
        wanted = {"hnsw:space": "cosine", "schema": SCHEMA_VERSION, **self.embedder.as_metadata()}
        collection = self.client.get_or_create_collection(
            name, metadata=wanted, embedding_function=None
        )
        found = collection.metadata or {}
        recorded = EmbedderInfo(
            str(found.get("embedder_backend")),
            str(found.get("embedder_model")),
            int(found.get("embedder_dim", 0) or 0),
        )
        if recorded != self.embedder:
            raise EmbedderMismatch(
                f"the index was built with {recorded.describe()} but {self.embedder.describe()} "
                "is configured; run `strategy-assistant reindex` to rebuild the embeddings, or "
                "configure the embedder that built it",
                index=recorded.describe(),
                configured=self.embedder.describe(),
            )
        return collection

    # --- registry ------------------------------------------------------------------------
    def documents(self, flt: SearchFilter | None = None) -> list[StoredDocument]:
        """All registered documents (metadata only) that ``flt`` allows, sorted by id."""
        with translate_errors(self.where):
            got = self.docs.get(include=["metadatas"])
        docs = [document_from_record(i, md or {}) for i, md in zip(got["ids"], got["metadatas"])]
        if flt is not None:
            docs = [d for d in docs if flt.allows_document(d)]
        return sorted(docs, key=lambda d: d.doc_id)

    def get_document(self, doc_id: str, flt: SearchFilter | None = None) -> StoredDocument:
        """One document with its cleaned text. Invisible documents are reported as missing."""
        with translate_errors(self.where):
            got = self.docs.get(ids=[doc_id], include=["metadatas", "documents"])
        if not got["ids"]:
            raise DocumentNotFound(f"no document with id {doc_id!r}", doc_id=doc_id)
        doc = document_from_record(doc_id, got["metadatas"][0] or {}, got["documents"][0])
        if flt is not None and not flt.allows_document(doc):
            raise DocumentNotFound(f"no document with id {doc_id!r}", doc_id=doc_id)
        return doc

    def version_of(self, doc_id: str) -> str | None:
        with translate_errors(self.where):
            got = self.docs.get(ids=[doc_id], include=["metadatas"])
        return str(got["metadatas"][0].get("version")) if got["ids"] else None

    # --- writing -------------------------------------------------------------------------
    def replace_document(
        self,
        meta: DocumentMeta,
        version: str,
        text: str,
        chunks: Sequence[Chunk],
        embeddings: Sequence[Sequence[float]],
    ) -> None:
        """Make ``version`` of the document the visible one (see the module docstring)."""
        if len(chunks) != len(embeddings):
            raise StoreError("chunks and embeddings differ in number", doc_id=meta.doc_id)
        ids = [chunk_id(meta.doc_id, version, c.index) for c in chunks]
        metadatas = [chunk_metadata(c, meta, version) for c in chunks]
        with translate_errors(self.where):
            for i in range(0, len(ids), WRITE_BATCH):
                sl = slice(i, i + WRITE_BATCH)
                self.chunks.upsert(
                    ids=ids[sl],
                    embeddings=[list(e) for e in embeddings[sl]],
                    documents=[c.text for c in chunks[sl]],
                    metadatas=metadatas[sl],
                )
            now = datetime.now(UTC).isoformat(timespec="seconds")
            self.docs.upsert(
                ids=[meta.doc_id],
                embeddings=[[1.0]],
                documents=[text],
                metadatas=[document_metadata(meta, version, len(chunks), now)],
            )
            self.chunks.delete(
                where={"$and": [{"doc_id": meta.doc_id}, {"version": {"$ne": version}}]}
            )

    def remove_document(self, doc_id: str) -> None:
        """Unregister the document (it vanishes for readers at once), then drop its chunks."""
        if self.version_of(doc_id) is None:
            raise DocumentNotFound(f"no document with id {doc_id!r}", doc_id=doc_id)
        with translate_errors(self.where):
            self.docs.delete(ids=[doc_id])
            self.chunks.delete(where={"doc_id": doc_id})

    def collect_garbage(self) -> int:
        """Delete chunks no registered version owns (left by an interrupted ingest)."""
        active = [d.version_key for d in self.documents()]
        with translate_errors(self.where):
            where = {"vkey": {"$nin": active}} if active else None
            got = self.chunks.get(where=where, include=[])
            if got["ids"]:
                log.info("removing %d orphan chunks", len(got["ids"]))
                self.chunks.delete(ids=got["ids"])
        return len(got["ids"])

    # --- reading -------------------------------------------------------------------------
    def allowed_version_keys(self, flt: SearchFilter) -> list[str]:
        return [d.version_key for d in self.documents(flt)]

    def query(
        self,
        embedding: Sequence[float],
        k: int,
        flt: SearchFilter,
        allowed: Sequence[str] | None = None,
    ) -> list[tuple[StoredChunk, float]]:
        """The ``k`` nearest visible chunks under ``flt``, with cosine similarity.

        ``allowed`` (version keys the filter admits) saves a registry read when known already.
        """
        if allowed is None:
            allowed = self.allowed_version_keys(flt)
        if not allowed or k <= 0:
            return []
        with translate_errors(self.where):
            got = self.chunks.query(
                query_embeddings=[list(embedding)],
                n_results=k,
                where=chunk_where(flt, allowed),
                include=["documents", "metadatas", "distances"],
            )
        return [
            (chunk_from_record(i, doc, md), 1.0 - float(dist))
            for i, doc, md, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0]
            )
        ]

    def chunks_where(self, flt: SearchFilter, *, include_embeddings: bool = False) -> list[StoredChunk]:
        """All visible chunks under ``flt`` (for the lexical index and neighbour expansion)."""
        allowed = self.allowed_version_keys(flt)
        if not allowed:
            return []
        include = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        with translate_errors(self.where):
            got = self.chunks.get(where=chunk_where(flt, allowed), include=include)
        out = []
        for n, (i, doc, md) in enumerate(zip(got["ids"], got["documents"], got["metadatas"])):
            chunk = chunk_from_record(i, doc, md)
            if include_embeddings:
                chunk.extra["embedding"] = list(got["embeddings"][n])
            out.append(chunk)
        return sorted(out, key=lambda c: (c.doc_id, c.index))

    def count_chunks(self) -> int:
        with translate_errors(self.where):
            return self.chunks.count()

    def version_signature(self) -> tuple[str, ...]:
        """Identifies the visible content; changes whenever any document is added, replaced or
        removed. The lexical index compares it to know when to rebuild."""
        return tuple(sorted(d.version_key for d in self.documents()))


def open_store(settings, embedder_info: EmbedderInfo) -> ChromaStore:
    """Open the configured index, checking that ``embedder_info`` built it."""
    from vectorstore.client import open_client

    where = (
        f"Chroma server at {settings.chroma_url}" if settings.chroma_url else f"Chroma at {settings.chroma_path}"
    )
    return ChromaStore(open_client(settings), settings.collection, embedder_info, where)


__all__ = ["ChromaStore", "open_store", "version_key"]


def rebuild_embeddings(settings, embedder, on_progress=None) -> int:
    """Re-embed every stored chunk with ``embedder`` (after the embedder changed).

    The quotes and their context headers are in the index already, so no source file is needed.
    The new vectors go into a fresh collection that replaces the old one only when complete, so an
    interrupted rebuild leaves the old index intact.
    """
    from vectorstore.client import open_client

    client = open_client(settings)
    info = embedder.info()
    name = f"{settings.collection}_chunks"
    tmp_name = f"{settings.collection}_chunks_rebuild"
    where = "Chroma"
    with translate_errors(where):
        existing = {c.name if hasattr(c, "name") else str(c) for c in client.list_collections()}
        if name not in existing:
            return 0
        old = client.get_collection(name, embedding_function=None)
        got = old.get(include=["documents", "metadatas"])
        if tmp_name in existing:
            client.delete_collection(tmp_name)
        new = client.create_collection(
            tmp_name,
            metadata={"hnsw:space": "cosine", "schema": SCHEMA_VERSION, **info.as_metadata()},
            embedding_function=None,
        )
    total = len(got["ids"])
    for i in range(0, total, WRITE_BATCH):
        ids = got["ids"][i : i + WRITE_BATCH]
        docs = got["documents"][i : i + WRITE_BATCH]
        mds = got["metadatas"][i : i + WRITE_BATCH]
        texts = [f"{md.get('header', '')}\n{doc}" if md.get("header") else doc for doc, md in zip(docs, mds)]
        vectors = embedder.embed_passages(texts)
        with translate_errors(where):
            new.upsert(ids=ids, embeddings=vectors, documents=docs, metadatas=mds)
        if on_progress:
            on_progress("reindex", min(i + WRITE_BATCH, total), total)
    with translate_errors(where):
        client.delete_collection(name)
        new.modify(name=name)
    return total
