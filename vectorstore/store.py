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
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from assistant.embedders.base import EmbedderInfo
from assistant.errors import DocumentNotFound, EmbedderMismatch, StoreError
from assistant.models import Chunk, DocumentMeta
from vectorstore.client import translate_errors
from vectorstore.filters import SearchFilter, chunk_where
from vectorstore.paging import PAGE, get_all
from vectorstore.records import (
    StoredChunk,
    StoredDocument,
    chunk_from_record,
    chunk_id,
    chunk_metadata,
    document_from_record,
    document_metadata,
    version_key,
    version_signature,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnitRecord:
    """A sentence or list item of chunk ``chunk_index`` to embed and store; ``embed_text`` is
    what was embedded (section path and unit text), kept for ``reindex``."""

    chunk_index: int
    index: int
    start: int
    end: int
    is_item: bool
    embed_text: str


@dataclass(frozen=True)
class UnitVector:
    start: int
    end: int
    is_item: bool
    vector: list[float]


WRITE_BATCH = 256
#: How long a process may use its copy of the registry without seeing the change token move: it
#: only matters when a writer died between changing the registry and moving the token (readers
#: then keep the old version, complete, until the copy expires); re-reading costs ~0.4 s at
#: 5,000 documents, so not too often.
REGISTRY_TTL_S = 30.0
REGISTRY_TOKEN = "registry"
SCHEMA_VERSION = 1
#: HNSW settings of the vector collections. Chroma's default search breadth (100) missed true
#: nearest neighbours among ~700 sentence vectors in our tests, and 256 still did now and then;
#: at 1024 the search is exact for corpora of this size, costs a few ms at 100x, and results are
#: the same across builds (embedded vs server).
VECTOR_INDEX = {
    "hnsw:space": "cosine",
    "hnsw:search_ef": 1024,
    "hnsw:construction_ef": 256,
    "schema": SCHEMA_VERSION,
}


class ChromaStore:
    """Chunks and documents of one index (collection prefix) in one Chroma client."""

    def __init__(
        self,
        client,
        prefix: str,
        embedder: EmbedderInfo,
        where: str = "Chroma",
        registry_ttl_s: float = REGISTRY_TTL_S,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.embedder = embedder
        self.where = where
        self.registry_ttl_s = registry_ttl_s
        self._registry: tuple[str, float, list[StoredDocument]] | None = None
        with translate_errors(where):
            self.chunks = self._open_vectors(f"{prefix}_chunks")
            self.units = self._open_vectors(f"{prefix}_units")
            self.public_chunks = self._open_vectors(f"{prefix}_chunks_public")
            self.public_units = self._open_vectors(f"{prefix}_units_public")
            self.docs = client.get_or_create_collection(
                f"{prefix}_documents", metadata={"hnsw:space": "l2"}, embedding_function=None
            )
            self.state = client.get_or_create_collection(
                f"{prefix}_state", metadata={"hnsw:space": "l2"}, embedding_function=None
            )
            self._complete_mirrors()

    # --- opening -------------------------------------------------------------------------
    def _open_vectors(self, name: str):
        wanted = {**VECTOR_INDEX, **self.embedder.as_metadata()}
        collection = self.client.get_or_create_collection(
            name, metadata=wanted, embedding_function=None
        )
        self._widen_search(collection)
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

    @staticmethod
    def _widen_search(collection) -> None:
        """Collections created before the search breadth was raised keep their old setting;
        raise it on open (the construction parameters only change with ``reindex``)."""
        wanted = VECTOR_INDEX["hnsw:search_ef"]
        config = getattr(collection, "configuration_json", None) or {}
        current = (config.get("hnsw") or {}).get("ef_search")
        if isinstance(current, int) and current < wanted:
            try:
                collection.modify(configuration={"hnsw": {"ef_search": wanted}})
            except Exception as exc:  # an older server may refuse; search still works
                log.warning("could not widen the search of %s: %s", collection.name, exc)

    def _complete_mirrors(self) -> None:
        """Copy into the public mirrors whatever public records they lack: an index from before
        the mirrors existed, or a writer that stopped between a collection and its mirror.
        Vectors are copied, not recomputed."""
        docs = [d for d in self.documents() if d.audience == "public"]
        if not docs:
            return
        public = [d.version_key for d in docs]
        counted = all(d.unit_count is not None for d in docs)
        expected = {
            "chunks": sum(d.chunk_count for d in docs),
            "units": sum(d.unit_count or 0 for d in docs) if counted else None,
        }
        for kind, main, mirror in (
            ("chunks", self.chunks, self.public_chunks),
            ("units", self.units, self.public_units),
        ):
            # The usual case, checked cheaply: the mirror holds as many records as the registry
            # says the public documents have (leftovers are collected by the next ingest).
            if expected[kind] is not None and mirror.count() == expected[kind]:
                continue
            wanted = get_all(main, where={"vkey": {"$in": public}})["ids"]
            have = set(get_all(mirror)["ids"])
            missing = [i for i in wanted if i not in have]
            if missing:
                log.warning("copying %d records into %s", len(missing), mirror.name)
            for i in range(0, len(missing), WRITE_BATCH):
                got = main.get(
                    ids=missing[i : i + WRITE_BATCH],
                    include=["embeddings", "documents", "metadatas"],
                )
                mirror.upsert(
                    ids=got["ids"],
                    embeddings=[list(e) for e in got["embeddings"]],
                    documents=got["documents"],
                    metadatas=got["metadatas"],
                )

    # --- registry ------------------------------------------------------------------------
    def documents(self, flt: SearchFilter | None = None) -> list[StoredDocument]:
        """All registered documents (metadata only) that ``flt`` allows, sorted by id."""
        docs = self._read_registry()
        if flt is not None:
            docs = [d for d in docs if flt.allows_document(d)]
        return docs

    def _read_registry(self) -> list[StoredDocument]:
        """The registry, re-read only when its change token moved (or the copy is old).

        Every search needs the registry, and reading it back from Chroma costs ~35 ms at 500
        documents; the token is one tiny record. Writers move it after each registry change
        (:meth:`_registry_changed`); the token is read before the registry, so a change that
        lands in between is seen on the next call. The age limit covers a writer killed between
        its registry change and the token move.
        """
        with translate_errors(self.where):
            got = self.state.get(ids=[REGISTRY_TOKEN], include=["metadatas"])
            token = str(got["metadatas"][0].get("token")) if got["ids"] else ""
            cached, now = self._registry, time.monotonic()
            if cached and cached[0] == token and now - cached[1] < self.registry_ttl_s:
                return cached[2]
            got = get_all(self.docs, include=["metadatas"])
        docs = sorted(
            (
                document_from_record(i, md or {})
                for i, md in zip(got["ids"], got["metadatas"], strict=False)
            ),
            key=lambda d: d.doc_id,
        )
        self._registry = (token, now, docs)
        return docs

    def _registry_changed(self) -> None:
        """Move the change token: every process re-reads the registry on its next search."""
        self._registry = None
        self.state.upsert(
            ids=[REGISTRY_TOKEN], embeddings=[[1.0]], metadatas=[{"token": uuid.uuid4().hex}]
        )

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
        units: Sequence[UnitRecord] = (),
        unit_embeddings: Sequence[Sequence[float]] = (),
    ) -> None:
        """Make ``version`` of the document the visible one (see the module docstring).

        ``units`` are the sentences and list items of the chunks with their own vectors; the
        extractive answerer picks from them.
        """
        if len(chunks) != len(embeddings) or len(units) != len(unit_embeddings):
            raise StoreError("records and embeddings differ in number", doc_id=meta.doc_id)
        ids = [chunk_id(meta.doc_id, version, c.index) for c in chunks]
        metadatas = [chunk_metadata(c, meta, version) for c in chunks]
        targets = self._targets(meta.audience)
        with translate_errors(self.where):
            for i in range(0, len(ids), WRITE_BATCH):
                sl = slice(i, i + WRITE_BATCH)
                for collection in targets["chunks"]:
                    collection.upsert(
                        ids=ids[sl],
                        embeddings=[list(e) for e in embeddings[sl]],
                        documents=[c.text for c in chunks[sl]],
                        metadatas=metadatas[sl],
                    )
            self._write_units(meta, version, units, unit_embeddings, targets["units"])
            now = datetime.now(UTC).isoformat(timespec="seconds")
            self.docs.upsert(
                ids=[meta.doc_id],
                embeddings=[[1.0]],
                documents=[text],
                metadatas=[document_metadata(meta, version, len(chunks), now, len(units))],
            )
            self._registry_changed()
            stale = {"$and": [{"doc_id": meta.doc_id}, {"version": {"$ne": version}}]}
            for collection in self.vector_collections:
                collection.delete(where=stale)

    @property
    def vector_collections(self) -> tuple:
        return (self.chunks, self.units, self.public_chunks, self.public_units)

    def _targets(self, audience: str) -> dict[str, tuple]:
        """Where a document's records go: everything into the main collections, and public
        documents' also into the public mirrors, which public searches use (see
        ``assistant.retrieval.dense``) so that staff text never even stands in their way."""
        if audience == "public":
            return {
                "chunks": (self.chunks, self.public_chunks),
                "units": (self.units, self.public_units),
            }
        return {"chunks": (self.chunks,), "units": (self.units,)}

    def _write_units(
        self,
        meta: DocumentMeta,
        version: str,
        units: Sequence[UnitRecord],
        vectors: Sequence[Sequence[float]],
        targets: tuple,
    ) -> None:
        for i in range(0, len(units), WRITE_BATCH):
            part = units[i : i + WRITE_BATCH]
            for collection in targets:
                self._upsert_units(collection, meta, version, part, vectors[i : i + WRITE_BATCH])

    @staticmethod
    def _upsert_units(collection, meta: DocumentMeta, version: str, part, vectors) -> None:
        collection.upsert(
            ids=[f"{chunk_id(meta.doc_id, version, u.chunk_index)}::{u.index:03d}" for u in part],
            embeddings=[list(v) for v in vectors],
            documents=[u.embed_text for u in part],
            metadatas=[
                {
                    "doc_id": meta.doc_id,
                    "version": version,
                    "vkey": version_key(meta.doc_id, version),
                    "chunk_id": chunk_id(meta.doc_id, version, u.chunk_index),
                    "start": u.start,
                    "end": u.end,
                    "is_item": u.is_item,
                    "audience": meta.audience,
                }
                for u in part
            ],
        )

    def remove_document(self, doc_id: str) -> None:
        """Unregister the document (it vanishes for readers at once), then drop its chunks."""
        if self.version_of(doc_id) is None:
            raise DocumentNotFound(f"no document with id {doc_id!r}", doc_id=doc_id)
        with translate_errors(self.where):
            self.docs.delete(ids=[doc_id])
            self._registry_changed()
            for collection in self.vector_collections:
                collection.delete(where={"doc_id": doc_id})

    def collect_garbage(self) -> int:
        """Delete chunks no registered version owns (left by an interrupted ingest)."""
        self._registry = None  # decide on the registry as it is now, never on a copy
        registry = self.documents()
        active = [d.version_key for d in registry]
        public = [d.version_key for d in registry if d.audience == "public"]
        removed = 0
        with translate_errors(self.where):
            for collection, keys in (
                (self.chunks, active),
                (self.units, active),
                (self.public_chunks, public),
                (self.public_units, public),
            ):
                where = {"vkey": {"$nin": keys}} if keys else None
                got = get_all(collection, where=where)
                if got["ids"]:
                    log.info("removing %d orphan records from %s", len(got["ids"]), collection.name)
                    for i in range(0, len(got["ids"]), PAGE):
                        collection.delete(ids=got["ids"][i : i + PAGE])
                    if collection is self.chunks:
                        removed = len(got["ids"])
        return removed

    def unit_vectors(self, chunk_ids: Sequence[str]) -> dict[str, list[UnitVector]]:
        """The embedded units of the given chunks, in document order, keyed by chunk id."""
        if not chunk_ids:
            return {}
        with translate_errors(self.where):
            got = self.units.get(
                where={"chunk_id": {"$in": list(chunk_ids)}}, include=["metadatas", "embeddings"]
            )
        out: dict[str, list[UnitVector]] = {}
        for md, vector in zip(got["metadatas"], got["embeddings"], strict=False):
            out.setdefault(str(md["chunk_id"]), []).append(
                UnitVector(int(md["start"]), int(md["end"]), bool(md.get("is_item")), list(vector))
            )
        for units in out.values():
            units.sort(key=lambda u: u.start)
        return out

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
        """The ``k`` nearest visible chunks under ``flt``, with cosine similarity: Chroma filters
        and returns the records itself. Searches go through :meth:`nearest` and
        ``assistant.retrieval.dense`` instead (cheaper at scale); this is the plain reading of
        the same question, which the tests hold the fast path to.

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
                got["ids"][0],
                got["documents"][0],
                got["metadatas"][0],
                got["distances"][0],
                strict=False,
            )
        ]

    def query_units(
        self, embedding: Sequence[float], k: int, flt: SearchFilter, allowed: Sequence[str]
    ) -> list[tuple[str, float]]:
        """Chunk ids ranked by their best-matching sentence or list item, with that similarity.

        A question usually matches one sentence of a chunk; ranking by the best unit finds
        chunks whose other content dilutes the chunk-level vector. Like :meth:`query`, the
        plain filtered reading that ``assistant.retrieval.dense`` is held to.
        """
        if not allowed or k <= 0:
            return []
        # Units carry document-level metadata only: year/quarter filters apply to their chunks.
        where = chunk_where(SearchFilter(audience=flt.audience), allowed)
        with translate_errors(self.where):
            got = self.units.query(
                query_embeddings=[list(embedding)],
                n_results=k,
                where=where,
                include=["metadatas", "distances"],
            )
        best: dict[str, float] = {}
        for md, dist in zip(got["metadatas"][0], got["distances"][0], strict=False):
            cid = str(md["chunk_id"])
            best.setdefault(cid, 1.0 - float(dist))
        return list(best.items())

    def nearest(
        self,
        kind: str,
        embedding: Sequence[float],
        n: int,
        where: dict | None = None,
        *,
        public_only: bool = False,
    ) -> list[tuple[str, float]]:
        """Ids and cosine similarities of the ``n`` records of ``kind`` (``chunks`` or
        ``units``) nearest to ``embedding``, under ``where`` if given; with ``public_only``
        from the public mirror (public documents' records only).

        Nothing but ids and distances is fetched: reading records' metadata back from Chroma
        costs more than the vector search itself once the corpus is large, and the retriever
        holds every visible chunk in memory already. Visibility is the caller's to decide.
        """
        if public_only:
            collection = self.public_chunks if kind == "chunks" else self.public_units
        else:
            collection = self.chunks if kind == "chunks" else self.units
        if n <= 0:
            return []
        with translate_errors(self.where):
            got = collection.query(
                query_embeddings=[list(embedding)], n_results=n, where=where, include=["distances"]
            )
        return [
            (i, 1.0 - float(d)) for i, d in zip(got["ids"][0], got["distances"][0], strict=False)
        ]

    def chunks_where(
        self, flt: SearchFilter, *, include_embeddings: bool = False
    ) -> list[StoredChunk]:
        """All visible chunks under ``flt`` (for the lexical index and neighbour expansion)."""
        allowed = self.allowed_version_keys(flt)
        if not allowed:
            return []
        include = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        with translate_errors(self.where):
            got = get_all(self.chunks, where=chunk_where(flt, allowed), include=include)
        out = []
        for n, (i, doc, md) in enumerate(
            zip(got["ids"], got["documents"], got["metadatas"], strict=False)
        ):
            chunk = chunk_from_record(i, doc, md)
            if include_embeddings:
                chunk.extra["embedding"] = list(got["embeddings"][n])
            out.append(chunk)
        return sorted(out, key=lambda c: (c.doc_id, c.index))

    def count_chunks(self) -> int:
        with translate_errors(self.where):
            return self.chunks.count()

    def version_signature(self) -> tuple[str, ...]:
        """The registry's :func:`vectorstore.records.version_signature`."""
        return version_signature(self.documents())


def open_store(settings, embedder) -> ChromaStore:
    """Open the configured index, checking that ``embedder`` built it.

    An embedded index whose vector files a killed process damaged is repaired first (see
    :mod:`vectorstore.repair`); that needs the embedder itself, not only its description.
    """
    from vectorstore.client import open_client

    where = (
        f"Chroma server at {settings.chroma_url}"
        if settings.chroma_url
        else f"Chroma at {settings.chroma_path}"
    )
    client = open_client(settings)
    if not settings.chroma_url:
        from vectorstore.rebuild import repair_on_open

        with translate_errors(where):
            client = repair_on_open(client, settings, embedder)
    return ChromaStore(client, settings.collection, embedder.info(), where)


__all__ = ["ChromaStore", "open_store", "version_key"]
