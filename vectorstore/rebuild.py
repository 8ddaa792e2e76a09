"""Rebuilding collections from their own records: after the embedder changed (``reindex``) and
after a killed process damaged an embedded collection's vector files (:mod:`vectorstore.repair`).

The texts that were embedded are in the index already (chunk quotes with their context header,
unit texts), so no source file is needed. Each collection is rebuilt into a fresh one that
replaces it only when complete; if the process dies during the swap, the next rebuild of the
same name finishes it instead of starting over from an empty collection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vectorstore.client import open_client, translate_errors
from vectorstore.paging import get_all
from vectorstore.repair import RepairMarker, repair_embedded
from vectorstore.store import VECTOR_INDEX, WRITE_BATCH

Vectors = Callable[[Sequence[str], Sequence[dict]], list[list[float]]]
Progress = Callable[[str, int, int], None]


def collection_plans(settings, embedder) -> dict[str, tuple[dict, Vectors]]:
    """For each collection of the index: its creation metadata and how to compute its vectors."""
    info = embedder.info()
    vector_md = {**VECTOR_INDEX, **info.as_metadata()}

    def chunk_vectors(docs, mds):
        return embedder.embed_passages(
            [
                f"{md['header']}\n{doc}" if md.get("header") else doc
                for doc, md in zip(docs, mds, strict=True)
            ]
        )

    def unit_vectors(docs, mds):
        return embedder.embed_passages(list(docs))

    def registry_vectors(docs, mds):
        return [[1.0] for _ in docs]

    prefix = settings.collection
    return {
        f"{prefix}_chunks": (vector_md, chunk_vectors),
        f"{prefix}_units": (vector_md, unit_vectors),
        f"{prefix}_chunks_public": (vector_md, chunk_vectors),
        f"{prefix}_units_public": (vector_md, unit_vectors),
        f"{prefix}_documents": ({"hnsw:space": "l2"}, registry_vectors),
        f"{prefix}_state": ({"hnsw:space": "l2"}, registry_vectors),
    }


def collection_names(client) -> set[str]:
    return {c.name if hasattr(c, "name") else str(c) for c in client.list_collections()}


def rebuild_collection(
    client, name: str, metadata: dict, vectors: Vectors, on_progress: Progress | None = None
) -> int:
    """Rebuild ``name`` with fresh vectors; returns its record count."""
    tmp_name = f"{name}_rebuild"
    existing = collection_names(client)
    if name not in existing:
        if tmp_name in existing:  # the old one was dropped only after this one was complete
            new = client.get_collection(tmp_name, embedding_function=None)
            new.modify(name=name)
            return new.count()
        return 0
    old = client.get_collection(name, embedding_function=None)
    got = get_all(old, include=["documents", "metadatas"])
    if tmp_name in existing:
        client.delete_collection(tmp_name)
    new = client.create_collection(tmp_name, metadata=metadata, embedding_function=None)
    total = len(got["ids"])
    for i in range(0, total, WRITE_BATCH):
        sl = slice(i, i + WRITE_BATCH)
        docs, mds = got["documents"][sl], got["metadatas"][sl]
        new.upsert(ids=got["ids"][sl], embeddings=vectors(docs, mds), documents=docs, metadatas=mds)
        if on_progress:
            on_progress("rebuild", min(i + WRITE_BATCH, total), total)
    client.delete_collection(name)
    new.modify(name=name)
    return total


def rebuild_embeddings(settings, embedder, on_progress: Progress | None = None) -> int:
    """Re-embed every stored chunk and unit with ``embedder`` (after the embedder changed).

    Returns the chunk count. With an embedded store the work is recorded in the repair marker,
    so a rebuild that is interrupted is finished when the index is next opened.
    """
    plans = collection_plans(settings, embedder)
    vector_names = [n for n in plans if not n.endswith(("_documents", "_state"))]
    marker = None if settings.chroma_url else RepairMarker(settings.data_dir)
    with translate_errors("Chroma"):
        client = open_client(settings)
        if marker:
            marker.write([*marker.pending(), *vector_names])
        counts = [
            rebuild_collection(client, name, *plans[name], on_progress if n == 0 else None)
            for n, name in enumerate(vector_names)
        ]
    if marker:
        marker.clear()
    return counts[0]


def repair_on_open(client, settings, embedder):
    """Repair damaged or half-rebuilt collections of an embedded index (see
    :mod:`vectorstore.repair`); returns the client to use."""
    plans = collection_plans(settings, embedder)
    return repair_embedded(
        client,
        settings.chroma_path,
        settings.data_dir,
        list(plans),
        reopen=lambda: open_client(settings),
        rebuild=lambda c, name: rebuild_collection(c, name, *plans[name]),
    )
