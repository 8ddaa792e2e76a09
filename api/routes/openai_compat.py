"""OpenAI-compatible endpoints, so chat front-ends and SDKs can use the assistant as a "model".

``base_url`` is ``http://host:port/v1``; the API key is a staff key, or ``public`` for the public.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from api.deps import AnswersDep, CallerDep, MetricsDep, RateLimit, search_filter
from api.openai_format import (
    MODEL_ID,
    ChatCompletion,
    ChatCompletionRequest,
    ModelCard,
    ModelList,
    ModelNotFound,
    completion,
    new_completion_id,
    stream_chunks,
    to_messages,
)
from api.schemas import error_responses
from api.sse import SSE_HEADERS

router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[RateLimit])


@router.get("/models", response_model=ModelList, summary="Models (OpenAI-compatible)")
async def list_models() -> ModelList:
    return ModelList(data=[ModelCard(id=MODEL_ID)])


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="Chat completion (OpenAI-compatible)",
    description=f"Model `{MODEL_ID}`. The reply's text ends with a numbered source list; the "
    "structured citations are in `citations` and the whole answer in `strategy_assistant`. "
    "With `stream: true`: `chat.completion.chunk` events, the last one carrying `citations`, "
    "then `data: [DONE]`.",
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
        **error_responses(400, 401, 413, 422, 429, 503),
        404: {"description": "Unknown model."},
    },
)
async def chat_completions(
    body: ChatCompletionRequest,
    service: AnswersDep,
    caller: CallerDep,
    metrics: MetricsDep,
):
    if body.model != MODEL_ID:
        raise ModelNotFound(f"unknown model {body.model[:80]!r}; use {MODEL_ID!r}")
    messages = to_messages(body.messages)
    answer = await run_in_threadpool(service.answer, messages, search_filter(caller, body.filters))
    metrics.record_answer(answer.found, "openai")
    completion_id, created = new_completion_id()
    if body.stream:
        return StreamingResponse(
            stream_chunks(answer, completion_id, created),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )
    return completion(answer, completion_id, created)
