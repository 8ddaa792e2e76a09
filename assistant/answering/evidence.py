"""Do the retrieved passages answer the question at all? The abstain decision.

A multilingual embedding says how *related* a passage is, not whether it *answers*: questions
about things the documents never mention still find related passages with high similarity. So
besides two graded signals — the best dense similarity (carries cross-lingual questions) and the
share of the question's content words found in the top passages (carries names and numbers) — we
check three things that make a question unanswerable outright:

- it names something (a place, a person, a code) that no document the caller may see mentions;
- it asks about a quarter or year for which no document has any milestone;
- it asks about a topic in a quarter, the topic exists, but not in that quarter.

Thresholds live in settings and are tuned on the development set (`strategy-assistant eval`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from assistant.answering.rewrite import content_words
from assistant.retrieval.hints import analyse
from assistant.retrieval.passage import Passage
from vectorstore.analysis import SCANDINAVIAN, NearSpellings, split_compound, stem_all
from vectorstore.glossary import english_glossary

TOP = 3
#: "X in Q4" where Q4's passages have at most a third of X's words and another quarter's have
#: two thirds: X is in the documents, not in that quarter. (Shares of a few words: 2 of 3 is
#: 0.666…, hence the tolerance.)
PERIOD_TOPIC_IN_QUARTER = 1 / 3
PERIOD_TOPIC_ELSEWHERE = 2 / 3
EPSILON = 1e-9
TIME_WORDS = re.compile(
    r"kvartal|quarter|^q[1-4]$|første|andet|anden|tredje|fjerde|första|andra|fjärde|first|second|third|fourth|^\d+$"
)
# "How many X" / "who is the X": the thing asked about is X; if the documents never mention X,
# no passage can answer, however related it looks.
FOCUS = re.compile(
    r"\b(?:hvor mange|hvor meget|hur många|hur mycket|hvem er|vem är|hvad koster|vad kostar)\s+"
    r"(?:de |den |det |en |et |ett |der |)([^\W\d_]{4,})",
    re.I,
)
ENGLISH_FOCUS = re.compile(r"\b(?:how many|how much|who is the|what does the)\s+(.+)", re.I)
FOCUS_SKIP = {
    "har",
    "have",
    "skal",
    "ska",
    "bliver",
    "blir",
    "blev",
    "bruges",
    "används",
    "kommer",
    "gør",
    "gör",
    "ansvarlig",
    "ansvarig",
    "kontaktperson",
}
YEARLIKE = re.compile(r"^(19|20)\d\d$")
#: In English a capitalised word is a name only before one of these ("Odense Municipality"):
#: elsewhere it may be an ordinary word capitalised for emphasis or as a title.
ORGANISATION_WORD = re.compile(
    r"^(?:municipality|county|region|kommunes?|kommuns?|city|council)(?:['’]s)?$", re.I
)
TOKEN = re.compile(r"[^\W_][\w\-’']*", re.UNICODE)


@dataclass(frozen=True)
class Evidence:
    dense: float
    coverage: float
    unknown_names: tuple[str, ...] = ()
    missing_period: bool = False
    wrong_period: bool = False

    def sufficient(self, min_dense: float, min_coverage: float) -> bool:
        if self.unknown_names or self.missing_period or self.wrong_period:
            return False
        return self.dense >= min_dense or self.coverage >= min_coverage


@dataclass(frozen=True)
class CorpusView:
    """What the caller's visible corpus contains: words/stems and (quarter, year) periods."""

    vocabulary: Collection[str]
    periods: Collection[tuple[int, int | None]]
    spellings: NearSpellings | None = None

    def spelt_nearly(self, word: str) -> bool:
        """Whether the corpus has a near-spelling of ``word`` (Swedish "årsverk" for the
        Danish "årsværk"): a Danish or Swedish word the corpus lacks may be its neighbour's."""
        return self.spellings is not None and bool(self.spellings.of(word))


def _stems(word: str, languages: Sequence[str]) -> set[str]:
    return {s for lang in languages for s in stem_all([word], lang)}


def _known(word: str, vocabulary: Collection[str], languages: Sequence[str]) -> bool:
    if word in vocabulary or _stems(word, languages) & set(vocabulary):
        return True
    parts = [p for p in re.split(r"[-’']", word) if p]
    if len(parts) > 1:
        return all(_known(p, vocabulary, languages) for p in parts)
    return bool(split_compound(word, set(vocabulary)))


def name_like(question: str, language: str) -> list[str]:
    """Tokens that look like names or codes: capitalised after the first word, or containing
    digits (years excluded). In English questions only tokens with digits or non-English letters
    count, since ordinary English words never occur in Danish and Swedish documents — and names
    of organisations ("Odense Municipality"), which would."""
    tokens = TOKEN.findall(question)
    out: list[str] = []
    for position, raw in enumerate(tokens):
        token = re.sub(r"['’]s$", "", raw)
        has_digit = any(ch.isdigit() for ch in token)
        if has_digit and (YEARLIKE.match(token) or len(token) < 3):
            continue
        capital = position > 0 and token[:1].isupper()
        if not (has_digit or capital):
            continue
        if (
            language == "en"
            and not has_digit
            and token.isascii()
            and not (position + 1 < len(tokens) and ORGANISATION_WORD.match(tokens[position + 1]))
        ):
            continue
        out.append(token.casefold())
    return out


