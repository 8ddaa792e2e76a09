"""Evaluation datasets: plain JSONL, one question per line.

Schema (documented in README, "Evaluation datasets")::

    {"id": "dev-001", "question": "...", "language": "da|sv|en",
     "type": "milestone|goal|responsibility|resource|fact|unanswerable|followup",
     "history": [{"role": "user|assistant", "content": "..."}],
     "audience": "staff|public", "answerable": true,
     "gold": [{"doc": "<doc id>", "quote": "<exact text, whitespace-insensitive>"}],
     "keywords": ["..."], "notes": "..."}

Staff can write such files for their own documents and run ``strategy-assistant eval --dataset``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from assistant.contract import Message
from assistant.errors import BadRequest

DEFAULT_DATASET = Path(__file__).resolve().parent / "data" / "dev.jsonl"
SPACE = re.compile(r"\s+")


class Gold(BaseModel):
    doc: str
    quote: str = Field(min_length=1)


class EvalItem(BaseModel):
    id: str
    question: str = Field(min_length=1)
    language: str = "da"
    type: str = "fact"
    history: list[Message] = Field(default_factory=list)
    audience: Literal["public", "staff"] = "staff"
    answerable: bool = True
    gold: list[Gold] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    notes: str = ""

    @model_validator(mode="after")
    def _gold_matches_answerable(self) -> EvalItem:
        if self.answerable and not self.gold:
            raise ValueError("an answerable question needs at least one gold quote")
        if not self.answerable and self.gold:
            raise ValueError("an unanswerable question has no gold quotes")
        return self

    @property
    def messages(self) -> list[Message]:
        return [*self.history, Message(role="user", content=self.question)]


def load_dataset(path: Path = DEFAULT_DATASET) -> list[EvalItem]:
    """Read and validate a dataset; errors name the line."""
    items: list[EvalItem] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadRequest(f"cannot read dataset {path}: {exc}") from exc
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = EvalItem.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise BadRequest(f"{path}:{number}: invalid item: {exc}") from exc
        if item.id in seen:
            raise BadRequest(f"{path}:{number}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise BadRequest(f"dataset {path} has no items")
    return items


def normalise(text: str) -> str:
    """Whitespace-insensitive, case-insensitive form used for all quote matching."""
    return SPACE.sub(" ", text).strip().casefold()


def covers(text: str, gold: Gold, doc_id: str | None = None) -> bool:
    """True when ``text`` (from document ``doc_id``) contains the gold quote."""
    if doc_id is not None and doc_id != gold.doc:
        return False
    return normalise(gold.quote) in normalise(text)
