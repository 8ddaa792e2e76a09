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
from collections.abc import Callable, Sequence

import numpy as np

from vectorstore.analysis import Analyzer, NearSpellings
from vectorstore.records import StoredChunk

MASK_CACHE = 64


def audience_key(audience: str) -> str:
    """Staff see everything; anyone else what is public."""
    return "staff" if audience == "staff" else "public"


class LexicalIndex:
    """A bm25s index over chunk header + quote, one Snowball stemmer per chunk language."""

    def __init__(self, languages: Sequence[str] = ("da", "sv", "en")) -> None:
        self.languages = tuple(languages)
        self.signature: tuple[str, ...] | None = None
        self.chunks: list[StoredChunk] = []
        self._position: dict[str, int] = {}
        self._by_position: dict[tuple[str, int], StoredChunk] = {}
        self._masks: dict[object, np.ndarray] = {}
        self._bm25 = None
        self._analyzers = {"staff": Analyzer(), "public": Analyzer()}
        self._lock = threading.Lock()
        #: Words and stems (all languages) per audience that can see them: what the corpus
        #: mentions at all. The answerer uses it to notice questions about things never mentioned.
        self.vocabulary: dict[str, frozenset[str]] = {"public": frozenset(), "staff": frozenset()}
        self._spellings: dict[str, NearSpellings] = {}

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
        self._by_position = {(c.doc_id, c.index): c for c in chunks}
        self._masks = {}
        texts = [f"{c.header}\n{c.text}" for c in chunks]
        # Compounds are split into parts the corpus has on its own. A public question's only into
        # parts public text has: what a citizen types is never matched through a word only staff
        # documents have. (The chunks' own compounds are split with every part the corpus has.)
        everything = Analyzer(Analyzer.vocabulary_of(texts))
        public = Analyzer(
            Analyzer.vocabulary_of(
                t for t, c in zip(texts, chunks, strict=True) if c.audience == "public"
            )
        )
        self._analyzers = {"staff": everything, "public": public}
        corpus = [
            everything.terms(t, c.language or "da") for t, c in zip(texts, chunks, strict=True)
        ]
        self.vocabulary = _vocabularies(texts, chunks, self.languages)
        self._spellings = {}
        if not chunks:
            self._bm25 = None
            return
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        self._bm25 = bm25

    def get(self, chunk_id: str) -> StoredChunk | None:
        pos = self._position.get(chunk_id)
        return self.chunks[pos] if pos is not None else None

    def at(self, doc_id: str, index: int) -> StoredChunk | None:
        """The chunk at position ``index`` of document ``doc_id`` (its visible version)."""
        return self._by_position.get((doc_id, index))

    def mask(self, key: object, allowed: Callable[[StoredChunk], bool]) -> np.ndarray:
        """Which chunks ``allowed`` admits, cached under ``key`` until the next rebuild.

        The key must identify the filter and the registry state it was computed under (the
        caller's audience and the visible versions): deciding visibility chunk by chunk costs
        more than the BM25 scoring itself once the corpus is large.
        """
        cached = self._masks.get(key)
        if cached is None:
            cached = np.fromiter(
                (allowed(c) for c in self.chunks), dtype=bool, count=len(self.chunks)
            )
            if len(self._masks) >= MASK_CACHE:
                self._masks.pop(next(iter(self._masks)))
            self._masks[key] = cached
        return cached

    def search(
        self, query: str, k: int, mask: np.ndarray, audience: str = "public"
    ) -> list[tuple[StoredChunk, float]]:
        """Top ``k`` chunks by BM25 among those ``mask`` admits (positive scores only), the
        query analysed with what ``audience`` may see."""
        if self._bm25 is None or k <= 0 or len(mask) != len(self.chunks) or not mask.any():
            return []
        terms = self._analyzers[audience_key(audience)].query_terms(query, self.languages)
        if not terms:
            return []
        scores = np.asarray(self._bm25.get_scores(terms), dtype=np.float32)
        scores = np.where(mask, scores, 0.0)
        if k < len(scores):
            top = np.argpartition(-scores, k)[:k]
            top = top[np.lexsort((top, -scores[top]))]
        else:
            top = np.argsort(-scores, kind="stable")
        return [(self.chunks[i], float(scores[i])) for i in top if scores[i] > 0]

    def spellings(self, audience: str) -> NearSpellings:
        """Near-spellings among the words ``audience`` may see (built on first use after each
        rebuild): what a public question is matched with never depends on staff documents."""
        key = audience_key(audience)
        found = self._spellings.get(key)
        if found is None:
            found = self._spellings[key] = NearSpellings(self.vocabulary[key])
        return found

    def cognates(self, text: str, audience: str) -> dict[str, list[str]]:
        """For each word of ``text`` that ``audience``'s documents lack, their words spelt
        nearly like it (see ``NearSpellings.in_text``)."""
        return self.spellings(audience).in_text(text)

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
