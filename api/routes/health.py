"""Liveness, readiness and metrics: for orchestrators and Prometheus, never rate limited."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import CoreDep, MetricsDep
from api.errors import forget_store
from api.schemas import Health
from assistant.core import Core
from assistant.errors import AssistantError

router = APIRouter(tags=["operations"])
log = logging.getLogger("api")


def check_ready(core: Core) -> dict[str, str]:
    """Load the embedder and reach the index; ``{"embedder": "ok", "index": "ok"}`` when both
    work, the failing part's error code otherwise. Blocking; also the start-up warm-up."""
    checks: dict[str, str] = {}
    for name, probe in (
        ("embedder", lambda: core.embedder.warm_up()),
        ("index", lambda: core.store.count_chunks()),
    ):
        try:
            probe()
            checks[name] = "ok"
        except AssistantError as exc:
            log.warning("%s not ready: %s", name, exc.message)
            checks[name] = exc.code
        except Exception:
            log.exception("%s not ready", name)
            checks[name] = "internal_error"
    return checks


@router.get("/healthz", response_model=Health, summary="Is the process up?")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    summary="Can it answer? (index reachable, embedder loaded)",
    responses={503: {"model": Health, "description": "Not ready; `checks` says what fails."}},
)
async def readyz(request: Request, core: CoreDep):
    checks = await run_in_threadpool(check_ready, core)
    if all(v == "ok" for v in checks.values()):
        return Health(status="ok", checks=checks)
    if checks.get("index") != "ok":
        forget_store(request)
    body = Health(status="unavailable", checks=checks).model_dump()
    return JSONResponse(body, status_code=503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(m: MetricsDep) -> Response:
    body, content_type = m.render()
    return Response(body, media_type=content_type)
