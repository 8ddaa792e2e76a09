"""Ingestion pipeline: files → documents → chunks → embeddings → index.

One bad file never stops a run: it is reported and skipped, and nothing already stored is touched
(a document is only replaced after its new version is fully prepared). Unchanged documents are
detected by a version hash over metadata, cleaned text and the chunking parameters, so re-ingesting
is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from assistant.embedders import Embedder
from assistant.errors import AssistantError, IngestionError, StoreError
from assistant.models import Chunk, CleanText, DocumentMeta
from assistant.settings import Settings
from ingestion.chunking import chunk_document
from ingestion.cleaning import clean
from ingestion.loaders import load_file, supported_suffixes
from ingestion.manifest import (
    ManifestEntry,
    doc_id_for,
    document_meta,
    find_manifest,
    load_manifest,
)
from ingestion.structure import outline
from ingestion.units import split_units
from vectorstore.store import ChromaStore, UnitRecord

log = logging.getLogger(__name__)

#: Bump when cleaning/structure/chunking change in a way that alters chunks: forces re-chunking.
PIPELINE_VERSION = "2"


@dataclass
class FileResult:
    path: str
    doc_id: str | None
    status: str  # added | updated | unchanged | failed
    chunks: int = 0
    message: str = ""


@dataclass
class IngestReport:
    """Summary of one ingest run."""

    results: list[FileResult] = field(default_factory=list)
    embedded: int = 0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.results if r.status in ("added", "updated"))

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> dict[str, int]:
        return {
            "added": self.count("added"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "failed": self.count("failed"),
            "chunks": self.chunks,
            "embedded": self.embedded,
        }

    def as_dict(self) -> dict:
        return {"summary": self.summary(), "files": [asdict(r) for r in self.results]}


@dataclass(frozen=True)
class PreparedDocument:
    """A document ready to store: everything computed, nothing written yet."""

    meta: DocumentMeta
    clean: CleanText
    chunks: list[Chunk]
    version: str


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest: given files as they are, directories searched recursively for supported
    types (hidden files and the manifest itself skipped), in a stable order."""
    suffixes = set(supported_suffixes())
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(".")
            )
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def document_version(meta: DocumentMeta, clean_text: CleanText, settings: Settings) -> str:
    payload = json.dumps(
        {
            "meta": asdict(meta),
            "pipeline": PIPELINE_VERSION,
            "target": settings.chunk_target_tokens,
            "max": settings.chunk_max_tokens,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    digest = hashlib.sha256(payload.encode())
    digest.update(clean_text.text.encode())
    return digest.hexdigest()[:16]


def prepare_document(
    path: Path,
    entry: ManifestEntry | None,
    settings: Settings,
    count_tokens: Callable[[str], int] | None,
) -> PreparedDocument:
    """Load, clean, outline and chunk one file. Raises :class:`IngestionError` for bad files."""
    loaded = load_file(path, max_bytes=settings.max_file_bytes)
    cleaned = clean(loaded)
    if not cleaned.text.strip():
        raise IngestionError(f"{path.name}: no text left after cleaning", path=str(path))
    meta = document_meta(
        path, entry, replace(loaded, text=cleaned.text), languages=settings.languages
    )
    sections = outline(cleaned)
    chunks = chunk_document(
        meta,
        cleaned,
        sections,
        target_tokens=settings.chunk_target_tokens,
        max_tokens=settings.chunk_max_tokens,
        count_tokens=count_tokens,
    )
    if not chunks:
        raise IngestionError(f"{path.name}: no indexable text", path=str(path))
    return PreparedDocument(meta, cleaned, chunks, document_version(meta, cleaned, settings))


def _manifest_for(
    path: Path, explicit: dict[str, ManifestEntry] | None, cache: dict
) -> ManifestEntry | None:
    if explicit is not None:
        return explicit.get(path.name)
    folder = path.parent
    if folder not in cache:
        found = find_manifest([folder])
        cache[folder] = load_manifest(found) if found else {}
    return cache[folder].get(path.name)


def ingest_paths(
    paths: Sequence[Path],
    *,
    settings: Settings,
    store: ChromaStore,
    embedder: Embedder,
    manifest: Path | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> IngestReport:
    """Ingest files and directories. ``on_progress(stage, done, total)`` drives a progress bar."""
    explicit = load_manifest(manifest) if manifest else None
    manifests: dict[Path, dict[str, ManifestEntry]] = {}
    report = IngestReport()
    files = expand_paths(paths)
    embed_before = getattr(embedder, "model_calls", None)
    for n, path in enumerate(files):
        if on_progress:
            on_progress(path.name, n, len(files))
        try:
            entry = _manifest_for(path, explicit, manifests)
            result = ingest_one(path, entry, settings=settings, store=store, embedder=embedder)
        except StoreError:
            # The index itself failed (disk full, server gone): later files would fail the same
            # way, so stop; what was stored stays consistent (see vectorstore.store).
            raise
        except AssistantError as exc:
            log.warning("skipped %s: %s", path, exc.message)
            result = FileResult(str(path), None, "failed", message=exc.message)
        report.results.append(result)
    if on_progress:
        on_progress("done", len(files), len(files))
    if embed_before is not None:
        report.embedded = embedder.model_calls - embed_before  # type: ignore[attr-defined]
    return report


def ingest_one(
    path: Path,
    entry: ManifestEntry | None,
    *,
    settings: Settings,
    store: ChromaStore,
    embedder: Embedder,
) -> FileResult:
    """Ingest one file: a no-op when the stored version is identical."""
    prepared = prepare_document(path, entry, settings, embedder.count_tokens)
    doc_id = prepared.meta.doc_id
    current = store.version_of(doc_id)
    if current == prepared.version:
        return FileResult(str(path), doc_id, "unchanged", len(prepared.chunks))
    units = unit_records(prepared.chunks)
    vectors = embedder.embed_passages(
        [c.embed_text for c in prepared.chunks] + [u.embed_text for u in units]
    )
    n = len(prepared.chunks)
    store.replace_document(
        prepared.meta,
        prepared.version,
        prepared.clean.text,
        prepared.chunks,
        vectors[:n],
        units,
        vectors[n:],
    )
    status = "added" if current is None else "updated"
    return FileResult(str(path), doc_id, status, len(prepared.chunks))


def unit_records(chunks: Sequence[Chunk]) -> list[UnitRecord]:
    """The sentences and list items of every chunk, each embedded with its section path so that
    a bare item ("Letbanen") still carries its context."""
    records: list[UnitRecord] = []
    for chunk in chunks:
        context = " > ".join(chunk.section_path)
        for i, unit in enumerate(split_units(chunk.text, chunk.start)):
            text = f"{context}: {unit.text}" if context else unit.text
            records.append(UnitRecord(chunk.index, i, unit.start, unit.end, unit.is_item, text))
    return records


__all__ = [
    "ingest_paths",
    "ingest_one",
    "prepare_document",
    "IngestReport",
    "expand_paths",
    "doc_id_for",
]
