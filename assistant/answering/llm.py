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
from assistant.answering.support import MARKERS, SupportChecker
from assistant.contract import Citation, Message
from assistant.embedders.base import Embedder
from assistant.errors import GeneratorError, GeneratorTimeout
from assistant.settings import Settings
from prompts import NOT_FOUND, chat_prompt, format_passages

log = logging.getLogger(__name__)

HISTORY_MESSAGES = 6
HISTORY_CHARS = 600
REWRITE_MAX_TOKENS = 160

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
        """Sentences the cited passages do not support (see :mod:`assistant.answering.support`).
        The stopwords cover da, sv and en at once, so ``language`` is not needed."""
        return SupportChecker(self.embedder).unsupported(text, citations)


# --- helpers -----------------------------------------------------------------------------------
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
