"""Rewriting follow-up questions into standalone ones, without a language model.

"Og i tredje kvartal?" after "Hvad sker der i 2. kvartal under grøn mobilitet?" means "Hvad sker
der i tredje kvartal under grøn mobilitet?"; "Vem ansvarar för det?" after a question about KMPP
means "Vem ansvarar för KMPP?". We carry the subject, section, document and time scope over from
the history: a follow-up that names a new quarter or year replaces the old one in the previous
question; a follow-up that points back with a pronoun gets the previous question's subject.
A question that stands on its own is returned unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.contract import Message
from assistant.retrieval.hints import NUM_AFTER, NUM_BEFORE, ORDINAL, Q_SHORT, RANGE, YEAR, analyse
from vectorstore.analysis import STOPWORDS, words

FOLLOW_UP_START = re.compile(
    r"^\s*(og|och|and|men|but|what about|how about|hvad med|hur är det med|hur med|vad med|"
    r"også|också|also|samme|samma|same|then|så)\b",
    re.I,
)
BACK_REFERENCE = re.compile(
    r"\b(det|den|dette|denne|disse|dem|deraf|dertil|där|der|detta|dessa|it|its|that|this|those|"
    r"these|they|them|there|samme|samma|same|"
    # people: "Hur når jag henne?", "Who is he?"
    r"hun|han|hende|ham|hon|henne|honom|she|he|her|him|"
    # "the earlier initiatives", "de tidligere indsatser"
    r"earlier|previous|tidligere|tidigare|forrige|förra|nævnte|nämnda|mentioned)\b",
    re.I,
)
QUESTION_WORDS = {
    "hvad",
    "hvem",
    "hvordan",
    "hvornår",
    "hvor",
    "hvilke",
    "hvilken",
    "hvilket",
    "hvorfor",
    "vad",
    "vem",
    "hur",
    "när",
    "var",
    "vilka",
    "vilken",
    "vilket",
    "varför",
    "what",
    "who",
    "how",
    "when",
    "where",
    "which",
    "why",
    "sker",
    "händer",
    "happens",
    "happen",
    "der",
    "det",
    "den",
    "er",
    "är",
    "is",
    "are",
    "i",
    "in",
    "om",
    "about",
    "og",
    "och",
    "and",
    "kvartal",
    "kvartalet",
    "quarter",
    "q1",
    "q2",
    "q3",
    "q4",
    "tell",
    "me",
    "please",
    "mange",
    "många",
    "many",
    "much",
    "ansvarlig",
    "ansvarar",
    "responsible",
    "bruges",
    "används",
    "used",
    "skal",
    "ska",
    "will",
    "be",
}
TIME_PATTERNS = (RANGE, ORDINAL, NUM_BEFORE, NUM_AFTER, Q_SHORT)
# Fewer content words than this and the question cannot name its own subject.
MIN_CONTENT_WORDS = 3
#: Words that do not name a subject of their own: "Can the municipality achieve this on its
#: own?" points back as much as "Can it achieve this?".
GENERIC_WORDS = {
    "kommune", "kommunen", "kommun", "municipality", "council", "city", "byen", "staden",
    "own", "selv", "själv", "egen", "eget", "alone", "alene", "ensam", "ensamt", "do", "does",
    "gøre", "göra", "can", "kan", "could", "kunne", "kunna",
}  # fmt: skip


#: Words that only make sense after something was said: "also", "still", "then", "flere/fler"
#: ("more of them"), "those", "of that": a question using them continues the conversation
#: however many words of its own it has ("Hvornår kommer sagen så op hos politikerne?", "Har det
#: där kapitlet också egna mål?", "How are those turned into something more concrete?").
CONTINUES = re.compile(
    r"\b(?:også|också|also|too|stadig|fortfarande|still|"
    r"så(?! (?:mange|meget|længe|stor|store|snart|godt|vidt|fremt|många|mycket|länge|långt))|"
    r"sen|då|then|flere|fler|"
    r"dem|disse|dessa|those|these|"
    r"(?:det|den|de) där|"
    # "that" after a preposition or verb points back ("attached to that goal", "part of that");
    # after a noun it starts a relative clause ("the projects that CTMB hands over")
    r"(?:to|of|about|on|with|for|in|from|by|at|is|was|does|did) that)\b",
    re.I,
)


def content_words(text: str) -> list[str]:
    return [
        w
        for w in words(text)
        if w not in STOPWORDS and w not in QUESTION_WORDS and len(w) > 1 and not w.isdigit()
    ]


def is_follow_up(question: str) -> bool:
    """Heuristic: the question leans on what was said before."""
    content = content_words(question)
    if FOLLOW_UP_START.match(question) and (
        len(content) < MIN_CONTENT_WORDS + 1 or BACK_REFERENCE.search(question)
    ):
        return True
    subject = [w for w in content if w not in GENERIC_WORDS]
    if BACK_REFERENCE.search(question) and len(subject) < MIN_CONTENT_WORDS:
        return True
    return len(content) == 0 or bool(CONTINUES.search(question))


def _time_span(text: str) -> tuple[int, int] | None:
    for pattern in TIME_PATTERNS:
        m = pattern.search(text)
        if m:
            return m.span()
    return None


def _replace_time(previous: str, new_phrase: str) -> str:
    span = _time_span(previous)
    if span:
        return previous[: span[0]] + new_phrase + previous[span[1] :]
    return f"{previous.rstrip(' ?.!')} ({new_phrase})?"


def rewrite(question: str, history: Sequence[Message]) -> str:
    """The standalone form of ``question`` given the earlier turns (user and assistant)."""
    question = question.strip()
    previous = [m.content.strip() for m in history if m.role == "user" and m.content.strip()]
    if not previous or not is_follow_up(question):
        return question
    # The subject is the latest earlier question that had one.
    anchor = next((p for p in reversed(previous) if len(content_words(p)) >= 2), previous[-1])
    hints = analyse(question)
    span = _time_span(question)
    if (hints.quarters or hints.years) and len(content_words(question)) < MIN_CONTENT_WORDS:
        phrase = question[span[0] : span[1]] if span else ""
        rewritten = _replace_time(anchor, phrase) if phrase else anchor
        for year in hints.years:
            old = YEAR.search(rewritten)
            rewritten = (
                YEAR.sub(str(year), rewritten, count=1)
                if old
                else f"{rewritten.rstrip('?')} {year}?"
            )
        return rewritten
    subject = " ".join(dict.fromkeys(content_words(anchor)))
    base = question.rstrip(" ?.!")
    return f"{base} – {subject}?" if subject else question
