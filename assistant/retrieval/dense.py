"""The dense side of retrieval: nearest chunks, and chunks ranked by their nearest sentence unit.

A filtered nearest-neighbour query makes Chroma evaluate the ``where`` clause (an ``$in`` over
every visible document version, the audience) against the metadata of every record, and reading
the hits' metadata back costs more again; both grow with the corpus (at 100x the demo corpus,
~40 ms for chunks and ~80 ms for units per query, against ~3 ms for the bare vector search).

So the search asks Chroma for ids and distances only, without a filter, for enough neighbours
that the ``k`` best visible ones are among them (``k`` divided by the visible share, with room to
spare), and decides visibility in memory against the table of visible chunks that the BM25 index
keeps in step with the registry. The top ``k`` of a subset are its first ``k`` members in the
overall order, so the result is the filtered query's. Public callers search the public mirror
collections (public documents only), so staff text never crowds their neighbours. When fewer
than ``k`` survive (leftovers of an interrupted ingest near the query, a narrow year filter), the
fetch is retried larger; when that does not pay either, the filtered query runs instead. Either way only chunks the table holds and
the filter admits are returned: ids that Chroma returns for unregistered versions are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vectorstore.filters import SearchFilter, chunk_allowed, chunk_where
from vectorstore.records import StoredChunk
from vectorstore.store import ChromaStore

#: Over-fetch this much beyond ``k / share``, plus a few, against unlucky clusters of leftovers.
SLACK = 1.3
EXTRA = 8
#: A fetch that falls short is retried this many times larger (invisible records cluster: a
#: public question about a staff-only topic has staff text all around it) ...
ESCALATE = 4
#: ... up to this many neighbours; beyond it the filtered query is the cheaper one (ids-only
#: queries cost ~4 ms per 1000 neighbours at 100x the demo corpus, the filtered one ~40-80 ms).
MAX_FETCH = 4000

Lookup = Callable[[str], StoredChunk | None]


def unit_chunk_id(unit_id: str) -> str:
    """Unit ids are ``<chunk id>::<unit index>`` (see ``ChromaStore._write_units``)."""
    return unit_id.rsplit("::", 1)[0]


class DenseSearch:
    def __init__(self, store: ChromaStore) -> None:
        self.store = store

    def chunks(
        self,
        vector: Sequence[float],
        k: int,
        flt: SearchFilter,
        allowed: set[str],
        share: float,
        lookup: Lookup,
    ) -> list[tuple[StoredChunk, float]]:
        """The ``k`` nearest chunks ``flt`` admits, with cosine similarity."""
        return self._nearest("chunks", vector, k, flt, allowed, share, lookup, str)

    def units(
        self,
        vector: Sequence[float],
        k: int,
        flt: SearchFilter,
        allowed: set[str],
        share: float,
        lookup: Lookup,
    ) -> list[tuple[str, float]]:
        """Chunk ids ranked by their best unit among the ``k`` nearest visible units.

        Units carry document-level metadata only: like the filtered query they replace, they
        are filtered by audience and visible version; year and quarter apply to their chunks.
        """
        by_audience = SearchFilter(audience=flt.audience)
        hits = self._nearest("units", vector, k, by_audience, allowed, share, lookup, unit_chunk_id)
        best: dict[str, float] = {}
        for chunk, sim in hits:
            best.setdefault(chunk.chunk_id, sim)
        return list(best.items())

    def _nearest(self, kind, vector, k, flt, allowed, share, lookup, to_chunk_id):
        if k <= 0 or not allowed:
            return []

        def keep(chunk: StoredChunk) -> bool:
            return chunk_allowed(flt, chunk, allowed)

        fetch = int(k / share * SLACK) + EXTRA if share > 0 else MAX_FETCH + 1
        public_only = flt.audience != "staff"
        while fetch <= MAX_FETCH:
            hits = self.store.nearest(kind, vector, fetch, public_only=public_only)
            out = self._resolve(hits, lookup, keep, to_chunk_id)
            if len(out) >= k or len(hits) < fetch:
                return out[:k]
            if fetch == MAX_FETCH:
                break
            fetch = min(fetch * ESCALATE, MAX_FETCH)
        where = chunk_where(flt, sorted(allowed))
        hits = self.store.nearest(kind, vector, k, where, public_only=public_only)
        return self._resolve(hits, lookup, keep, to_chunk_id)[:k]

    @staticmethod
    def _resolve(hits, lookup: Lookup, keep, to_chunk_id) -> list[tuple[StoredChunk, float]]:
        out = []
        for record_id, sim in hits:
            chunk = lookup(to_chunk_id(record_id))
            if chunk is not None and keep(chunk):
                out.append((chunk, sim))
        return out
