"""The OpenAI chat-completions dialect: request models, and answers turned into completions.

The answer text gets a numbered source list appended (``Kilder:`` / ``Källor:`` / ``Sources:``),
because OpenAI clients show only the text; the structured citations ride along in the extra
top-level fields ``citations`` and ``strategy_assistant`` (the whole :class:`AnswerOut`).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.schemas import ChatFilters
from assistant.contract import AnswerOut, Citation, Message
from assistant.errors import AssistantError, BadRequest

MODEL_ID = "strategy-assistant"
MODEL_CREATED = 1_735_689_600  # 2025-01-01: a fixed date keeps /v1/models stable
SOURCES_HEADING = {"da": "Kilder", "sv": "Källor", "en": "Sources"}
_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}


class ModelNotFound(AssistantError):
    status = 404
    code = "model_not_found"


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = Field(max_length=64)
    text: str | None = Field(None, max_length=20_000)


class OpenAIMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str = Field(max_length=32, description="user, assistant, system or developer.")
    content: (
        Annotated[str, Field(max_length=20_000)]
        | Annotated[list[ContentPart], Field(max_length=50)]
        | None
    ) = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's request body. Sampling parameters are accepted and ignored; ``filters`` is an
    extension (send it with the client's ``extra_body``)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "model": MODEL_ID,
                    "messages": [{"role": "user", "content": "Hvad er målet for CO2-udledning?"}],
                }
            ]
        },
    )

    model: str = Field(MODEL_ID, max_length=200)
    messages: list[OpenAIMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    filters: ChatFilters | None = None


class ChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ChoiceMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    """OpenAI's ``chat.completion`` plus ``citations`` and ``strategy_assistant``."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL_ID
    choices: list[Choice]
    citations: list[Citation] = Field(description="The cited passages (extension).")
    strategy_assistant: AnswerOut = Field(description="The full answer (extension).")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = MODEL_CREATED
    owned_by: str = "strategy-assistant"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def to_messages(messages: list[OpenAIMessage]) -> list[Message]:
    """Our messages from OpenAI's: text parts joined, ``developer`` as ``system``, tool turns
    dropped."""
    out: list[Message] = []
    for m in messages:
        role = _ROLES.get(m.role)
        if role is None:
            continue
        if isinstance(m.content, list):
            text = "\n".join(p.text for p in m.content if p.type == "text" and p.text)
        else:
            text = m.content or ""
        try:
            out.append(Message(role=role, content=text))  # type: ignore[arg-type]
        except ValidationError as exc:
            raise BadRequest("a message is too long (at most 20,000 characters)") from exc
    return out


def sources_block(answer: AnswerOut) -> str:
    """``\\n\\nKilder:\\n[1] Title – section (p. N)`` lines for the cited passages."""
    if not answer.citations:
        return ""
    lines = [SOURCES_HEADING.get(answer.language, "Sources") + ":"]
    for c in answer.citations:
        line = f"[{c.id}] {c.title}"
        if c.section:
            line += f" – {c.section}"
        if c.page is not None:
            line += f" (p. {c.page})"
        lines.append(line)
    return "\n\n" + "\n".join(lines)


def content_of(answer: AnswerOut) -> str:
    return answer.answer + sources_block(answer)


def new_completion_id() -> tuple[str, int]:
    return f"chatcmpl-{uuid.uuid4().hex}", int(time.time())


def completion(answer: AnswerOut, completion_id: str, created: int) -> ChatCompletion:
    return ChatCompletion(
        id=completion_id,
        created=created,
        choices=[Choice(message=ChoiceMessage(content=content_of(answer)))],
        citations=answer.citations,
        strategy_assistant=answer,
    )


def _chunk(
    completion_id: str, created: int, delta: dict, finish: str | None = None, **extra
) -> str:
    body = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        **extra,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def stream_chunks(answer: AnswerOut, completion_id: str, created: int) -> Iterator[str]:
    """``chat.completion.chunk`` events for a finished answer, then ``data: [DONE]``.

    The answer is complete before the first chunk: its markers are renumbered only at the end,
    and an OpenAI stream cannot take text back, so streaming the final text is what keeps the
    text and the source list consistent.
    """
    yield _chunk(completion_id, created, {"role": "assistant", "content": ""})
    for piece in re.findall(r"[^\n]*\n*", content_of(answer)):
        if piece:
            yield _chunk(completion_id, created, {"content": piece})
    yield _chunk(
        completion_id,
        created,
        {},
        "stop",
        citations=[c.model_dump(mode="json") for c in answer.citations],
        strategy_assistant=answer.model_dump(mode="json"),
    )
    yield "data: [DONE]\n\n"
