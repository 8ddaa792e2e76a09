"""``POST /api/chat``: answer the last message of a conversation, whole or as server-sent events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from starlette.concurrency import run_in_threadpool

from api.deps import AnswersDep, CallerDep, MetricsDep, RateLimit, search_filter
from api.errors import forget_store
from api.schemas import QUESTION_EXAMPLE, ChatRequest, error_responses
from api.sse import stream_events
from assistant.contract import AnswerOut

router = APIRouter(prefix="/api", tags=["chat"], dependencies=[RateLimit])

ANSWER_EXAMPLE = {
    "answer": "Kommunen vil være CO2-neutral som geografisk område i 2030 [1].",
    "found": True,
    "language": "da",
    "standalone_question": QUESTION_EXAMPLE,
    "citations": [
        {
            "id": 1,
            "doc_id": "lyngby-taarbaek-baeredygtighedsstrategi",
            "source": "lyngby-taarbaek-baeredygtighedsstrategi.txt",
            "title": "Bæredygtighedsstrategi",
            "organisation": "Lyngby-Taarbæk Kommune",
            "section": "Klima",
            "section_path": ["Klima"],
            "page": None,
            "quote": "Lyngby-Taarbæk Kommune vil være CO2-neutral som geografisk område i 2030.",
            "start": 812,
            "end": 886,
            "link": "/api/documents/lyngby-taarbaek-baeredygtighedsstrategi/passage"
            "?start=812&end=886",
        }
    ],
    "passages": [],
    "suggestions": [],
    "unsupported": [],
    "removed_markers": [],
    "generator": "extractive",
}
SSE_EXAMPLE = (
    'event: meta\ndata: {"language": "da", "standalone_question": "…"}\n\n'
    'event: delta\ndata: {"text": "Kommunen vil være CO2-neutral … [1]."}\n\n'
    'event: citations\ndata: {"citations": [{"id": 1, "doc_id": "…", "quote": "…"}]}\n\n'
    'event: done\ndata: {"answer": "…", "found": true, "citations": […], …}\n\n'
)
CHAT_EXAMPLES = {
    "question": {
        "summary": "One question",
        "value": {"messages": [{"role": "user", "content": QUESTION_EXAMPLE}]},
    },
    "follow-up, filtered, streamed": {
        "summary": "A follow-up in Swedish, Swedish documents only, as server-sent events",
        "value": {
            "messages": [
                {"role": "user", "content": "Vad är Borlänges miljömål?"},
                {"role": "assistant", "content": "Borlänge vill … [1]"},
                {"role": "user", "content": "Vem ansvarar för det?"},
            ],
            "filters": {"languages": ["sv"]},
            "stream": True,
        },
    },
}


@router.post(
    "/chat",
    response_model=AnswerOut,
    summary="Answer a question with citations",
    description="Answers the last user message from the documents the caller may see, citing "
    "exact passages. With `stream: true` the answer comes as server-sent events "
    "(`meta`, `delta`…, `reset`, `citations`, `done`, or `error`).",
    responses={
        200: {
            "content": {
                "application/json": {"example": ANSWER_EXAMPLE},
                "text/event-stream": {"schema": {"type": "string"}, "example": SSE_EXAMPLE},
            }
        },
        **error_responses(400, 401, 413, 422, 429, 503),
    },
)
async def chat(
    body: Annotated[ChatRequest, Body(openapi_examples=CHAT_EXAMPLES)],
    request: Request,
    service: AnswersDep,
    caller: CallerDep,
    metrics: MetricsDep,
):
    flt = search_filter(caller, body.filters)
    if body.stream:
        return await stream_events(
            service.stream(body.messages, flt),
            on_answer=lambda a: metrics.record_answer(a.found, "chat"),
            on_store_down=lambda: forget_store(request),
        )
    answer = await run_in_threadpool(service.answer, body.messages, flt)
    metrics.record_answer(answer.found, "chat")
    return answer
