"""Request and response models of the HTTP API that are not part of the answer contract.

The answer itself (``AnswerOut``, ``Citation``, ``PassageOut``, ``Message``) lives in
:mod:`assistant.contract`; this module adds what only the HTTP layer needs: request bodies,
filters, document views and the error envelope.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.contract import Message

Quarter = Annotated[int, Field(ge=1, le=4)]
DocId = Annotated[str, Field(min_length=1, max_length=200)]
QUESTION_EXAMPLE = "Hvad er kommunens mål for CO2-udledning?"


class ChatFilters(BaseModel):
    """Narrow what may be cited. Filters only ever narrow: the audience comes from the key."""

    model_config = ConfigDict(extra="forbid")

    documents: list[DocId] = Field(
        default_factory=list, max_length=50, description="Only these document ids."
    )
    organisations: list[DocId] = Field(default_factory=list, max_length=50)
    languages: list[Literal["da", "sv", "en"]] = Field(default_factory=list, max_length=3)
    year: int | None = Field(None, ge=1900, le=2200, description="Only sections about this year.")
    quarters: list[Quarter] = Field(
        default_factory=list, max_length=4, description="Only sections about these quarters."
    )


class ChatRequest(BaseModel):
    """A conversation; the last message is the question."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"messages": [{"role": "user", "content": QUESTION_EXAMPLE}]},
                {
                    "messages": [
                        {"role": "user", "content": "Vad är Borlänges miljömål?"},
                        {"role": "assistant", "content": "Borlänge vill … [1]"},
                        {"role": "user", "content": "Och vem ansvarar för det?"},
                    ],
                    "filters": {"languages": ["sv"]},
                    "stream": True,
                },
            ]
        },
    )

    messages: list[Message] = Field(min_length=1, max_length=100)
    filters: ChatFilters | None = None
    stream: bool = Field(False, description="Answer as server-sent events (see the API docs).")


class DocumentOut(BaseModel):
    """A stored document's metadata."""

    doc_id: str = Field(description="Stable document id.")
    title: str
    source: str = Field(description="Source file name.")
    organisation: str = ""
    country: str = ""
    language: str = ""
    kind: str = ""
    audience: Literal["public", "staff"] = Field(description="Who may see it.")
    chunk_count: int = Field(description="Passages indexed.")
    ingested_at: str = Field(description="When this version was stored (UTC, ISO 8601).")


class DocumentText(DocumentOut):
    """A document's metadata and its cleaned text (what citations point into)."""

    text: str


class PassageContext(BaseModel):
    """A cited passage with some text before and after it, for showing a citation."""

    doc_id: str
    title: str
    start: int
    end: int
    before: str = Field(description="Up to ~300 characters before the passage.")
    passage: str = Field(description="text[start:end] of the document.")
    after: str = Field(description="Up to ~300 characters after the passage.")


class UploadedFile(BaseModel):
    """What happened to one uploaded file."""

    filename: str = Field(description="The name the client sent.")
    stored_as: str | None = Field(None, description="Safe name under data_dir/uploads.")
    doc_id: str | None = None
    status: Literal["added", "updated", "unchanged", "failed", "not_stored"]
    chunks: int = 0
    error: dict | None = Field(None, description="Why it failed: {code, message}.")


class UploadResult(BaseModel):
    files: list[UploadedFile]


class DeleteResult(BaseModel):
    deleted: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. document_not_found.")
    message: str = Field(description="What went wrong, for people.")

    model_config = ConfigDict(extra="allow")


class ErrorOut(BaseModel):
    """Every error response has this shape (plus context fields inside ``error``)."""

    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


ERROR_RESPONSES: dict[int | str, dict] = {
    400: {"model": ErrorOut, "description": "Bad request (e.g. the question is too long)."},
    401: {"model": ErrorOut, "description": "The API key is not valid."},
    413: {"model": ErrorOut, "description": "The request body is too large."},
    422: {"model": ErrorOut, "description": "The request does not match the schema."},
    429: {"model": ErrorOut, "description": "Too many requests; see Retry-After."},
    503: {"model": ErrorOut, "description": "The index is not reachable."},
}


def error_responses(*codes: int) -> dict[int | str, dict]:
    return {code: ERROR_RESPONSES[code] for code in codes}


__all__ = [
    "ChatFilters",
    "ChatRequest",
    "DocumentOut",
    "DocumentText",
    "PassageContext",
    "UploadedFile",
    "UploadResult",
    "DeleteResult",
    "ErrorOut",
    "Health",
    "Message",
    "error_responses",
]
