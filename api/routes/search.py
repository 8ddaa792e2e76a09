"""``GET /api/search``: ranked passages for a query, without writing an answer."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, RateLimit, RetrieverDep, SettingsDep, search_filter
from api.schemas import ChatFilters, DocId, Quarter, error_responses
from assistant.answering.citations import passage_out
from assistant.contract import PassageOut
from assistant.errors import BadRequest

router = APIRouter(prefix="/api", tags=["search"], dependencies=[RateLimit])


@router.get(
    "/search",
    response_model=list[PassageOut],
    summary="Search passages",
    description="The best passages for `q` among the documents the caller may see, best first. "
    "Repeat a list parameter to give several values (`?languages=da&languages=sv`).",
    responses=error_responses(400, 401, 422, 429, 503),
)
async def search(
    retriever: RetrieverDep,
    settings: SettingsDep,
    caller: CallerDep,
    q: Annotated[str, Query(min_length=1, max_length=20_000, examples=["fjernvarme 2025"])],
    k: Annotated[int | None, Query(ge=1, le=50, description="Passages to return.")] = None,
    documents: Annotated[list[DocId], Query(max_length=50)] = [],  # noqa: B006 (FastAPI copies)
    organisations: Annotated[list[DocId], Query(max_length=50)] = [],  # noqa: B006
    languages: Annotated[list[Literal["da", "sv", "en"]], Query(max_length=3)] = [],  # noqa: B006
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    quarters: Annotated[list[Quarter], Query(max_length=4)] = [],  # noqa: B006
) -> list[PassageOut]:
    if not q.strip():
        raise BadRequest("q is empty")
    if len(q) > settings.max_question_chars:
        raise BadRequest(
            f"q is too long ({len(q)} characters; at most {settings.max_question_chars})"
        )
    filters = ChatFilters(
        documents=documents,
        organisations=organisations,
        languages=languages,
        year=year,
        quarters=quarters,
    )
    flt = search_filter(caller, filters)
    passages = await run_in_threadpool(retriever.search, q, flt, k=k)
    return [passage_out(p, n) for n, p in enumerate(passages, start=1)]
