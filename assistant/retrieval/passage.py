"""A retrieved passage: a stored chunk with how it was found."""

from __future__ import annotations

from dataclasses import dataclass

from vectorstore.records import StoredChunk


@dataclass(frozen=True)
class Passage:
    """One ranked search result.

    ``score`` is the fused score used for ranking (comparable within one search only);
    ``dense`` is the cosine similarity and ``lexical`` the BM25 score when that side found it.
    ``expanded_from`` names the hit that pulled this neighbour in.
    """

    chunk: StoredChunk
    score: float
    dense: float | None = None
    lexical: float | None = None
    expanded_from: str | None = None

    @property
    def chunk_id(self) -> str:
        return self.chunk.chunk_id
