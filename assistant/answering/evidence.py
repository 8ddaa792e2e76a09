"""Do the retrieved passages answer the question at all? The abstain decision.

Two signals, cheap and independent: the best dense similarity between question and passage
(carries cross-lingual questions), and the share of the question's content terms found in the top
passages (carries exact names and numbers). Thresholds live in settings and are tuned on the
development set (``strategy-assistant eval answers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.rewrite import content_words
from assistant.retrieval.passage import Passage
from vectorstore.analysis import Analyzer, stem_all

TOP = 3


@dataclass(frozen=True)
class Evidence:
    dense: float
    coverage: float

    def sufficient(self, min_dense: float, min_coverage: float) -> bool:
        return self.dense >= min_dense or self.coverage >= min_coverage


def measure(question: str, passages: Sequence[Passage], languages: Sequence[str]) -> Evidence:
    if not passages:
        return Evidence(0.0, 0.0)
    dense = max((p.dense for p in passages if p.dense is not None), default=0.0)
    q_words = list(dict.fromkeys(content_words(question)))
    if not q_words:
        return Evidence(dense, 0.0)
    analyzer = Analyzer()
    top_terms: set[str] = set()
    for p in passages[:TOP]:
        text = f"{p.chunk.header}\n{p.chunk.text}"
        for lang in languages:
            top_terms.update(analyzer.terms(text, lang))
    found = 0
    for word in q_words:
        stems = {s for lang in languages for s in stem_all([word], lang)}
        if stems & top_terms:
            found += 1
    return Evidence(dense, found / len(q_words))
