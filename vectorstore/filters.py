"""Search filters, and the one function that turns them into a Chroma ``where`` clause.

The caller's audience is part of every filter and is applied twice: documents are selected from
the registry by audience first, and the chunk query repeats the audience condition, so a chunk of
a staff document can never reach a public caller even if the registry and chunks disagreed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from assistant.models import Audience
from vectorstore.records import StoredChunk, StoredDocument


@dataclass(frozen=True)
class SearchFilter:
    """What a search may return. ``audience`` is the caller's and comes from authentication."""

    audience: Audience = "public"
    doc_ids: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    year: int | None = None
    quarters: tuple[int, ...] = ()

    def allows_document(self, doc: StoredDocument) -> bool:
        if not audience_may_see(self.audience, doc.audience):
            return False
        if self.doc_ids and doc.doc_id not in self.doc_ids:
            return False
        if self.organisations and doc.organisation.casefold() not in {
            o.casefold() for o in self.organisations
        }:
            return False
        return not (self.languages and doc.language not in self.languages)


def audience_may_see(caller: str, document_audience: str) -> bool:
    """Staff see everything; anyone else sees public documents only."""
    return caller == "staff" or document_audience == "public"


def chunk_where(flt: SearchFilter, allowed_version_keys: Iterable[str]) -> dict:
    """The Chroma ``where`` clause for chunks of the allowed document versions under ``flt``."""
    clauses: list[dict] = [{"vkey": {"$in": sorted(allowed_version_keys)}}]
    if flt.audience != "staff":
        clauses.append({"audience": "public"})
    if flt.year is not None:
        clauses.append({"year": flt.year})
    if flt.quarters:
        quarter_clauses = [{"quarters": {"$contains": q}} for q in flt.quarters]
        clauses.append(
            quarter_clauses[0] if len(quarter_clauses) == 1 else {"$or": quarter_clauses}
        )
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def visible_share(flt: SearchFilter, documents: Iterable[StoredDocument]) -> float:
    """Of the registered chunks the caller's audience may see, the share that ``flt`` admits
    at document level (it sizes the nearest-neighbour query: ``assistant.retrieval.dense``)."""
    population = admitted = 0
    for doc in documents:
        if audience_may_see(flt.audience, doc.audience):
            population += doc.chunk_count
            if flt.allows_document(doc):
                admitted += doc.chunk_count
    return admitted / population if population else 0.0


def chunk_allowed(flt: SearchFilter, chunk: StoredChunk, allowed_version_keys: set[str]) -> bool:
    """The in-memory twin of :func:`chunk_where`, for indexes outside Chroma (BM25)."""
    if chunk.version_key not in allowed_version_keys:
        return False
    if not audience_may_see(flt.audience, chunk.audience):
        return False
    if flt.year is not None and chunk.year != flt.year:
        return False
    return not (flt.quarters and not set(flt.quarters) & set(chunk.quarters))
