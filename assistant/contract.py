"""The answer contract: what ``ask --json`` prints and the chat API returns.

Evaluation scripts depend on these field names and meanings; keep them stable and documented
(README, "Answer contract"). Adding optional fields is fine; renaming or removing is not.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SourceRef(BaseModel):
    """Where a quote comes from: enough to show it, link to it and check it."""

    doc_id: str = Field(description="Stable document id.")
    source: str = Field(description="Source file name.")
    title: str = Field(description="Document title.")
    organisation: str = Field("", description="Publishing organisation.")
    section: str = Field("", description="Section path joined with ' > '.")
    section_path: list[str] = Field(default_factory=list, description="Section path, top down.")
    page: int | None = Field(None, description="Page number, when known.")
    quote: str = Field(description="Exact substring of the stored document text.")
    start: int = Field(description="Offset of the quote in the stored document text.")
    end: int = Field(description="End offset (exclusive): text[start:end] == quote.")
    link: str = Field(description="API path showing the passage in context.")


class Citation(SourceRef):
    """A passage the answer cites; ``id`` is the number of its ``[n]`` marker."""

    id: int = Field(description="Marker number used in the answer text as [id].")


class PassageOut(SourceRef):
    """A ranked retrieved passage (cited or not)."""

    rank: int = Field(description="1 = best.")
    score: float = Field(description="Fused retrieval score (comparable within one answer).")
    chunk_id: str
    text: str = Field(description="The passage text (same as quote).")


class Suggestion(BaseModel):
    """A document that may be worth reading when the answer was not found."""

    doc_id: str
    title: str
    organisation: str = ""


class Message(BaseModel):
    """One turn of the conversation (OpenAI style)."""

    role: Literal["user", "assistant", "system"]
    content: str = Field(max_length=20_000)


class AnswerOut(BaseModel):
    """The answer to the last user message of a conversation."""

    answer: str = Field(description="Answer text with inline [n] citation markers.")
    found: bool = Field(description="False when the documents do not answer the question.")
    language: str = Field(description="Language of the question and the answer: da, sv or en.")
    standalone_question: str = Field(description="The question rewritten to stand alone.")
    citations: list[Citation] = Field(default_factory=list)
    passages: list[PassageOut] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(
        default_factory=list, description="Closest documents, when nothing was found."
    )
    unsupported: list[str] = Field(
        default_factory=list,
        description="Answer sentences whose cited passage does not support them (LLM backend).",
    )
    removed_markers: list[str] = Field(
        default_factory=list, description="Invalid [n] markers the generator wrote, removed."
    )
    generator: str = Field("extractive", description="Backend that wrote the answer.")
