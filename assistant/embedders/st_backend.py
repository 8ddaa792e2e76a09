"""Embedder backed by ``sentence-transformers``: any model id or local path.

Use it for the full-precision e5 model or another model a deployment has on disk. torch and
sentence-transformers are imported only when the model is first needed, so merely configuring the
backend costs nothing. Offline machines must point ``embedder_model`` at a local directory (or set
``HF_HUB_OFFLINE=1`` with a warm cache): hub downloads fail here by design.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.embedders.base import EmbedderInfo, LazyModel, normalise
from assistant.errors import EmbedderError


class SentenceTransformerEmbedder:
    """A sentence-transformers model; e5 prefixes applied when ``e5_prefixes`` is true."""

    backend = "sentence-transformers"

    def __init__(
        self,
        model: str,
        *,
        device: str = "cpu",
        batch_size: int = 16,
        e5_prefixes: bool = True,
    ) -> None:
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self.e5_prefixes = e5_prefixes
        self._lazy = LazyModel(self._open, self._failure)

    def _open(self):
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(self.model_name, device=self.device)

    def _failure(self, exc: Exception) -> EmbedderError:
        return EmbedderError(
            f"cannot load sentence-transformers model {self.model_name!r}: {exc}. "
            "Offline machines need a local model path.",
            model=self.model_name,
        )

    def _load(self):
        return self._lazy.get()

    def _prefixed(self, texts: Sequence[str], prefix: str) -> list[str]:
        return [f"{prefix}{t}" for t in texts] if self.e5_prefixes else list(texts)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        model = self._load()
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return normalise(vectors)

    def info(self) -> EmbedderInfo:
        model = self._load()
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        dim = getter()
        return EmbedderInfo(self.backend, self.model_name, int(dim))

    def warm_up(self) -> None:
        self._load()

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._encode(self._prefixed(texts, "passage: "))

    def embed_query(self, text: str) -> list[float]:
        return self._encode(self._prefixed([text], "query: "))[0]

    def count_tokens(self, text: str) -> int:
        model = self._load()
        (prefixed,) = self._prefixed([text], "passage: ")
        return len(model.tokenizer(prefixed)["input_ids"])
