"""Language detection for documents and for the short questions users type.

Lingua is good on sentences but Danish and Swedish share most short words, so a question such as
"Og i tredje kvartal?" carries almost no statistical signal. For short or ambiguous text we
therefore re-weight lingua's probabilities with a few decisive cues: letters that exist in only
one of the languages (æ/ø versus ä/ö) and common function words that differ ("og"/"och",
"hvad"/"vad", "ikke"/"inte").

Norwegian is deliberately not added as a helper language: measured on ~190 Danish, Swedish and
English questions and paragraphs, folding lingua's Norwegian into Danish fixed nothing the cues
did not already fix and turned short Swedish lines into Danish. If a caller lists ``nb`` or
``nn`` as candidates they are ordinary candidates.

``lingua`` is imported lazily: building a detector takes a moment and most commands never need
it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from assistant.errors import ConfigurationError

if TYPE_CHECKING:
    from lingua import LanguageDetector

DEFAULT_LANGUAGES: tuple[str, ...] = ("da", "sv", "en")

#: Below this many letters lingua's guess is weak and the cues are always consulted.
SHORT_TEXT_LETTERS = 40
#: Above this top probability a longer text is considered decided by lingua alone.
CONFIDENT = 0.75
#: Lingua is linear in the input length; the start of a document says enough about its language.
MAX_SAMPLE_CHARS = 4000
#: How much one cue multiplies the odds of the languages it points to.
CUE_FACTOR = 8.0
#: Share of a uniform prior mixed into lingua's values, so that cues can act when lingua
#: returns all zeros (it does for some very short inputs).
PRIOR = 0.1


def _cue_words(codes: tuple[str, ...], words: str) -> dict[str, tuple[str, ...]]:
    return dict.fromkeys(words.split(), codes)


# Words that occur in one of the candidate languages and not (commonly) in the others. A word may
# point to more than one language ("for" is Danish and English); it is then evidence against the
# rest. Words shared by Danish and Swedish ("det", "i", "med", "kommunen") are deliberately absent.
_WORD_CUES: dict[str, tuple[str, ...]] = {
    **_cue_words(
        ("da",),
        "og er hvad hvem hvordan hvorfor hvornår hvor hvilke hvilken hvilket ikke skal af til "
        "også meget noget bliver være findes mellem gennem uden ved hele selv jeg et nye hvis "
        "ansvarlig tak",
    ),
    **_cue_words(
        ("sv",),
        "och är vad vem hur varför när vilka vilken vilket inte ska ett av till också mycket "
        "något blir vara finns mellan genom utan vid hela själv jag nya ansvarar ansvarig tack",
    ),
    **_cue_words(
        ("en",),
        "the what who how why when where which is are was were about and of does do did this "
        "that these with will be has have an it its can you your me please thanks",
    ),
    **_cue_words(("da", "en"), "for at"),
}
_LETTER_CUES: dict[str, str] = {"æ": "da", "ø": "da", "ä": "sv", "ö": "sv"}
_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str, candidates: Sequence[str] = DEFAULT_LANGUAGES) -> str:
    """Return the ISO 639-1 code of the candidate language ``text`` is most likely written in.

    Works on whole documents and on questions of two or three words. Empty or undetectable text
    gets the first candidate, so callers should list their default language first.

    :param text: any text; only the first few thousand characters are looked at.
    :param candidates: ISO 639-1 codes to choose from, most likely first.
    :raises ConfigurationError: a candidate is not a language lingua knows.
    """
    return detect_language_with_confidence(text, candidates)[0]


def detect_language_with_confidence(
    text: str, candidates: Sequence[str] = DEFAULT_LANGUAGES
) -> tuple[str, float]:
    """Like :func:`detect_language`, also returning a probability in ``[0, 1]``.

    The probability is lingua's, re-weighted by the cues when the
    text is short or lingua is unsure. Fallbacks (empty text, nothing detectable) return 0.0 so
    a caller can prefer, say, the language of the previous turn of a conversation.
    """
    codes = _normalise(candidates)
    if len(codes) == 1:
        return codes[0], 1.0
    sample = text[:MAX_SAMPLE_CHARS]
    letters = sum(ch.isalpha() for ch in sample)
    if letters == 0:
        return codes[0], 0.0
    scores = _lingua_scores(sample, codes)
    if letters < SHORT_TEXT_LETTERS or max(scores.values()) < CONFIDENT:
        scores = _reweight(scores, cue_counts(sample, codes))
    best = max(codes, key=lambda code: scores[code])  # max() keeps the first of equals
    if scores[best] <= 0.0:
        return codes[0], 0.0
    return best, scores[best]


#: Text in parentheses or quotes: usually a title or term quoted from a document.
QUOTED = re.compile(r"\([^)]*\)|\"[^\"]*\"|“[^”]*”|„[^“”]*[“”]|«[^»]*»|”[^”]*”")
SENTENCE_END = re.compile(r"[.!?:]\s*$")


def question_words(text: str) -> str:
    """The part of a question that is in the asker's language: without names and quoted titles.

    "I live in Lyngby-Taarbæk – is the fee going to change?" is English; the place is Danish,
    and for lingua's trigrams (and the æ cue) one Danish name outweighs a short English
    sentence. Names are the capitalised words after the first word of a sentence; quoted or
    parenthesised text is the document's words ("(Klimatilpasning og klimasikring)"). When
    nothing would be left, the whole text is used.
    """
    text = QUOTED.sub(" ", text)
    kept: list[str] = []
    previous_end = 0
    for match in _WORD.finditer(text):
        word = match.group()
        starts_sentence = not kept or SENTENCE_END.search(text[previous_end : match.start()])
        previous_end = match.end()
        if word[:1].isupper() and not starts_sentence:
            continue
        kept.append(word)
    return " ".join(kept) if kept else text


def detect_question_language_with_confidence(
    text: str, candidates: Sequence[str] = DEFAULT_LANGUAGES
) -> tuple[str, float]:
    """:func:`detect_language_with_confidence` for a question: on its :func:`question_words`."""
    return detect_language_with_confidence(question_words(text), candidates)


def cue_counts(text: str, candidates: Sequence[str]) -> dict[str, int]:
    """Count the decisive letters and words in ``text`` for each candidate language.

    Exposed for tests and for debugging a surprising detection.
    """
    counts = dict.fromkeys(candidates, 0)
    lowered = text.lower()
    for letter, code in _LETTER_CUES.items():
        if code in counts:
            counts[code] += lowered.count(letter)
    for word in _WORD.findall(lowered):
        for code in _WORD_CUES.get(word, ()):
            if code in counts:
                counts[code] += 1
    return counts


def _normalise(candidates: Sequence[str]) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(code.strip().lower() for code in candidates if code.strip()))
    if not codes:
        raise ConfigurationError("no candidate languages given for language detection")
    return codes


def _lingua_scores(text: str, codes: tuple[str, ...]) -> dict[str, float]:
    """Lingua's probabilities for ``codes`` (all zeros when it has no opinion)."""
    scores = dict.fromkeys(codes, 0.0)
    for value in _detector(codes).compute_language_confidence_values(text):
        code = value.language.iso_code_639_1.name.lower()
        if code in scores:
            scores[code] = value.value
    return scores


def _reweight(scores: dict[str, float], cues: dict[str, int]) -> dict[str, float]:
    """Multiply each language's odds by ``CUE_FACTOR`` per cue and renormalise (in log space)."""
    if not any(cues.values()):
        return scores
    uniform = 1.0 / len(scores)
    logits = {
        code: math.log((1 - PRIOR) * p + PRIOR * uniform) + cues[code] * math.log(CUE_FACTOR)
        for code, p in scores.items()
    }
    top = max(logits.values())
    weights = {code: math.exp(logit - top) for code, logit in logits.items()}
    total = sum(weights.values())
    return {code: weight / total for code, weight in weights.items()}


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...]) -> LanguageDetector:
    """One lingua detector per candidate set, built on first use and kept for the process.

    Low-accuracy mode (trigrams only) is enough here: the cues handle the very short inputs where
    the high-accuracy models would help, and it loads faster and uses far less memory.
    """
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = []
    for code in codes:
        try:
            languages.append(Language.from_iso_code_639_1(IsoCode639_1.from_str(code)))
        except ValueError as exc:
            raise ConfigurationError(
                f"unknown language code {code!r} for language detection", language=code
            ) from exc
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()
