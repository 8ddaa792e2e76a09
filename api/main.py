"""Builds the FastAPI app: one :class:`Core`, the routers, error handlers and middleware.

``uvicorn --factory api.main:create_app`` (what ``strategy-assistant serve`` runs) builds it from
the settings in the environment; tests pass a ready Core. The app keeps no state of its own
beyond caches, so several workers can share one Chroma server.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from api import errors
from api.limits import BodyLimitMiddleware
from api.metrics import Metrics, MetricsMiddleware
from api.ratelimit import build_limiter
from api.routes import chat, documents, health, openai_compat, search
from assistant.auth import KeyRing
from assistant.core import Core
from assistant.settings import Settings, get_settings

log = logging.getLogger("api")
STATIC_DIR = Path(__file__).resolve().parent / "static"
PLACEHOLDER_PAGE = (
    "<!doctype html><meta charset=utf-8><title>Strategy Assistant</title>"
    "<h1>Strategy Assistant</h1><p>The chat page is not installed. The API is at "
    '<a href="/docs">/docs</a>.</p>'
)
DESCRIPTION = """Answers questions about municipal strategy documents with citations to the exact
passages.

**Who sees what.** Without an API key (or with the key `public`) you are a citizen and see public
documents only. Staff send `Authorization: Bearer sa_…` and see every document; admin keys may
also upload and delete. Every error has the shape `{"error": {"code", "message", …}}`.
"""
TAGS = [
    {"name": "chat", "description": "Answers with citations, whole or streamed."},
    {"name": "openai", "description": "OpenAI-compatible chat completions (`base_url` = `/v1`)."},
    {"name": "search", "description": "Ranked passages without an answer."},
    {"name": "documents", "description": "Stored documents: list, read, cite, upload, delete."},
    {"name": "operations", "description": "Health, readiness and Prometheus metrics."},
]


@asynccontextmanager
async def lifespan(app: FastAPI):
    """Load the model and open the index before the first request (failures are logged; the
    process still starts, and /readyz says what is missing)."""
    checks = await run_in_threadpool(health.check_ready, app.state.core)
    log.info("start-up checks: %s", checks)
    if checks.get("index") == "ok":
        try:  # the BM25 index too, so that the first request does not wait for it
            await run_in_threadpool(app.state.core.retriever.warm_up)
        except Exception:
            log.exception("could not warm up the retriever; the first search will")
    yield


def create_app(core: Core | None = None, settings: Settings | None = None) -> FastAPI:
    """The API around ``core`` (default: a new Core from ``settings`` or the environment).

    :param settings: the HTTP layer's settings (keys, limits, CORS); default: the Core's.
    """
    settings = settings or (core.settings if core is not None else get_settings())
    core = core or Core(settings)
    app = FastAPI(
        title="Strategy Assistant",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.core = core
    app.state.settings = settings
    app.state.keys = KeyRing.from_settings(settings)
    app.state.metrics = Metrics()
    app.state.public_limiter = build_limiter(
        settings.rate_limit_per_minute, settings.workers, settings.data_dir, "public"
    )
    app.state.staff_limiter = build_limiter(
        settings.rate_limit_staff_per_minute, settings.workers, settings.data_dir, "staff"
    )

    errors.install(app)
    for module in (chat, openai_compat, search, documents, health):
        app.include_router(module.router)
    _add_page(app)

    # The last added is the outermost: CORS headers go on every response (a 413 too), metrics
    # count every request, and body limits apply before anything reads the body.
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        upload_paths=frozenset({"/api/documents"}),
    )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app


class _StaticDir(StaticFiles):
    """Static files whose folder may appear later (the page is written separately): 404 until
    it exists instead of a 500."""

    async def check_config(self) -> None:
        if not STATIC_DIR.is_dir():
            raise HTTPException(404)
        await super().check_config()


def _add_page(app: FastAPI) -> None:
    """``/`` is the chat page (``api/static/index.html``), ``/static/…`` its assets."""
    app.mount("/static", _StaticDir(directory=STATIC_DIR, check_dir=False), name="static")

    @app.get("/", include_in_schema=False)
    async def index():
        page = STATIC_DIR / "index.html"
        if page.is_file():
            return FileResponse(page, media_type="text/html")
        return HTMLResponse(PLACEHOLDER_PAGE)
