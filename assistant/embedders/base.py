"""The embedding seam.

An :class:`Embedder` turns passages and queries into vectors. e5 models are trained with the
prefixes ``passage: `` and ``query: `` and lose recall without them, so the seam has separate
methods for the two; backends decide whether the prefixes apply. Backends load their model lazily
(on first use, or in ``warm_up``), never at construction, so the CLI starts fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, runtime_checkable

from langchain_core.embeddings import Embeddings


@dataclass(frozen=True)
class EmbedderInfo:
    """Identifies the vector space an index was built in. Two embedders with equal info are
    interchangeable; anything else means the index has to be rebuilt."""

    backend: str
    model: str
    dim: int

    def as_metadata(self) -> dict[str, str | int]:
        return {
            "embedder_backend": self.backend,
            "embedder_model": self.model,
            "embedder_dim": self.dim,
        }

    def describe(self) -> str:
        return f"{self.backend}:{self.model} ({self.dim}d)"


@runtime_checkable
class Embedder(Protocol):
    """Contract of every embedding backend.

    Vectors are L2-normalised lists of floats so that cosine and inner product agree.
    """

    def info(self) -> EmbedderInfo:
        """Backend, model and dimension. May load the model to learn the dimension."""
        ...

    def warm_up(self) -> None:
        """Load the model now (the API calls this at start-up)."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed texts to be stored (e5: with the ``passage: `` prefix)."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """Embed a search query (e5: with the ``query: `` prefix)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text`` as a passage (used for the chunk budget)."""
        ...


class LangChainEmbeddings(Embeddings):
    """Adapter that lets any :class:`Embedder` plug into LangChain (vector stores, retrievers)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text)


def normalise(rows: Sequence[Sequence[float]]) -> list[list[float]]:
    """L2-normalise rows (backends that already normalise pass through unchanged)."""
    import numpy as np

    arr = np.asarray(rows, dtype=np.float32)
    if arr.size == 0:
        return []
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (arr / norms).tolist()


M = TypeVar("M")


class LazyModel(Generic[M]):
    """A model loaded once, on first use, by whichever thread asks first.

    ``load`` may fail in many ways (missing package, missing weights, ctypes errors); ``fail``
    turns the exception into the error the backend reports. ``lock`` is shared with callers
    that must also serialise their use of the model.
    """

    def __init__(
        self,
        load: Callable[[], M],
        fail: Callable[[Exception], Exception],
        lock: threading.Lock | None = None,
    ) -> None:
        self._load = load
        self._fail = fail
        self.lock = lock or threading.Lock()
        self._model: M | None = None

    def get(self) -> M:
        if self._model is None:
            with self.lock:
                if self._model is None:
                    try:
                        self._model = self._load()
                    except Exception as exc:  # noqa: BLE001 - reported through ``fail``
                        raise self._fail(exc) from exc
        return self._model
