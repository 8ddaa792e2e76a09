"""LangChain ``BaseRetriever`` over the hybrid retriever, so it plugs into LangChain chains.

Each returned ``Document`` carries the exact quote as ``page_content`` and the citation fields
(document id, section path, page, offsets, score) in its metadata. The filter — and with it the
caller's audience — is fixed when the retriever is built, not taken from the query.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.retrieval.passage import Passage
from assistant.retrieval.retriever import HybridRetriever
from vectorstore.filters import SearchFilter


def passage_to_document(p: Passage) -> Document:
    return Document(page_content=p.chunk.text, metadata={**p.chunk.describe(), "score": p.score})


class StrategyRetriever(BaseRetriever):
    """``retriever.invoke("question")`` → ranked LangChain documents under a fixed filter."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hybrid: Any
    search_filter: SearchFilter = SearchFilter(audience="public")
    k: int = 6

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        retriever: HybridRetriever = self.hybrid
        return [
            passage_to_document(p) for p in retriever.search(query, self.search_filter, k=self.k)
        ]
