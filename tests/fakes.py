"""Deterministic stand-ins for unit tests that do not measure retrieval quality."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

from assistant.embedders.base import EmbedderInfo

WORD = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder:
    """Hashed bag of words: texts sharing words get similar vectors; no model, instant."""

    def __init__(self, dim: int = 64, model: str = "fake-bow") -> None:
        self.dim = dim
        self.model = model
        self.model_calls = 0

    def info(self) -> EmbedderInfo:
        return EmbedderInfo("fake", self.model, self.dim)

    def warm_up(self) -> None:
        pass

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in WORD.findall(text.casefold()):
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
            vec[h % self.dim] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        self.model_calls += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def count_tokens(self, text: str) -> int:
        return max(1, math.ceil(len(text) / 3.2))
