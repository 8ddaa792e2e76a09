"""The hybrid retriever: dense search in Chroma plus BM25, fused, boosted, expanded.

Every search reads the document registry once: it yields both the version keys the caller may see
(the audience rule, enforced on both sides) and the signature that keeps the BM25 index in step
with Chroma.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from assistant.embedders import Embedder
from assistant.retrieval.dense import DenseSearch
from assistant.retrieval.fusion import rrf, structure_match
from assistant.retrieval.hints import analyse
from assistant.retrieval.passage import Passage
from assistant.settings import Settings
from ingestion.language import detect_question_language_with_confidence
from vectorstore.analysis import SCANDINAVIAN
from vectorstore.filters import SearchFilter, chunk_allowed, visible_share
from vectorstore.glossary import english_glossary
from vectorstore.lexical import LexicalIndex, audience_key
from vectorstore.records import StoredChunk, version_signature
from vectorstore.store import ChromaStore

Mode = Literal["hybrid", "dense", "bm25"]


class HybridRetriever:
    """Ranks passages for a question under a filter. Thread-safe; one per process is enough."""

    def __init__(self, store: ChromaStore, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.lexical = LexicalIndex(settings.languages)
        self.dense = DenseSearch(store)
        self._vectors: dict[str, list[float]] = {}
        self._view: tuple[tuple, object] | None = None

    def query_vector(self, query: str) -> list[float]:
        """The query's embedding; the last few are kept, since answering needs it again."""
        cached = self._vectors.get(query)
        if cached is None:
            cached = self.embedder.embed_query(query)
            if len(self._vectors) >= 64:
                self._vectors.pop(next(iter(self._vectors)))
            self._vectors[query] = cached
        return cached

    def corpus_view(self, flt: SearchFilter):
        """Vocabulary and milestone periods of what ``flt``'s audience may see (for the
        abstain decision). Cached per index version and audience."""
        from assistant.answering.evidence import CorpusView

        registry = self.store.documents()
        key = (self._sync_lexical(registry), flt.audience)
        cached = self._view
        if cached is not None and cached[0] == key:
            return cached[1]
        # The audience's whole corpus, whatever else ``flt`` narrows: the view is cached per
        # audience, and "no visible document mentions X" must mean all of them.
        audience = SearchFilter(audience=flt.audience)
        allowed = {d.version_key for d in registry if audience.allows_document(d)}
        periods = {
            (q, c.year)
            for c in self.lexical.chunks
            if chunk_allowed(audience, c, allowed)
            for q in c.quarters
        }
        vocabulary = self.lexical.vocabulary[audience_key(flt.audience)]
        spellings = self.lexical.spellings(flt.audience) if self.settings.cognates else None
        view = CorpusView(vocabulary, frozenset(periods), spellings)
        self._view = (key, view)  # one assignment: a concurrent reader sees key and view together
        return view

    def warm_up(self) -> None:
        """Build the BM25 index now instead of in the first search: it reads every visible
        chunk from Chroma (0.2 s for the demo corpus, ~6 s at 100x, ~1.5 min at 1000x)."""
        self._sync_lexical(self.store.documents())

    def _sync_lexical(self, registry: list) -> tuple[str, ...]:
        """Bring the BM25 index, whose chunk table the dense side and neighbour expansion read
        too, in step with ``registry``; returns the registry's signature."""
        signature = version_signature(registry)
        self.lexical.ensure(signature, self._all_chunks)
        return signature

    def _all_chunks(self) -> list[StoredChunk]:
        return self.store.chunks_where(SearchFilter(audience="staff"))

    def search(
        self,
        query: str,
        flt: SearchFilter,
        *,
        k: int | None = None,
        mode: Mode | None = None,
        expand: bool | None = None,
        language: str | None = None,
    ) -> list[Passage]:
        """Top passages for ``query`` that ``flt`` admits, best first. ``language`` is the
        query's (detected when not given): an English query's BM25 side also searches the
        Danish and Swedish words the glossary gives for it."""
        s = self.settings
        k = k or s.retrieval_k
        mode = mode or s.retrieval_mode
        expand = s.neighbour_expansion if expand is None else expand
        query = query.strip()
        if not query:
            return []
        registry = self.store.documents()
        allowed_keys = {d.version_key for d in registry if flt.allows_document(d)}
        if not allowed_keys:
            return []
        n = max(s.retrieval_candidates, k)
        signature = self._sync_lexical(registry)
        share = visible_share(flt, registry)

        dense: list[tuple[StoredChunk, float]] = []
        unit_ranking: list[str] = []
        if mode in ("hybrid", "dense"):
            vector = self.query_vector(query)
            # The dense side resolves hits against the visible chunks the BM25 index holds.
            lookup = self.lexical.get
            dense = self.dense.chunks(vector, n, flt, allowed_keys, share, lookup)
            if s.unit_weight > 0:
                unit_ranking = [
                    cid
                    for cid, _ in self.dense.units(vector, 2 * n, flt, allowed_keys, share, lookup)
                ]
        lexical: list[tuple[StoredChunk, float]] = []
        if mode in ("hybrid", "bm25"):
            mask = self.lexical.mask(
                (signature, flt), lambda c: chunk_allowed(flt, c, allowed_keys)
            )
            terms = self._lexical_query(query, language, flt.audience)
            lexical = self.lexical.search(terms, n, mask, flt.audience)

        chunks = {c.chunk_id: c for c, _ in dense + lexical}
        for cid in unit_ranking:
            if cid not in chunks and (chunk := self.lexical.get(cid)) is not None:
                chunks[cid] = chunk
        # Defence in depth: whatever a side returned, nothing outside the filter passes.
        chunks = {cid: c for cid, c in chunks.items() if chunk_allowed(flt, c, allowed_keys)}
        dense_scores = {c.chunk_id: sc for c, sc in dense}
        lexical_scores = {c.chunk_id: sc for c, sc in lexical}
        fused = rrf(
            [
                (s.dense_weight if mode != "bm25" else 0.0, [c.chunk_id for c, _ in dense]),
                (s.lexical_weight if mode != "dense" else 0.0, [c.chunk_id for c, _ in lexical]),
                (s.unit_weight, unit_ranking),
            ],
            k=s.rrf_k,
        )
        hints = analyse(query)
        if not hints.empty and s.structure_boost > 0:
            for cid in fused:
                if cid in chunks:
                    fused[cid] *= 1.0 + s.structure_boost * structure_match(chunks[cid], hints)
        ranked = sorted(
            (cid for cid in fused if cid in chunks), key=lambda cid: (-fused[cid], cid)
        )[:k]
        passages = [
            Passage(chunks[cid], fused[cid], dense_scores.get(cid), lexical_scores.get(cid))
            for cid in ranked
        ]
        if expand:
            passages = self._expand(passages, flt, allowed_keys)
        return passages

    def _lexical_query(self, query: str, language: str | None, audience: str = "public") -> str:
        """The BM25 query: the question, plus for an English one its glossary words and for a
        Danish or Swedish one the corpus's near-spellings of the words the corpus lacks and the
        neighbour language's glossary words."""
        s = self.settings
        if not s.glossary and not s.cognates:
            return query
        if language is None:
            language = detect_question_language_with_confidence(query, s.languages)[0]
        extra = ""
        if language == "en" and s.glossary and "en" in s.languages:
            extra = english_glossary().translate(query, s.languages)
        elif language in SCANDINAVIAN:
            near = [w for found in self.cognates(query, audience).values() for w in found]
            neighbours = english_glossary().neighbour_words(query, language) if s.glossary else ""
            extra = " ".join([*near, neighbours]).strip()
        return f"{query} {extra}" if extra else query

    def cognates(self, text: str, audience: str) -> dict[str, list[str]]:
        """Near-spellings, among what ``audience`` may see, of each word of ``text`` that it
        lacks (none when ``cognates`` is off)."""
        if not self.settings.cognates:
            return {}
        if self.lexical.signature is None:
            self.warm_up()  # otherwise as of the last search (which keeps it in step)
        return self.lexical.cognates(text, audience)

    def _expand(
        self,
        passages: list[Passage],
        flt: SearchFilter,
        allowed_keys: set[str],
    ) -> list[Passage]:
        """Add the adjacent chunks of list hits when they continue the same section (a
        milestone list split across chunks), right after the hit that pulled them in."""
        if not any(p.chunk.kind == "list" for p in passages):
            return passages
        seen = {p.chunk_id for p in passages}
        out: list[Passage] = []
        for p in passages:
            out.append(p)
            if p.chunk.kind != "list" or p.expanded_from:
                continue
            for offset in (-1, 1):
                neighbour = self.lexical.at(p.chunk.doc_id, p.chunk.index + offset)
                if (
                    neighbour is None
                    or neighbour.chunk_id in seen
                    or neighbour.section_path != p.chunk.section_path
                    or not chunk_allowed(flt, neighbour, allowed_keys)
                ):
                    continue
                seen.add(neighbour.chunk_id)
                out.append(
                    replace(
                        p,
                        chunk=neighbour,
                        score=p.score * 0.9,
                        dense=None,
                        lexical=None,
                        expanded_from=p.chunk_id,
                    )
                )
        return out
