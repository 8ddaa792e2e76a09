"""The generator seam.

A generator writes the answer text from numbered passages. It may only cite by ``[n]`` marker,
where ``n`` is the passage's number in the request; the service validates every marker and turns
it into a structured citation, so no backend can invent a source.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assistant.contract import Message
from assistant.retrieval.passage import Passage
from vectorstore.store import UnitVector


@dataclass(frozen=True)
class GenerationRequest:
    """What a generator gets: the question (standalone and as asked), the answer language, the
    conversation so far and the candidate passages, numbered from 1 in list order; also the
    question's embedding and the embedded sentences/items of the passages (keyed by chunk id),
    so a generator can choose what answers without another model call."""

    question: str
    original_question: str
    language: str
    passages: Sequence[Passage]
    history: Sequence[Message] = ()
    query_vector: Sequence[float] | None = None
    #: For an English question: the embedding of its glossary words in Danish and Swedish.
    translated_vector: Sequence[float] | None = None
    unit_vectors: Mapping[str, Sequence[UnitVector]] = field(default_factory=dict)
    #: For a Danish or Swedish question: its words the corpus lacks, each with the corpus words
    #: spelt nearly like it (Swedish "jordvärme": Danish "jordvarme").
    near_spellings: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass
class Draft:
    """A generator's answer before validation.

    ``spans`` optionally narrows what a marker cites: ``{n: (start, end)}`` in document offsets
    inside passage ``n`` (the extractive backend cites the exact sentences it used). ``found`` is
    False when the generator itself concluded that the passages do not answer the question.
    """

    text: str
    found: bool = True
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)


class Generator(Protocol):
    """Contract of every answer backend."""

    name: str

    def generate(self, request: GenerationRequest) -> Draft:
        """The whole answer at once."""
        ...

    def stream(self, request: GenerationRequest) -> Iterator[str | Draft]:
        """Answer text in pieces as they are produced, then the final :class:`Draft`."""
        ...
