"""What a sentence may match of a question: its terms, its English words' translations, and
the thing it asks about.

A question becomes *concepts*: each term of the question is one, and for an English question
each glossary entry it uses is one (matched by any of the entry's Danish or Swedish words), so
that an entry with five translations counts once, like a word. The extractive answerer weighs
concepts by rarity among the candidate sentences.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet

from vectorstore.analysis import Analyzer, stem_all
from vectorstore.glossary import Entry, english_glossary

#: One thing a unit may match of the question: any of these term sets, each wholly.
Concept = tuple[frozenset[str], ...]

#: "Hvad er X?" / "Vad är X?" / "What is X?" asks for X itself.
DEFINITION_QUESTION = re.compile(r"\b(?:hvad|vad|what)\s+(?:er|är|is|are|'s)\s+", re.I)
#: "Hvor mange X?" counts X.
COUNT_QUESTION = re.compile(
    r"\b(?:hvor mange|hvor meget|hur många|hur mycket|how many|how much)\s+", re.I
)
#: Words after those that are not the thing asked about.
FOCUS_SKIP = {
    "the", "a", "an", "den", "det", "de", "en", "et", "ett", "egentlig", "egentligen",
    "one", "two", "three", "four", "five", "to", "tre", "fire", "fem", "två", "fyra",
}  # fmt: skip


def matches(concept: Concept, terms: AbstractSet[str]) -> bool:
    return any(alternative <= terms for alternative in concept)


def idf_weights(concepts: dict[object, Concept], units: Sequence[set[str]]) -> dict[object, float]:
    """Each concept's rarity among ``units`` (inverse document frequency)."""
    n = len(units)
    return {
        key: math.log((n + 1) / (sum(1 for u in units if matches(c, u)) + 0.5))
        for key, c in concepts.items()
    }


class QuestionConcepts:
    """Turns question text into concepts, stemmed as the answerer's analyzer stems units."""

    def __init__(self, analyzer: Analyzer, languages: Iterable[str]) -> None:
        self.analyzer = analyzer
        self.languages = tuple(languages)

    def focus(
        self, question: str, language: str, pattern: re.Pattern[str] = DEFINITION_QUESTION
    ) -> Concept:
        """What a question asks about: the first word after ``pattern`` ("hvad er / vad är /
        what is", "hvor mange / how many") that is not an article, a number or a name (names
        are capitalised: the question is about the thing, not whose it is), as a concept."""
        m = pattern.search(question)
        if not m:
            return ()
        rest = question[m.end() :]
        for token in re.finditer(r"[^\W\d_][\w\-']*", rest):
            word = token.group()
            if word.casefold() in FOCUS_SKIP or word[:1].isupper():
                continue
            # In English the thing may be a glossary phrase ("action catalogue").
            concepts = list(self.concepts(word, language).values())
            if language == "en":
                entries = english_glossary().matches(rest[token.start() :])
                if entries and entries[0].english[0] == stem_all([word.casefold()], "en")[0]:
                    concepts.append(self.entry_concept(entries[0]))
            return tuple(alt for concept in concepts for alt in concept)
        return ()

    def concepts(
        self, text: str, language: str, near: Mapping[str, Sequence[str]] | None = None
    ) -> dict[object, Concept]:
        """What a unit may match of the question: each of its terms, and for an English
        question each glossary entry it uses (any of the entry's Danish or Swedish words —
        all words of a phrase — counts as the entry), since the documents share no words with
        an English question. An entry counts once however many translations it has. A word
        with ``near`` spellings (the neighbour language's: "jordvärme", "jordvarme") is matched
        by any of them too."""
        concepts: dict[object, Concept] = {
            t: (frozenset((t,)),) for t in self.analyzer.query_terms(text, self.languages)
        }
        for word, spellings in (near or {}).items():
            alternatives = tuple(
                frozenset(self.analyzer.terms(alt, lang))
                for alt in spellings
                for lang in self.languages
            )
            for t in self.analyzer.query_terms(word, self.languages):
                if t in concepts:
                    concepts[t] = tuple(dict.fromkeys((*concepts[t], *alternatives)))
        if language == "en":
            for entry in english_glossary().matches(text):
                concepts[entry.english] = self.entry_concept(entry)
        return concepts

    def entry_concept(self, entry: Entry) -> Concept:
        """A glossary entry as a concept: any of its translations, each stemmed as each
        language (a unit is stemmed as its own language)."""
        alternatives = {
            frozenset(self.analyzer.terms(alt, lang))
            for alt in (*entry.danish, *entry.swedish)
            for lang in self.languages
        }
        return tuple(sorted((a for a in alternatives if a), key=sorted))