def focus_words(question: str, language: str) -> list[str]:
    """The counted or named thing of a quantity or "who is" question (da/sv only: English
    words never occur in the documents, so they cannot be checked against them)."""
    if language not in ("da", "sv"):
        return []
    return [
        m.group(1).casefold()
        for m in FOCUS.finditer(question)
        if m.group(1).casefold() not in FOCUS_SKIP
    ]


def unknown_english_focus(
    question: str, language: str, vocabulary: Collection[str], languages: Sequence[str]
) -> list[str]:
    """The counted thing of an English "how many X" question when the glossary knows X and
    none of its Danish or Swedish words occurs in the caller's documents ("how many full-time
    equivalents" where no visible document mentions årsværk). Unknown English words say
    nothing: the glossary is small, and the documents never contain English."""
    m = ENGLISH_FOCUS.search(question) if language == "en" else None
    if not m:
        return []
    entries = english_glossary().matches(m.group(1))
    if not entries:
        return []
    first = entries[0]
    first_word = stem_all(TOKEN.findall(m.group(1).casefold())[:1], "en")
    if not first_word or first.english[0] != first_word[0]:
        return []  # the glossary word is not the counted thing ("how many people in the plan")
    translations = [*first.danish, *first.swedish]
    known = any(
        all(_known(w, vocabulary, languages) for w in TOKEN.findall(alt.casefold()))
        for alt in translations
    )
    return [] if known else [first.source]


def _coverage(
    words: Sequence[str],
    passage: Passage,
    languages: Sequence[str],
    translations: Mapping[str, Sequence[str]] | None = None,
) -> float:
    """Share of ``words`` the passage contains; a word also counts when one of its
    ``translations`` (the glossary's Danish and Swedish words for an English word) occurs."""
    if not words:
        return 0.0
    text = f"{passage.chunk.header}\n{passage.chunk.text}".casefold()
    terms = {s for tok in TOKEN.findall(text) for s in _stems(tok, languages)} | set(
        TOKEN.findall(text)
    )
    translations = translations or {}

    def found(word: str) -> bool:
        return any(
            _stems(w, languages) & terms or w in terms for w in (word, *translations.get(word, ()))
        )

    return sum(1 for w in words if found(w)) / len(words)


def translations_of(
    words: Sequence[str], language: str, use_glossary: bool
) -> dict[str, list[str]]:
    """The glossary's Danish and Swedish words for each English content word (each word of a
    multi-word translation counts: "offentlig høring" gives "offentlig" and "høring")."""
    if language != "en" or not use_glossary:
        return {}
    glossary = english_glossary()
    out: dict[str, list[str]] = {}
    for w in words:
        translated = TOKEN.findall(glossary.translate(w).casefold())
        if translated:
            out[w] = translated
    return out


def measure(
    question: str,
    language: str,
    passages: Sequence[Passage],
    languages: Sequence[str],
    view: CorpusView | None = None,
    use_glossary: bool = True,
) -> Evidence:
    if not passages:
        return Evidence(0.0, 0.0)
    dense = max((p.dense for p in passages if p.dense is not None), default=0.0)
    words = list(dict.fromkeys(content_words(question)))
    coverage = 0.0
    if words:
        translated = translations_of(words, language, use_glossary)
        top_words = {
            w for w in words for p in passages[:TOP] if _coverage([w], p, languages, translated)
        }
        coverage = len(top_words) / len(words)
    unknown: tuple[str, ...] = ()
    missing_period = wrong_period = False
    hints = analyse(question)
    if view is not None:
        names = name_like(question, language)
        # A counted thing may be spelt the neighbour language's way ("årsverk"/"årsværk"); a
        # name is not (a near-spelling of "Västerås" is "västra", another word).
        things = [
            w
            for w in focus_words(question, language)
            if not (language in SCANDINAVIAN and view.spelt_nearly(w))
        ]
        candidates = dict.fromkeys(names + things)
        unknown = tuple(w for w in candidates if not _known(w, view.vocabulary, languages))
        if use_glossary:
            unknown += tuple(unknown_english_focus(question, language, view.vocabulary, languages))
        if hints.quarters:
            years = hints.years or (None,)
            missing_period = not any(
                (q, y) in view.periods or (y is None and any(p[0] == q for p in view.periods))
                for q in hints.quarters
                for y in years
            )
        elif hints.years:
            missing_period = not any(
                p[1] in hints.years for p in view.periods
            ) and not _year_mentioned(hints.years, view.vocabulary)
    if hints.quarters and language in ("da", "sv") and not missing_period:
        topic = [w for w in words if not TIME_WORDS.search(w)]
        matched = [p for p in passages if set(hints.quarters) & set(p.chunk.quarters)]
        others = [p for p in passages if p not in matched]
        if topic and others:
            best_matched = max((_coverage(topic, p, languages) for p in matched), default=0.0)
            best_other = max(_coverage(topic, p, languages) for p in others)
            wrong_period = (
                best_matched <= PERIOD_TOPIC_IN_QUARTER + EPSILON
                and best_other >= PERIOD_TOPIC_ELSEWHERE - EPSILON
            )
    return Evidence(dense, coverage, unknown, missing_period, wrong_period)


def _year_mentioned(years: Sequence[int], vocabulary: Collection[str]) -> bool:
    return any(str(y) in vocabulary for y in years)
