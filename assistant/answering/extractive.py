"""The default generator: answers made only of the passages' own sentences and list items.

It never writes a claim that is not verbatim in a cited passage: the only words it adds are a
lead-in naming the source and section ("Ifølge …:") and, when the source is in another language
than the question, a note saying so. Which units to use depends on what is asked: a milestone
question gets the whole milestone list of the matching quarter, a responsibility question the
sentences naming who is responsible, a goal question the goal with its year; otherwise the
sentences sharing the most terms with the question.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.answering.base import Draft, GenerationRequest
from assistant.answering.phrases import language_name, phrase
from assistant.answering.units import Unit, split_units
from assistant.retrieval.hints import analyse
from assistant.retrieval.passage import Passage
from vectorstore.analysis import Analyzer

INTENT_PATTERNS = {
    "milestone": re.compile(
        r"kvartal|quarter|\bq[1-4]\b|milepæl|milstolpe|milestone|hvornår|\bnär\b|\bwhen\b|"
        r"tidsplan|deadline|sker der|händer|happen",
        re.I,
    ),
    "responsibility": re.compile(
        r"\bhvem\b|\bvem\b|\bwho\b|ansvar|responsib|projektled|leder|ledde|\blead|udvalg|"
        r"nämnd|committee|samarbejd|samarbet|partner",
        re.I,
    ),
    "resource": re.compile(r"årsværk|årsverk|ressourc|resurs|resource|staff|budget|hvor mange|hur många|how many|how much", re.I),
    "goal": re.compile(r"\bmål|goal|target|ambition|vision|klimaneutral|klimatneutral|neutral", re.I),
}
CUES = {
    "responsibility": re.compile(
        r"ansvar|projektleder|projektledare|ledde|leder|udvalg|nämnd|center|centre|förvaltning|"
        r"kommunalbestyrelse|kommunfullmäktige|teknikudvalg|samarbejd|interessent|strateg\b",
        re.I,
    ),
    "resource": re.compile(r"årsværk|ressourc|resurs|\d", re.I),
    "goal": re.compile(r"\bmål|skal|ska\b|20[2-5]\d|procent|pct|%", re.I),
    "milestone": re.compile(r"kvartal|20[2-5]\d", re.I),
}
MAX_PASSAGES = 3
MAX_UNITS = 10
MAX_CHARS = 1200


@dataclass(frozen=True)
class Picked:
    number: int
    passage: Passage
    units: list[Unit]


def intents(question: str) -> set[str]:
    return {name for name, pattern in INTENT_PATTERNS.items() if pattern.search(question)}


class ExtractiveGenerator:
    """Builds answers from verbatim units of the retrieved passages."""

    name = "extractive"

    def __init__(self, languages: Sequence[str] = ("da", "sv", "en")) -> None:
        self.languages = tuple(languages)
        self.analyzer = Analyzer()

    # --- choosing ---------------------------------------------------------------------------
    def _unit_score(self, unit: Unit, terms: set[str], wanted: set[str], language: str) -> float:
        unit_terms = set(self.analyzer.terms(unit.text, language or "da"))
        score = len(terms & unit_terms) / max(len(terms), 1)
        for intent in wanted:
            cue = CUES.get(intent)
            if cue and cue.search(unit.text):
                score += 0.25
        return score

    def pick(self, request: GenerationRequest) -> list[Picked]:
        question = request.question
        wanted = intents(question)
        hints = analyse(question)
        terms = set(self.analyzer.query_terms(question, self.languages))
        picked: list[Picked] = []
        budget = MAX_CHARS
        best_score = 0.0
        for number, passage in enumerate(request.passages, start=1):
            if len(picked) >= MAX_PASSAGES or budget <= 0:
                break
            chunk = passage.chunk
            units = split_units(chunk)
            if not units:
                continue
            scored = [(self._unit_score(u, terms, wanted, chunk.language), u) for u in units]
            top = max(s for s, _ in scored)
            quarter_match = bool(hints.quarters and set(hints.quarters) & set(chunk.quarters))
            is_list = sum(u.is_item for u in units) >= max(1, len(units) // 2)
            if picked and not quarter_match:
                # Later passages must earn their place: clearly relevant units only.
                if top < max(0.34, 0.75 * best_score):
                    continue
            if is_list and (quarter_match or "milestone" in wanted or passage.expanded_from):
                chosen = [u for u in units if u.is_item][:MAX_UNITS] or units[:MAX_UNITS]
            elif top <= 0 and not picked:
                chosen = units[:2]
            else:
                threshold = max(top * 0.6, 0.01)
                chosen = [u for s, u in scored if s >= threshold][:4]
            chosen = self._within_budget(chosen, budget)
            if not chosen:
                continue
            budget -= sum(len(u.text) for u in chosen)
            best_score = max(best_score, top)
            picked.append(Picked(number, passage, chosen))
        return picked

    @staticmethod
    def _within_budget(units: list[Unit], budget: int) -> list[Unit]:
        out, used = [], 0
        for u in units:
            if out and used + len(u.text) > budget:
                break
            out.append(u)
            used += len(u.text)
        return out

    # --- writing ----------------------------------------------------------------------------
    def compose(self, request: GenerationRequest, picked: list[Picked]) -> Draft:
        lines: list[str] = []
        spans: dict[int, tuple[int, int]] = {}
        noted_languages: set[str] = set()
        for p in picked:
            chunk = p.passage.chunk
            source = chunk.title
            if chunk.section_path:
                source += f" ({' > '.join(chunk.section_path)})"
            lines.append(phrase("according_to", request.language, source=source))
            if len(p.units) == 1 and not p.units[0].is_item:
                lines.append(f"{p.units[0].text} [{p.number}]")
            else:
                for u in p.units:
                    text = u.text if u.is_item else f"• {u.text}"
                    lines.append(f"{text} [{p.number}]")
            spans[p.number] = (min(u.start for u in p.units), max(u.end for u in p.units))
            if chunk.language and chunk.language != request.language:
                noted_languages.add(chunk.language)
            lines.append("")
        for lang in sorted(noted_languages):
            lines.append(
                phrase("source_language", request.language, language=language_name(lang, request.language))
            )
        return Draft("\n".join(lines).strip(), found=bool(picked), spans=spans)

    def generate(self, request: GenerationRequest) -> Draft:
        return self.compose(request, self.pick(request))

    def stream(self, request: GenerationRequest) -> Iterator[str | Draft]:
        draft = self.generate(request)
        for line in draft.text.splitlines(keepends=True):
            yield line
        yield draft
