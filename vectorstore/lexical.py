"""BM25 over the chunks Chroma holds, kept in step with it.

The index is derived data: it is built from the visible chunks of the store and tagged with the
store's version signature. Before each search the caller passes the current signature; when any
document was added, replaced or removed (possibly by another worker sharing a Chroma server) the
index is rebuilt, so it never serves deleted text. Filtering happens by masking scores with the
chunk ids the caller may see — the audience rule is enforced here too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence

import numpy as np

from vectorstore.analysis import Analyzer
from vectorstore.records import StoredChunk


class LexicalIndex:
    """A bm25s index over chunk header + quote, one Snowball stemmer per chunk language."""

    def __init__(self, languages: Sequence[str] = ("da", "sv", "en")) -> None:
        self.languages = tuple(languages)
        self.signature: tuple[str, ...] | None = None
        self.chunks: list[StoredChunk] = []
        self._position: dict[str, int] = {}
        self._bm25 = None
        self._analyzer = Analyzer()
        self._lock = threading.Lock()
        #: Words and stems (all languages) per audience that can see them: what the corpus
        #: mentions at all. The answerer uses it to notice questions about things never mentioned.
        self.vocabulary: dict[str, frozenset[str]] = {"public": frozenset(), "staff": frozenset()}

    def ensure(
        self, signature: tuple[str, ...], load_chunks: Callable[[], list[StoredChunk]]
    ) -> None:
        """Rebuild from ``load_chunks()`` unless already built for ``signature``."""
        if signature == self.signature:
            return
        with self._lock:
            if signature != self.signature:
                self._build(load_chunks())
                self.signature = signature

    def _build(self, chunks: list[StoredChunk]) -> None:
        import bm25s

        # bm25s sets its own logger to DEBUG on import and would log every rebuild.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.chunks = chunks
        self._position = {c.chunk_id: i for i, c in enumerate(chunks)}
        texts = [f"{c.header}\n{c.text}" for c in chunks]
        self._analyzer = Analyzer(Analyzer.vocabulary_of(texts))
        corpus = [
            self._analyzer.terms(t, c.language or "da") for t, c in zip(texts, chunks, strict=False)
        ]
        self.vocabulary = _vocabularies(texts, chunks, self.languages)
        if not chunks:
            self._bm25 = None
            return
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        self._bm25 = bm25

    def search(
        self, query: str, k: int, allowed_ids: Collection[str]
    ) -> list[tuple[StoredChunk, float]]:
        """Top ``k`` chunks by BM25 among ``allowed_ids`` (positive scores only)."""
        if self._bm25 is None or not allowed_ids or k <= 0:
            return []
        terms = self._analyzer.query_terms(query, self.languages)
        if not terms:
            return []
        scores = np.asarray(self._bm25.get_scores(terms), dtype=np.float32)
        mask = np.zeros(len(self.chunks), dtype=bool)
        for cid in allowed_ids:
            pos = self._position.get(cid)
            if pos is not None:
                mask[pos] = True
        scores = np.where(mask, scores, 0.0)
        top = np.argsort(-scores, kind="stable")[:k]
        return [(self.chunks[i], float(scores[i])) for i in top if scores[i] > 0]

    def __len__(self) -> int:
        return len(self.chunks)


def _vocabularies(
    texts: Sequence[str], chunks: Sequence[StoredChunk], languages: Sequence[str]
) -> dict[str, frozenset[str]]:
    from vectorstore.analysis import stem_all, words

    public: set[str] = set()
    everything: set[str] = set()
    for text, chunk in zip(texts, chunks, strict=False):
        tokens = set(words(text))
        terms = tokens | {s for lang in languages for s in stem_all(tokens, lang)}
        everything |= terms
        if chunk.audience == "public":
            public |= terms
    return {"public": frozenset(public), "staff": frozenset(everything)}
