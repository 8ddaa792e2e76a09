"""The plain baseline we must beat: LangChain ``RecursiveCharacterTextSplitter(1000, 200)``
chunks of the loaded (uncleaned) files, dense search only, same embedder, same audience rule.

It lives in memory (numpy) rather than Chroma: it is rebuilt per evaluation run and must not
touch the product's index. Passage embeddings go through the same content-hash cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.embedders import Embedder
from ingestion.loaders import load_file
from ingestion.manifest import doc_id_for, find_manifest, load_manifest


@dataclass(frozen=True)
class BaselineChunk:
    doc_id: str
    audience: str
    text: str


class BaselineIndex:
    def __init__(
        self, chunks: list[BaselineChunk], vectors: np.ndarray, embedder: Embedder
    ) -> None:
        self.chunks = chunks
        self.vectors = vectors
        self.embedder = embedder

    @classmethod
    def build(cls, corpus: Path, embedder: Embedder) -> BaselineIndex:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        manifest_path = find_manifest([corpus])
        manifest = load_manifest(manifest_path) if manifest_path else {}
        chunks: list[BaselineChunk] = []
        for path in sorted(corpus.iterdir()):
            if path.suffix.lower() not in {".txt", ".md", ".html", ".pdf", ".docx"}:
                continue
            entry = manifest.get(path.name)
            audience = entry.audience if entry else "staff"
            text = load_file(path).text
            doc_id = doc_id_for(path, entry)
            chunks.extend(BaselineChunk(doc_id, audience, t) for t in splitter.split_text(text))
        vectors = np.asarray(embedder.embed_passages([c.text for c in chunks]), dtype=np.float32)
        return cls(chunks, vectors, embedder)

    def search(self, query: str, audience: str, k: int = 10) -> list[BaselineChunk]:
        q = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        scores = self.vectors @ q
        order = np.argsort(-scores, kind="stable")
        visible = [i for i in order if audience == "staff" or self.chunks[i].audience == "public"]
        return [self.chunks[i] for i in visible[:k]]
