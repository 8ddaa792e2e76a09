"""Dependencies of the routes, as ``Annotated`` aliases: the Core, the caller, limits, metrics.

The caller is decided here and only here: from the ``Authorization: Bearer`` key, through
:class:`assistant.auth.KeyRing`. Nothing in a request body, query, header or question can change
the audience a search runs with — :func:`search_filter` takes the audience from the caller and
the rest of the request can only narrow it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.metrics import Metrics
from api.schemas import ChatFilters
from assistant.answering.service import AnswerService
from assistant.auth import (
    PUBLIC,
    AuthenticationRequired,
    Caller,
    InvalidApiKey,
    KeyRing,
    NotAllowed,
)
from assistant.core import Core
from assistant.retrieval.retriever import HybridRetriever
from assistant.settings import Settings
from vectorstore.filters import SearchFilter
from vectorstore.store import ChromaStore

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="Staff API key (`Authorization: Bearer sa_…`). Without a key — or with the "
    "token `public` — you are a citizen and see public documents only.",
)


def get_core(request: Request) -> Core:
    return request.app.state.core


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


CoreDep = Annotated[Core, Depends(get_core)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


# Plain ``def`` dependencies run in the threadpool: opening the index may block (a Chroma
# server's heartbeat, loading the model), and it must not block the event loop.
def get_answers(core: CoreDep) -> AnswerService:
    return core.answers


def get_retriever(core: CoreDep) -> HybridRetriever:
    return core.retriever


def get_store(core: CoreDep) -> ChromaStore:
    return core.store


AnswersDep = Annotated[AnswerService, Depends(get_answers)]
RetrieverDep = Annotated[HybridRetriever, Depends(get_retriever)]
StoreDep = Annotated[ChromaStore, Depends(get_store)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def get_caller(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> Caller:
    """The caller the request's key stands for; public without a key.

    A key that matches nothing is refused with 401 and counts against the client's public rate
    limit, so guessing keys is as slow as any other public traffic.
    """
    header = request.headers.get("authorization", "").strip()
    scheme, _sep, token = header.partition(" ")
    if header and scheme.lower() != "bearer":
        raise InvalidApiKey("send the API key as 'Authorization: Bearer <key>'")
    token = token.strip()
    if not token:
        return PUBLIC
    keys: KeyRing = request.app.state.keys
    try:  # a key not seen before costs one scrypt: keep it off the event loop
        return await run_in_threadpool(keys.authenticate, token)
    except InvalidApiKey:
        request.app.state.public_limiter.hit(client_ip(request))
        raise


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_admin(caller: CallerDep) -> Caller:
    if not caller.is_staff:
        raise AuthenticationRequired("this needs an admin API key")
    if not caller.is_admin:
        raise NotAllowed("this needs an admin API key", role=caller.role)
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]


def rate_limit(request: Request, caller: CallerDep) -> None:
    """Public callers are limited per client IP; staff per key, by their own (higher) limit.

    A plain function: FastAPI runs it in its thread pool, where the shared limiter's SQLite
    transaction may wait on another worker's without stalling the event loop."""
    state = request.app.state
    if caller.is_staff:
        state.staff_limiter.hit(f"key:{caller.name}")
    else:
        state.public_limiter.hit(client_ip(request))


RateLimit = Depends(rate_limit)


def search_filter(caller: Caller, filters: ChatFilters | None = None) -> SearchFilter:
    """The caller's audience, narrowed by the request's filters (never widened)."""
    f = filters or ChatFilters()
    return SearchFilter(
        audience=caller.audience,
        doc_ids=tuple(f.documents),
        organisations=tuple(f.organisations),
        languages=tuple(f.languages),
        year=f.year,
        quarters=tuple(f.quarters),
    )
