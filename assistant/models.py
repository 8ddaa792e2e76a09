"""Typed data passed between the layers: documents, chunks and their metadata.

These are plain frozen dataclasses so that ``ingestion`` and ``vectorstore`` can share them
without importing anything heavy. Answer-side types (passages, citations, answers) live next to the
code that builds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Audience = Literal["public", "staff"]
AUDIENCES: tuple[Audience, ...] = ("public", "staff")
BlockKind = Literal["heading", "paragraph", "item"]


@dataclass(frozen=True)
class DocumentMeta:
    """What we know about a document besides its text (from the manifest or defaults).

    ``audience`` decides who may ever see the document: ``public`` documents are visible to
    citizens and staff, ``staff`` documents to staff only. Unknown files default to ``staff``.
    """

    doc_id: str
    title: str
    source: str
    organisation: str = ""
    country: str = ""
    language: str = ""
    kind: str = ""
    audience: Audience = "staff"


@dataclass(frozen=True)
class LoadedText:
    """What a loader returns: text in a light markdown convention, before cleaning.

    Conventions every loader follows so that cleaning and structure work the same for all formats:
    paragraphs are separated by blank lines; explicit headings (HTML ``<h1>``, DOCX heading styles,
    markdown ``#``) are written as ``#``-prefixed lines (``## Title``, level = number of ``#``);
    list items start with ``• `` (bullets) or ``1. `` (numbered); a page break is a form feed
    ``\\f``. ``title`` is a title found in the file's own metadata, if any.
    """

    text: str
    format: str
    title: str | None = None


@dataclass(frozen=True)
class Block:
    """One structural unit of the cleaned text: a heading, a paragraph or a list item.

    ``start``/``end`` index the cleaned text; ``text`` equals ``cleaned[start:end]``.
    ``level`` is the heading level (1 = top) for headings, 0 otherwise.
    """

    kind: BlockKind
    start: int
    end: int
    text: str
    page: int | None = None
    level: int = 0


@dataclass(frozen=True)
class CleanText:
    """The cleaned text of a document (what is stored and cited) and its blocks in order."""

    text: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Section:
    """A heading's place in the outline.

    ``path`` is the list of heading texts from the top down to this section, e.g.
    ``("3.1 Program for bæredygtighed", "3.1.1 Varme og Energi", "2. Kvartal 2025")``.
    ``quarters`` and ``year`` are set when the section is (or lies under) a quarter heading.
    """

    path: tuple[str, ...]
    quarters: tuple[int, ...] = ()
    year: int | None = None


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: an exact slice ``[start, end)`` of its document's cleaned text.

    ``text`` (the quote) is exactly ``document_text[start:end]``; ``embed_text`` is what gets
    embedded: a short context header (title and section path) followed by the quote.
    """

    doc_id: str
    index: int
    start: int
    end: int
    text: str
    embed_text: str
    section_path: tuple[str, ...] = ()
    page: int | None = None
    quarters: tuple[int, ...] = ()
    year: int | None = None
    kind: Literal["text", "list"] = "text"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def section(self) -> str:
        return " > ".join(self.section_path)
