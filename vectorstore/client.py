"""Opening Chroma: embedded (``PersistentClient``) by default, a server (``HttpClient``) when
``chroma_url`` is set. chromadb is imported here only, and lazily, because it is slow to import.
"""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import urlparse

from assistant.errors import StoreError, StoreUnavailable
from assistant.settings import Settings


def open_client(settings: Settings):
    """A chromadb client for the configured store; :class:`StoreUnavailable` when unreachable."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise StoreError(f"invalid chroma_url {settings.chroma_url!r}")
        where = f"Chroma server at {settings.chroma_url}"
        _probe(settings.chroma_url, settings.store_timeout_s, where)
        with translate_errors(where):
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            _bound_http_timeout(client, settings.store_timeout_s)
            client.heartbeat()
            return client
    path = settings.chroma_path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(f"cannot create the data directory {path}: {exc}") from exc
    try:
        with translate_errors(f"embedded Chroma at {path}"):
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except StoreError:
        # chromadb caches one client system per path, a failed one too; forget this path's so
        # the next attempt starts clean (and reports the real reason) once the fault is gone.
        forget_embedded_system(path)
        raise


def forget_embedded_system(path) -> object | None:
    """Drop chromadb's cached client system for the embedded store at ``path`` (there is no
    public API for it); the next client opens the files afresh. Returns the dropped system."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    return SharedSystemClient._identifier_to_system.pop(str(path), None)


def _probe(url: str, seconds: float, where: str) -> None:
    """Ask the server's heartbeat with a bounded wait before chromadb's client, which calls the
    server in its constructor without any timeout, gets to hang on a server that never answers."""
    import httpx

    base = url.rstrip("/")
    try:
        response = httpx.get(f"{base}/api/v2/heartbeat", timeout=seconds)
        if response.status_code == 404:
            response = httpx.get(f"{base}/api/v1/heartbeat", timeout=seconds)
    except httpx.HTTPError as exc:
        raise StoreUnavailable(f"{where} is not available: {exc}") from exc
    if response.status_code >= 500:
        raise StoreUnavailable(f"{where} is not available: HTTP {response.status_code}")


def _bound_http_timeout(client, seconds: float) -> None:
    """chromadb's HTTP client waits forever (``httpx.Client(timeout=None)``); a server that
    silently drops packets would hang every request. Bound it. There is no public setting for
    this, so we set the timeout on the client's httpx session when it is where we expect it."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds)


def _is_connection_problem(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    markers = (
        "connect",
        "timeout",
        "timed out",
        "unavailable",
        "refused",
        "could not",
        "readonly",
        "read-only",
        "disk",
        "permission",
        "no space",
    )
    return any(m in text for m in markers)


@contextmanager
def translate_errors(where: str):
    """Turn chromadb and transport failures into our errors, with a message saying where."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:  # chromadb raises many unrelated types; keep the edge in one place
        if _is_connection_problem(exc):
            raise StoreUnavailable(f"{where} is not available: {exc}") from exc
        raise StoreError(f"{where} failed: {exc}") from exc
