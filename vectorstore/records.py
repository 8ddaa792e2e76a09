"""Records read back from the index, and how chunks map to Chroma metadata.

Chroma metadata holds scalars and lists only; these functions are the one place that knows the
mapping in both directions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.models import Audience, Chunk, DocumentMeta

SECTION_SEP = " > "


@dataclass(frozen=True)
class StoredDocument:
    """A document as the index knows it. ``text`` is the cleaned text (None when not loaded)."""

    doc_id: str
    title: str
    source: str
    organisation: str
    country: str
    language: str
    kind: str
    audience: Audience
    version: str
    chunk_count: int
    ingested_at: str
    text: str | None = None
    unit_count: int | None = None  # None: stored before units were counted

    @property
    def version_key(self) -> str:
        return version_key(self.doc_id, self.version)


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read from the index, with its document's metadata denormalised onto it."""

    chunk_id: str
    doc_id: str
    version: str
    index: int
    text: str
    start: int
    end: int
    section_path: tuple[str, ...]
    page: int | None
    quarters: tuple[int, ...]
    year: int | None
    kind: str
    title: str
    organisation: str
    language: str
    audience: Audience
    source: str
    header: str
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def section(self) -> str:
        return SECTION_SEP.join(self.section_path)

    def describe(self) -> dict[str, object]:
        """Where the chunk comes from, as plain values (for JSON output and LangChain metadata)."""
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "title": self.title,
            "organisation": self.organisation,
            "source": self.source,
            "language": self.language,
            "section": self.section,
            "page": self.page,
            "quarters": list(self.quarters),
            "year": self.year,
            "start": self.start,
            "end": self.end,
        }

    @property
    def version_key(self) -> str:
        return version_key(self.doc_id, self.version)


def version_signature(documents) -> tuple[str, ...]:
    """Identifies the visible content of a registry: changes whenever any document is added,
    replaced or removed. The BM25 index is tagged with it to know when to rebuild."""
    return tuple(sorted(d.version_key for d in documents))


def version_key(doc_id: str, version: str) -> str:
    return f"{doc_id}@{version}"


def chunk_id(doc_id: str, version: str, index: int) -> str:
    return f"{doc_id}::{version}::{index:05d}"


def chunk_metadata(chunk: Chunk, meta: DocumentMeta, version: str) -> dict[str, object]:
    header = chunk.embed_text[: len(chunk.embed_text) - len(chunk.text)].rstrip("\n")
    md: dict[str, object] = {
        "doc_id": meta.doc_id,
        "version": version,
        "vkey": version_key(meta.doc_id, version),
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "section": SECTION_SEP.join(chunk.section_path),
        "page": chunk.page if chunk.page is not None else -1,
        "year": chunk.year if chunk.year is not None else 0,
        "kind": chunk.kind,
        "title": meta.title,
        "organisation": meta.organisation,
        "language": meta.language,
        "audience": meta.audience,
        "source": meta.source,
        "header": header,
    }
    if chunk.quarters:
        md["quarters"] = list(chunk.quarters)
    return md


def chunk_from_record(chunk_id_: str, text: str, md: dict) -> StoredChunk:
    section = str(md.get("section") or "")
    page = int(md.get("page", -1))
    year = int(md.get("year", 0))
    return StoredChunk(
        chunk_id=chunk_id_,
        doc_id=str(md["doc_id"]),
        version=str(md.get("version", "")),
        index=int(md["index"]),
        text=text,
        start=int(md["start"]),
        end=int(md["end"]),
        section_path=tuple(section.split(SECTION_SEP)) if section else (),
        page=page if page >= 0 else None,
        quarters=tuple(int(q) for q in md.get("quarters") or ()),
        year=year or None,
        kind=str(md.get("kind", "text")),
        title=str(md.get("title", "")),
        organisation=str(md.get("organisation", "")),
        language=str(md.get("language", "")),
        audience=md.get("audience", "staff"),  # type: ignore[arg-type]
        source=str(md.get("source", "")),
        header=str(md.get("header", "")),
    )


def document_metadata(
    meta: DocumentMeta, version: str, chunk_count: int, ingested_at: str, unit_count: int = 0
) -> dict:
    return {
        "title": meta.title,
        "source": meta.source,
        "organisation": meta.organisation,
        "country": meta.country,
        "language": meta.language,
        "kind": meta.kind,
        "audience": meta.audience,
        "version": version,
        "chunk_count": chunk_count,
        "unit_count": unit_count,
        "ingested_at": ingested_at,
    }


def document_from_record(doc_id: str, md: dict, text: str | None = None) -> StoredDocument:
    return StoredDocument(
        doc_id=doc_id,
        title=str(md.get("title", "")),
        source=str(md.get("source", "")),
        organisation=str(md.get("organisation", "")),
        country=str(md.get("country", "")),
        language=str(md.get("language", "")),
        kind=str(md.get("kind", "")),
        audience=md.get("audience", "staff"),  # type: ignore[arg-type]
        version=str(md.get("version", "")),
        chunk_count=int(md.get("chunk_count", 0)),
        unit_count=int(md["unit_count"]) if "unit_count" in md else None,
        ingested_at=str(md.get("ingested_at", "")),
        text=text,
    )
