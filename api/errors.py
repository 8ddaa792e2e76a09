"""One error shape for every failure: ``{"error": {"code", "message", ...context}}``.

Project errors keep their status and code. Three kinds of detail never leave the server: the
id of a document the caller may not see (a not-found answer is the same whether the document is
missing or hidden), internal addresses and paths (store and unexpected errors are logged in full
and answered generically), and the raw input echoed by validation errors.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from assistant.errors import (
    AssistantError,
    DocumentNotFound,
    GeneratorError,
    GeneratorTimeout,
    StoreError,
    StoreUnavailable,
)

log = logging.getLogger("api")

#: Context keys that may hold server paths; never sent to clients.
PRIVATE_CONTEXT = frozenset({"path", "manifest"})
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}
INTERNAL_MESSAGE = "internal error; the server log has the details"
STORE_DOWN_MESSAGE = "the document index is not reachable right now; try again shortly"


def error_json(code: str, message: str, **context: object) -> dict:
    return {"error": {"code": code, "message": message, **context}}


def public_error(exc: AssistantError) -> dict:
    """What a client may see of ``exc``: ``{"code", "message", ...safe context}``."""
    if isinstance(exc, DocumentNotFound):
        return {"code": exc.code, "message": "no such document"}
    if isinstance(exc, StoreUnavailable):
        return {"code": exc.code, "message": STORE_DOWN_MESSAGE}
    if isinstance(exc, StoreError) and exc.status >= 500:
        return {"code": exc.code, "message": INTERNAL_MESSAGE}
    if isinstance(exc, GeneratorTimeout):
        return {"code": exc.code, "message": "the language model did not answer in time"}
    if isinstance(exc, GeneratorError):
        # The message names the endpoint and model: for the log, not for callers.
        return {"code": exc.code, "message": "the language model failed to answer"}
    body = exc.to_dict()
    return {k: v for k, v in body.items() if k not in PRIVATE_CONTEXT}


def forget_store(request: Request) -> None:
    """Drop the Core's cached store (and what holds it) so the next request reopens it: a
    Chroma server that comes back is used again without a restart."""
    request.app.state.core.reset_store()


def _headers(exc: AssistantError) -> dict[str, str]:
    headers: dict[str, str] = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return headers


async def assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
    if isinstance(exc, StoreUnavailable):
        log.warning("store unavailable: %s", exc.message)
        forget_store(request)
    elif exc.status >= 500:
        log.error("%s on %s %s: %s", exc.code, request.method, request.url.path, exc.message)
    return JSONResponse({"error": public_error(exc)}, status_code=exc.status, headers=_headers(exc))


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = [
        {
            "loc": [str(part) for part in e.get("loc", ())],
            "msg": e.get("msg", ""),
            "type": e["type"],
        }
        for e in exc.errors()
    ]
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"])
    message = (
        f"invalid request: {where}: {first['msg']}" if where else f"invalid request: {first['msg']}"
    )
    return JSONResponse(error_json("validation_error", message, details=details), status_code=422)


async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return JSONResponse(error_json(code, message), status_code=exc.status_code, headers=exc.headers)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(error_json("internal_error", INTERNAL_MESSAGE), status_code=500)


async def storage_error(request: Request, exc: OSError) -> JSONResponse:
    """The data directory cannot be written (disk full, read-only): the service is unavailable
    until an operator frees space, not broken; say so without naming paths."""
    log.error("storage error on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        error_json("storage_unavailable", "the server cannot write its data directory right now"),
        status_code=503,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(AssistantError, assistant_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(OSError, storage_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected_error)
