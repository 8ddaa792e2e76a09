"""Uploads: safe file names, staging on disk, all-or-nothing checking, then ingesting.

Every file of a request is saved under ``data_dir/uploads/.incoming/<request>/`` and fully
prepared (type checked by content, parsed, cleaned, chunked) before anything is stored. If one
file fails, the request is refused with each file's result and nothing is stored, so the index
only ever changes by complete, valid documents. Files that were ingested are moved to
``data_dir/uploads/<safe name>``; the staging folder is always removed.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from fastapi import UploadFile

from api.schemas import UploadedFile
from assistant.core import Core
from assistant.errors import AssistantError, IngestionError
from assistant.indexer import ingest_one, prepare_document
from ingestion.manifest import ManifestEntry, slugify

COPY_CHUNK = 1 << 20
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,10}$")
MAX_STEM = 100


class InvalidFileName(IngestionError):
    code = "invalid_file_name"


class FileTooLarge(IngestionError):
    status = 413
    code = "file_too_large"


class UploadRejected(AssistantError):
    """At least one file was bad; ``results`` says what was wrong with each."""

    code = "upload_rejected"

    def __init__(self, results: Sequence[UploadedFile], status: int) -> None:
        failed = [r for r in results if r.status == "failed"]
        super().__init__(
            f"{len(failed)} of {len(results)} file(s) rejected; nothing was stored: "
            + "; ".join(r.error["message"] for r in failed if r.error)
        )
        self.status = status
        self.results = list(results)

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "files": [r.model_dump() for r in self.results],
        }


@dataclass
class Staged:
    """One uploaded file on its way in."""

    filename: str
    path: Path | None = None
    error: AssistantError | None = None


def safe_name(filename: str | None) -> str:
    """A name to store an upload under: a lowercase ASCII slug of the stem plus the suffix.

    :raises InvalidFileName: empty, or holding a path (``/``, ``\\``, ``..``) or control
        characters; such names are refused rather than repaired.
    """
    raw = (filename or "").strip()
    if not raw:
        raise InvalidFileName("a file has no name")
    if "/" in raw or "\\" in raw or raw in (".", "..") or any(ord(c) < 32 for c in raw):
        raise InvalidFileName(f"{raw!r}: a file name may not contain a path", file=raw)
    stem, suffix = os.path.splitext(raw)
    suffix = suffix.lower()
    if suffix and not _SUFFIX.match(suffix):
        raise InvalidFileName(f"{raw!r}: unusable file extension", file=raw)
    return (slugify(stem)[:MAX_STEM].strip("-") or "upload") + suffix


async def stage(files: Sequence[UploadFile], folder: Path, max_file_bytes: int) -> list[Staged]:
    """Save each upload under ``folder`` (one sub-folder per file), checking names and sizes."""
    staged: list[Staged] = []
    seen: set[str] = set()
    for n, upload in enumerate(files):
        item = Staged(upload.filename or "")
        staged.append(item)
        try:
            name = safe_name(upload.filename)
            if name in seen:
                raise InvalidFileName(f"{name}: uploaded twice in one request", file=name)
            seen.add(name)
            target = folder / str(n) / name
            target.parent.mkdir(parents=True)
            await _copy(upload, target, max_file_bytes)
            item.path = target
        except AssistantError as exc:
            item.error = exc
    return staged


async def _copy(upload: UploadFile, target: Path, max_bytes: int) -> None:
    size = 0
    with target.open("wb") as out:
        while chunk := await upload.read(COPY_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise FileTooLarge(
                    f"{target.name}: file is larger than {max_bytes:,} bytes", file=target.name
                )
            out.write(chunk)


def ingest_staged(core: Core, staged: Sequence[Staged], entry: ManifestEntry) -> list[UploadedFile]:
    """Prepare every staged file, then (only if all are fine) ingest them. Blocking.

    :raises UploadRejected: some file is bad; nothing was stored.
    """
    settings, embedder = core.settings, core.embedder
    results: list[UploadedFile] = []
    for item in staged:
        if item.error is None and item.path is not None:
            try:
                prepare_document(
                    item.path, _entry_for(entry, item.path), settings, embedder.count_tokens
                )
            except AssistantError as exc:
                item.error = exc
        results.append(_result(item, "failed" if item.error else "not_stored"))
    failures = [item.error for item in staged if item.error is not None]
    if failures:
        raise UploadRejected(results, status=failures[0].status)
    uploads = upload_dir(settings)
    store = core.store
    results = []
    for item in staged:
        assert item.path is not None
        done = ingest_one(
            item.path,
            _entry_for(entry, item.path),
            settings=settings,
            store=store,
            embedder=embedder,
        )
        os.replace(item.path, uploads / item.path.name)
        results.append(
            UploadedFile(
                filename=item.filename,
                stored_as=item.path.name,
                doc_id=done.doc_id,
                status=done.status,  # type: ignore[arg-type]
                chunks=done.chunks,
            )
        )
    return results


def _entry_for(entry: ManifestEntry, path: Path) -> ManifestEntry:
    return replace(entry, file=path.name)


def _result(item: Staged, status: str) -> UploadedFile:
    error = None
    if item.error is not None:
        error = {"code": item.error.code, "message": item.error.message}
    stored_as = item.path.name if item.path is not None else None
    return UploadedFile(filename=item.filename, stored_as=stored_as, status=status, error=error)  # type: ignore[arg-type]


def upload_dir(settings) -> Path:
    path = settings.data_dir / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_staging_dir(settings) -> Path:
    return upload_dir(settings) / ".incoming" / uuid.uuid4().hex


def remove_staging(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def remove_upload(settings, source: str) -> None:
    """Delete the stored upload a removed document came from, if it came from one."""
    candidate = settings.data_dir / "uploads" / Path(source).name
    if source and candidate.is_file():
        candidate.unlink()
