"""The core object both the CLI and the API use: settings, embedder and index, opened lazily.

Opening the index means importing chromadb and (for the default backend) loading a 70 MB model,
so nothing happens until a command actually needs it.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistant.embedders import Embedder, build_embedder
from assistant.settings import Settings, get_settings
from vectorstore.store import ChromaStore, open_store

if TYPE_CHECKING:
    from assistant.answering.service import AnswerService
    from assistant.retrieval.retriever import HybridRetriever


class Core:
    """Process-wide handles. Cheap to create; each part is built on first use."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    @cached_property
    def embedder(self) -> Embedder:
        return build_embedder(self.settings)

    @cached_property
    def store(self) -> ChromaStore:
        return open_store(self.settings, self.embedder)

    @cached_property
    def retriever(self) -> HybridRetriever:
        from assistant.retrieval.retriever import HybridRetriever

        return HybridRetriever(self.store, self.embedder, self.settings)

    @cached_property
    def answers(self) -> AnswerService:
        from assistant.answering.extractive import ExtractiveGenerator
        from assistant.answering.service import AnswerService, build_generator

        generator = build_generator(self.settings, self.embedder)
        fallback = None
        if generator.name != "extractive" and self.settings.llm_fallback_extractive:
            fallback = ExtractiveGenerator(self.settings.languages)
        return AnswerService(self.settings, self.retriever, generator, fallback)

    def reset_store(self) -> None:
        """Forget the opened index (and what was built on it) so the next use reopens it: a
        Chroma server that went away and came back is used again without a restart."""
        for name in ("answers", "retriever", "store"):
            self.__dict__.pop(name, None)
