"""Server-sent events for ``POST /api/chat`` with ``"stream": true``.

Wire format (the chat page depends on it; change it only together with ``api/static``)::

    event: meta       data: {"language": "da", "standalone_question": "…"}
    event: delta      data: {"text": "…"}            (one or more)
    event: reset      data: {}                       (drop the text streamed so far: a fallback
                                                      generator replaced a failed one)
    event: citations  data: {"citations": [Citation, …]}
    event: done       data: AnswerOut                (authoritative: markers checked, renumbered)
    event: error      data: {"code": "…", "message": "…"}   (instead of the rest, on failure)

Failures before the first event (a bad question, an unreachable index) are ordinary JSON error
responses with their status code; only failures after the stream started become ``error`` events.
The answering service is synchronous, so each step runs in the threadpool.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.responses import StreamingResponse

from api.errors import INTERNAL_MESSAGE, public_error
from assistant.contract import AnswerOut
from assistant.errors import AssistantError, StoreUnavailable

log = logging.getLogger("api")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
Event = tuple[str, object]


def sse(event: str, data: object) -> str:
    """One event; JSON never contains a raw newline, so ``data`` is always one line."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def encode(kind: str, payload: object) -> list[str]:
    """The wire events for one event of :meth:`AnswerService.stream`."""
    if kind == "meta":
        return [sse("meta", payload)]
    if kind == "delta":
        return [sse("delta", {"text": payload})]
    if kind == "reset":
        return [sse("reset", {})]
    if kind == "answer":
        assert isinstance(payload, AnswerOut)
        citations = [c.model_dump(mode="json") for c in payload.citations]
        return [
            sse("citations", {"citations": citations}),
            sse("done", payload.model_dump(mode="json")),
        ]
    return []


async def stream_events(
    events: Iterator[Event],
    on_answer: Callable[[AnswerOut], None],
    on_store_down: Callable[[], None],
) -> StreamingResponse:
    """Start ``events`` (errors up to the first event propagate as HTTP errors) and stream them."""
    first = await run_in_threadpool(next, events, None)

    async def body() -> AsyncIterator[str]:
        try:
            if first is not None:
                for chunk in encode(*first):
                    yield chunk
            async for kind, payload in iterate_in_threadpool(events):
                if kind == "answer":
                    on_answer(payload)  # type: ignore[arg-type]
                for chunk in encode(kind, payload):
                    yield chunk
        except AssistantError as exc:
            if isinstance(exc, StoreUnavailable):
                on_store_down()
            log.warning("stream failed: %s %s", exc.code, exc.message)
            yield sse("error", _code_message(public_error(exc)))
        except Exception:
            log.exception("stream failed")
            yield sse("error", {"code": "internal_error", "message": INTERNAL_MESSAGE})

    return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)


def _code_message(error: dict) -> dict:
    return {"code": error["code"], "message": error["message"]}
