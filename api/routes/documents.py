"""``/api/documents``: list, read, show a passage in context, upload (admin), delete (admin).

A document the caller may not see does not exist for it: every route answers exactly as for a
missing id.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from api import uploads
from api.deps import AdminDep, CallerDep, CoreDep, RateLimit, SettingsDep, StoreDep
from api.schemas import (
    DeleteResult,
    DocumentOut,
    DocumentText,
    PassageContext,
    UploadResult,
    error_responses,
)
from assistant.errors import AssistantError, BadRequest
from ingestion.manifest import ManifestEntry
from vectorstore.filters import SearchFilter

router = APIRouter(prefix="/api/documents", tags=["documents"], dependencies=[RateLimit])
CONTEXT_CHARS = 300
DocIdPath = Annotated[str, Path(min_length=1, max_length=200, examples=["borlange-miljostrategi"])]


class InvalidOffsets(AssistantError):
    status = 422
    code = "invalid_offsets"


def _out(doc, model=DocumentOut):
    fields = asdict(doc)
    if model is DocumentOut:
        fields.pop("text", None)
    return model(**{k: v for k, v in fields.items() if k in model.model_fields})


@router.get(
    "",
    response_model=list[DocumentOut],
    summary="List documents",
    description="Metadata of every document the caller may see, sorted by id.",
    responses=error_responses(401, 429, 503),
)
async def list_documents(store: StoreDep, caller: CallerDep) -> list[DocumentOut]:
    docs = await run_in_threadpool(store.documents, SearchFilter(audience=caller.audience))
    return [_out(d) for d in docs]


@router.get(
    "/{doc_id}",
    response_model=DocumentText,
    summary="Read a document",
    description="Metadata and the cleaned text that citations' offsets point into.",
    responses=error_responses(401, 429, 503) | {404: {"description": "No such document."}},
)
async def get_document(doc_id: DocIdPath, store: StoreDep, caller: CallerDep) -> DocumentText:
    doc = await run_in_threadpool(
        store.get_document, doc_id, SearchFilter(audience=caller.audience)
    )
    return _out(doc, DocumentText)


@router.get(
    "/{doc_id}/passage",
    response_model=PassageContext,
    summary="Show a passage in context",
    description="`text[start:end]` with about 300 characters before and after: what a "
    "citation's `link` opens.",
    responses=error_responses(401, 422, 429, 503) | {404: {"description": "No such document."}},
)
async def get_passage(
    doc_id: DocIdPath,
    store: StoreDep,
    caller: CallerDep,
    start: Annotated[int, Query(ge=0, examples=[0])],
    end: Annotated[int, Query(ge=1, examples=[200])],
) -> PassageContext:
    doc = await run_in_threadpool(
        store.get_document, doc_id, SearchFilter(audience=caller.audience)
    )
    text = doc.text or ""
    if not start < end <= len(text):
        raise InvalidOffsets(
            f"start and end must satisfy 0 <= start < end <= {len(text)} (the text's length)",
            start=start,
            end=end,
        )
    return PassageContext(
        doc_id=doc.doc_id,
        title=doc.title,
        start=start,
        end=end,
        before=_before(text, start),
        passage=text[start:end],
        after=_after(text, end),
    )


def _before(text: str, start: int) -> str:
    """Up to CONTEXT_CHARS before ``start``, not beginning in the middle of a word."""
    lo = max(0, start - CONTEXT_CHARS)
    piece = text[lo:start]
    if lo > 0 and not text[lo - 1].isspace():
        cut = piece.find(" ")
        piece = piece[cut + 1 :] if 0 <= cut < len(piece) - 1 else piece
    return piece


def _after(text: str, end: int) -> str:
    hi = min(len(text), end + CONTEXT_CHARS)
    piece = text[end:hi]
    if hi < len(text) and not text[hi].isspace():
        cut = piece.rfind(" ")
        piece = piece[:cut] if cut > 0 else piece
    return piece


@router.post(
    "",
    response_model=UploadResult,
    status_code=201,
    summary="Upload documents (admin)",
    description="One or more files (.txt, .md, .html, .pdf, .docx) with shared metadata. Every "
    "file is checked by content before anything is stored; if one is bad, nothing is stored and "
    "the error lists each file's result. A file named like a stored document replaces it.",
    responses=error_responses(400, 401, 413, 422, 503)
    | {403: {"description": "Not an admin key."}},
)
async def upload_documents(
    core: CoreDep,
    settings: SettingsDep,
    _admin: AdminDep,
    files: Annotated[list[UploadFile], File(description="The documents.")],
    title: Annotated[str, Form(max_length=300)] = "",
    organisation: Annotated[str, Form(max_length=200)] = "",
    country: Annotated[str, Form(max_length=64)] = "",
    language: Annotated[str, Form(max_length=8, description="da, sv or en; empty: detect.")] = "",
    kind: Annotated[str, Form(max_length=200)] = "",
    audience: Annotated[Literal["public", "staff"], Form()] = "staff",
) -> UploadResult:
    if len(files) > settings.max_upload_files:
        raise BadRequest(f"at most {settings.max_upload_files} files per upload")
    if language and language not in core.settings.languages:
        raise BadRequest(f"language must be one of {', '.join(core.settings.languages)}")
    entry = ManifestEntry(
        file="",
        title=title.strip(),
        organisation=organisation.strip(),
        country=country.strip(),
        language=language,
        kind=kind.strip(),
        audience=audience,
    )
    staging = uploads.new_staging_dir(core.settings)
    try:
        staged = await uploads.stage(files, staging, settings.max_file_bytes)
        results = await run_in_threadpool(uploads.ingest_staged, core, staged, entry)
    finally:
        await run_in_threadpool(uploads.remove_staging, staging)
    return UploadResult(files=results)


@router.delete(
    "/{doc_id}",
    response_model=DeleteResult,
    summary="Delete a document (admin)",
    description="Removes the document and its passages from the index (and its uploaded file).",
    responses=error_responses(401, 503)
    | {403: {"description": "Not an admin key."}, 404: {"description": "No such document."}},
)
async def delete_document(
    doc_id: DocIdPath, core: CoreDep, store: StoreDep, _admin: AdminDep
) -> DeleteResult:
    doc = await run_in_threadpool(store.get_document, doc_id)
    await run_in_threadpool(store.remove_document, doc_id)
    await run_in_threadpool(uploads.remove_upload, core.settings, doc.source)
    return DeleteResult(deleted=doc_id)
