"""Answering a conversation: language, standalone question, retrieval, abstain decision,
generation, marker checking. The CLI (`ask`, `chat`) and the API call this, nothing else."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from assistant.answering.base import Draft, GenerationRequest, Generator
from assistant.answering.citations import check_markers, passage_out
from assistant.answering.evidence import measure
from assistant.answering.phrases import phrase
from assistant.answering.rewrite import rewrite
from assistant.contract import AnswerOut, Message, Suggestion
from assistant.errors import BadRequest, GeneratorError
from assistant.retrieval.passage import Passage
from assistant.retrieval.retriever import HybridRetriever
from assistant.retrieval.scope import named_organisations, refers_to_an_organisation
from assistant.settings import Settings
from ingestion.language import detect_question_language_with_confidence
from vectorstore.analysis import SCANDINAVIAN
from vectorstore.filters import SearchFilter
from vectorstore.glossary import english_glossary

log = logging.getLogger(__name__)
LANGUAGE_CONFIDENCE = 0.6


@dataclass
class Timings:
    """Seconds spent per stage of the last answer (for the evaluation report and /metrics)."""

    stages: dict[str, float] = field(default_factory=dict)

    def record(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - since
        return now


@dataclass(frozen=True)
class Prepared:
    question: str
    standalone: str
    language: str
    history: list[Message]
    passages: list[Passage]
    found: bool
    audience: str = "public"


class AnswerService:
    """Answers the last user message of a conversation under a search filter."""

    def __init__(
        self,
        settings: Settings,
        retriever: HybridRetriever,
        generator: Generator,
        fallback: Generator | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.generator = generator
        self.fallback = fallback
        self.last_timings = Timings()

    # --- steps ------------------------------------------------------------------------------
    def _validate(self, messages: Sequence[Message]) -> tuple[str, list[Message]]:
        if not messages:
            raise BadRequest("messages is empty: send at least one user message")
        last = messages[-1]
        if last.role != "user":
            raise BadRequest("the last message must come from the user")
        question = last.content.strip()
        if not question:
            raise BadRequest("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise BadRequest(
                f"the question is too long ({len(question)} characters; at most "
                f"{self.settings.max_question_chars})"
            )
        history = [m for m in messages[:-1] if m.role != "system"]
        return question, history[
            -self.settings.max_history_messages :
        ] if self.settings.max_history_messages else []

    def language_of(self, question: str, history: Sequence[Message]) -> str:
        """The question's language; a short ambiguous follow-up inherits the conversation's."""
        languages = self.settings.languages
        language, confidence = detect_question_language_with_confidence(question, languages)
        if confidence < LANGUAGE_CONFIDENCE:
            for m in reversed(history):
                if m.role == "user":
                    prev, prev_conf = detect_question_language_with_confidence(m.content, languages)
                    if prev_conf > confidence:
                        return prev
                    break
        return language

    def standalone(self, question: str, history: Sequence[Message], language: str) -> str:
        rewriter = getattr(self.generator, "rewrite", None)
        if history and rewriter is not None:
            try:
                return rewriter(question, history, language)
            except GeneratorError as exc:
                log.warning("LLM rewrite failed, using rules: %s", exc.message)
        return rewrite(question, history)

    def scoped(
        self, question: str, flt: SearchFilter, history: Sequence[Message] = ()
    ) -> SearchFilter:
        """``flt`` narrowed to the organisations the question names (when it names any the
        caller may see and the caller has not chosen organisations already). In a conversation,
        "the municipality" / "kommunen" means the one named last."""
        if flt.organisations or not self.settings.scope_to_named_organisation:
            return flt
        visible = [d for d in self.retriever.store.documents() if flt.allows_document(d)]
        named = named_organisations(question, visible)
        if not named and history and refers_to_an_organisation(question):
            for message in reversed(history):
                if message.role == "user":
                    named = named_organisations(message.content, visible)
                    if named:
                        break
        return replace(flt, organisations=named) if named else flt

    def prepare(
        self, messages: Sequence[Message], flt: SearchFilter, k: int | None = None
    ) -> Prepared:
        timings = self.last_timings = Timings()
        t = time.perf_counter()
        question, history = self._validate(messages)
        language = self.language_of(question, history)
        standalone = self.standalone(question, history, language)
        t = timings.record("rewrite", t)
        flt = self.scoped(standalone, flt, history)
        passages = self.retriever.search(standalone, flt, k=k, language=language)
        t = timings.record("retrieval", t)
        evidence = measure(
            standalone,
            language,
            passages,
            self.settings.languages,
            self.retriever.corpus_view(flt),
            use_glossary=self.settings.glossary,
        )
        found = bool(passages) and evidence.sufficient(
            self.settings.abstain_min_dense, self.settings.abstain_min_coverage
        )
        return Prepared(question, standalone, language, history, passages, found, flt.audience)

    def _abstain(self, prep: Prepared) -> AnswerOut:
        seen: dict[str, Suggestion] = {}
        for p in prep.passages:
            c = p.chunk
            seen.setdefault(
                c.doc_id, Suggestion(doc_id=c.doc_id, title=c.title, organisation=c.organisation)
            )
        suggestions = list(seen.values())[:3]
        text = phrase("not_found", prep.language)
        if suggestions:
            titles = "; ".join(s.title for s in suggestions)
            text += " " + phrase("suggest", prep.language, titles=titles)
        return AnswerOut(
            answer=text,
            found=False,
            language=prep.language,
            standalone_question=prep.standalone,
            passages=[passage_out(p, n) for n, p in enumerate(prep.passages, start=1)],
            suggestions=suggestions,
            generator=self.generator.name,
        )

    def _request(self, prep: Prepared) -> GenerationRequest:
        return GenerationRequest(
            prep.standalone,
            prep.question,
            prep.language,
            prep.passages,
            prep.history,
            query_vector=self.retriever.query_vector(prep.standalone),
            translated_vector=self._translated_vector(prep),
            unit_vectors=self.retriever.store.unit_vectors([p.chunk_id for p in prep.passages]),
            near_spellings=(
                self.retriever.cognates(prep.standalone, prep.audience)
                if prep.language in SCANDINAVIAN
                else {}
            ),
        )

    def _translated_vector(self, prep: Prepared) -> list[float] | None:
        """An English question's glossary words embedded as a query of their own: e5 rates
        Danish and Swedish sentences against Danish and Swedish words more sharply than
        against English."""
        if prep.language != "en" or not self.settings.glossary:
            return None
        words = english_glossary().translate(prep.standalone, self.settings.languages)
        return self.retriever.query_vector(words) if words else None

    def finish(
        self,
        prep: Prepared,
        draft: Draft,
        generator_name: str,
        unsupported: list[str] | None = None,
    ) -> AnswerOut:
        checked = check_markers(draft, prep.passages)
        if not draft.found or not checked.citations:
            return self._abstain(prep)
        if unsupported is None:
            verify = getattr(self.generator, "verify", None)
            unsupported = (
                verify(checked.text, checked.citations, prep.language)
                if verify and generator_name != "extractive"
                else []
            )
        return AnswerOut(
            answer=checked.text,
            found=True,
            language=prep.language,
            standalone_question=prep.standalone,
            citations=checked.citations,
            passages=[passage_out(p, n) for n, p in enumerate(prep.passages, start=1)],
            unsupported=unsupported,
            removed_markers=checked.removed,
            generator=generator_name,
        )

    # --- public API -------------------------------------------------------------------------
    def answer(
        self, messages: Sequence[Message], flt: SearchFilter, k: int | None = None
    ) -> AnswerOut:
        prep = self.prepare(messages, flt, k)
        if not prep.found:
            return self._abstain(prep)
        t = time.perf_counter()
        request = self._request(prep)
        try:
            draft, name = self.generator.generate(request), self.generator.name
        except GeneratorError as exc:
            if self.fallback is None:
                raise
            log.warning("generator %s failed, falling back: %s", self.generator.name, exc.message)
            draft, name = self.fallback.generate(request), self.fallback.name
        result = self.finish(prep, draft, name)
        self.last_timings.record("generation", t)
        return result

    def stream(
        self, messages: Sequence[Message], flt: SearchFilter, k: int | None = None
    ) -> Iterator[tuple[str, object]]:
        """Events: ``("meta", {...})``, then ``("delta", text)`` pieces, then ``("answer",
        AnswerOut)`` — the final answer is authoritative (markers checked and renumbered)."""
        prep = self.prepare(messages, flt, k)
        yield "meta", {"language": prep.language, "standalone_question": prep.standalone}
        if not prep.found:
            result = self._abstain(prep)
            yield "delta", result.answer
            yield "answer", result
            return
        request = self._request(prep)
        draft: Draft | None = None
        name = self.generator.name
        try:
            for piece in self.generator.stream(request):
                if isinstance(piece, Draft):
                    draft = piece
                else:
                    yield "delta", piece
        except GeneratorError as exc:
            if self.fallback is None:
                raise
            log.warning("generator %s failed while streaming, falling back: %s", name, exc.message)
            draft, name = self.fallback.generate(request), self.fallback.name
            yield "reset", None
            yield "delta", draft.text
        if draft is None:
            raise GeneratorError("the generator ended without an answer")
        yield "answer", self.finish(prep, draft, name)


def build_generator(settings: Settings, embedder=None) -> Generator:
    """The configured generator backend."""
    if settings.generator == "llm":
        from assistant.answering.llm import LLMGenerator

        return LLMGenerator(settings, embedder=embedder)
    from assistant.answering.extractive import ExtractiveGenerator

    return ExtractiveGenerator(settings.languages)
