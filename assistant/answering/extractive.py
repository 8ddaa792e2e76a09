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

from assistant.answering.answer_types import PHONE, satisfies, wanted_type
from assistant.answering.base import Draft, GenerationRequest
from assistant.answering.concepts import (
    COUNT_QUESTION,
    Concept,
    QuestionConcepts,
    idf_weights,
    matches,
)
from assistant.answering.phrases import language_name, phrase
from assistant.retrieval.hints import analyse
from assistant.retrieval.passage import Passage
from assistant.retrieval.scope import name_keys
from ingestion.units import Unit, split_units
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
    "resource": re.compile(
        r"årsværk|årsverk|ressourc|resurs|resource|staff|budget|hvor mange|hur många|how many|how much",
        re.I,
    ),
    "goal": re.compile(
        r"\bmål|goal|target|ambition|vision|klimaneutral|klimatneutral|neutral", re.I
    ),
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
#: Units scoring within this margin of the best unit are used too (e5 similarities are compressed:
#: a few hundredths separate an answer from its neighbours).
MARGIN = 0.06
PASSAGE_MARGIN = 0.08
UNITS_FROM_BEST = 4
LEXICAL_WEIGHT = 0.2
RANK_PENALTY = 0.01
CUE_BONUS = 0.02
#: A question that names a quarter wants that quarter's milestones, not a similar list of another.
QUARTER_BONUS = 0.05
#: "Who can I contact …?" wants the contact block: a line with an e-mail address or phone number
#: and the name and title lines just above it.
CONTACT_QUESTION = re.compile(
    r"kontakt|contact|\bringe\b|\bringa\b|\bmaile\b|\bmejla\b|e-?mail|telefon|phone|"
    r"\breach\b|\bnår jag\b|\bnå (?:hende|ham|dem)\b|\bfat i\b|\bget hold of\b",
    re.I,
)
CONTACT_LINE = re.compile(rf"[\w.+-]+@[\w-]+\.[\w.]+|{PHONE}")
CONTACT_BONUS = 0.1
#: Name and title lines are short and end without a full stop.
CONTACT_BLOCK_LINES = 3
CONTACT_BLOCK_CHARS = 80
#: "Hvad er X?" asks for X itself: a sentence naming X defines it, one about the surrounding
#: strategy does not, however similar its embedding.
FOCUS_BONUS = 0.08
TRANSLATED_MIX = 0.7
FOCUS_MAX_UNITS = 3
#: In a follow-up ("Og hvem beslutter det?") the words the user just typed say what is new; the
#: subject carried over from the history only says where. The new words weigh this much more.
FOLLOW_UP_WEIGHT = 3.0
#: A sentence that mostly repeats the conversation's last answer is not what a follow-up asks for.
REPEAT_SHARE = 0.85
REPEAT_PENALTY = 0.05
SECTION_WEIGHT = 0.025
DROP_ORGANISATION_NAMES = True
#: A sentence of the wanted answer type (a time, a quantity) may score this much below the best
#: sentence on the topic and still be the answer; further down, the question goes unanswered.
TYPE_MARGIN = 0.05
WHEN = re.compile(r"hvornår|\bnår\b|\bnär\b|\bwhen\b|tidspunkt|dato|datum|\bdate\b", re.I)
#: A line that is only a label: an all-capitals word or two ("KONTAKT").
LABEL = re.compile(r"^[•\-–o]?\s*[A-ZÆØÅÄÖ]{3,}(?:\s+[A-ZÆØÅÄÖ]{3,})?:?$")
HEADING_LIKE = re.compile(r"^(?:•\s*)?(?:[1-4][.)]?\s*(?:og|och|–|-)?\s*)*kvartal\s*\d{4}$", re.I)
#: A milestone item names its project before a dash or comma ("Revision af praksis for jordvarme
#: – læring fra klagesager"); the same project recurs in the lists of several quarters.
PROJECT_STEP = re.compile(r"^(?:[•\-–o]\s+)?(\S.{3,80}?)(?:\s+[–-]\s+|,\s+)\S")
#: A sub-item under a group heading in a milestone list ("o Politisk behandling af …").
SUB_ITEM = re.compile(r"^\s*o\s+")
#: A sentence that announces the list after it ("… har tre prioriteringar som allt utgår från:",
#: "… indelad i tre olika delar enligt nedan"): quoting it without the list answers nothing.
ANNOUNCES_LIST = re.compile(
    r":\s*$|\b(?:følgende|nedenfor|nedenstående|herunder|följande|nedan|nedanstående|"
    r"the following|as follows|below)\b",
    re.I,
)


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=False))


@dataclass(frozen=True)
class Picked:
    number: int
    passage: Passage
    units: list[Unit]


@dataclass(frozen=True)
class Scored:
    score: float
    number: int
    unit: Unit
    terms: frozenset[str] = frozenset()


def label_key(text: str) -> str:
    """A line compared as a label: without bullet, numbering, colon, case and spacing."""
    text = re.sub(r"^[•\-–o]\s+|^\d+(?:\.\d+)*\.?\s+|:$", "", text.strip())
    return " ".join(text.casefold().split())


def project_key(unit: Unit) -> str | None:
    """The project a milestone item is a step of ("Revision af praksis for jordvarme"), as a
    comparable key; None for a sentence or an item without one."""
    m = PROJECT_STEP.match(unit.text.strip()) if unit.is_item else None
    return label_key(m.group(1)) if m else None


def intents(question: str) -> set[str]:
    return {name for name, pattern in INTENT_PATTERNS.items() if pattern.search(question)}


class ExtractiveGenerator:
    """Builds answers from verbatim units of the retrieved passages."""

    name = "extractive"

    def __init__(self, languages: Sequence[str] = ("da", "sv", "en")) -> None:
        self.languages = tuple(languages)
        self.analyzer = Analyzer()
        self.questions = QuestionConcepts(self.analyzer, self.languages)

    # --- choosing ---------------------------------------------------------------------------
    def _units(
        self, request: GenerationRequest, passage: Passage
    ) -> list[tuple[Unit, float | None]]:
        """The passage's units with their similarity to the question (None without vectors)."""
        chunk = passage.chunk
        stored = request.unit_vectors.get(chunk.chunk_id)
        text_units = split_units(chunk.text, chunk.start)
        if not stored or request.query_vector is None:
            return [(u, None) for u in text_units]
        by_span = {(v.start, v.end): v for v in stored}
        q = request.query_vector
        t = request.translated_vector
        out = []
        for u in text_units:
            v = by_span.get((u.start, u.end))
            sim = _dot(q, v.vector) if v else None
            if sim is not None and t is not None:
                sim = TRANSLATED_MIX * _dot(t, v.vector) + (1 - TRANSLATED_MIX) * sim
            out.append((u, sim))
        return out

    @staticmethod
    def _score(sim: float | None, lexical: float, cue: float, rank: int) -> float:
        base = sim if sim is not None else 0.8 + 0.1 * lexical
        return base + LEXICAL_WEIGHT * lexical + cue - RANK_PENALTY * rank

    def scored_units(
        self, request: GenerationRequest
    ) -> tuple[list[Scored], dict[int, list[Unit]], list[tuple[int, Passage]]]:
        """Every candidate unit of the top passages with its score, best first; the units of
        each passage (by citation number); and the candidate passages.

        A unit's score is its embedding similarity to the question, plus the share of the
        question's terms it contains weighted by how rare each term is among the candidate
        units: the words every unit shares with the question (the municipality, the
        programme's name) say nothing about which unit answers it; the rare ones do.
        """
        question = request.question
        wanted = intents(question)
        hints = analyse(question)
        candidates = list(enumerate(request.passages[: MAX_PASSAGES + 3], start=1))
        concepts = self.questions.concepts(question, request.language, request.near_spellings)
        if DROP_ORGANISATION_NAMES:
            # The organisation a question names scopes the search (every passage is its); its
            # name in a sentence ("… for Lyngby-Taarbæk Kommune") says nothing about the answer.
            names = {
                term
                for _, p in candidates
                for key in name_keys(p.chunk.organisation)
                for term in self.analyzer.query_terms(key, self.languages)
            }
            concepts = {k: c for k, c in concepts.items() if k not in names}
        # (citation number, unit, similarity, the unit's own terms, with its path's, bonus)
        rows: list[tuple[int, Unit, float | None, set[str], set[str], float]] = []
        units_of: dict[int, list[Unit]] = {}
        contexts: dict[int, set[str]] = {}
        for number, passage in candidates:
            chunk = passage.chunk
            units = [
                (u, s)
                for u, s in self._units(request, passage)
                if not HEADING_LIKE.match(u.text.strip())
            ]
            units_of[number] = [u for u, _ in units]
            # The section path names the theme ("3.1.3 Natur og biodiversitet") that the items
            # themselves rarely repeat: its words count for every unit of the section.
            context = set(self.analyzer.terms(" ".join(chunk.section_path), chunk.language or "da"))
            bonus = (
                QUARTER_BONUS
                if hints.quarters and set(hints.quarters) & set(chunk.quarters)
                else 0.0
            )
            labels = {label_key(part) for part in (chunk.title, *chunk.section_path)}
            for unit, sim in units:
                if label_key(unit.text) in labels or LABEL.match(unit.text.strip()):
                    continue  # the title or a heading repeated as a line says nothing
                own = set(self.analyzer.terms(unit.text, chunk.language or "da"))
                rows.append((number, unit, sim, own, own | context, bonus))
            contexts[number] = context
        weight = idf_weights(concepts, [r[4] for r in rows])
        follow_up = request.original_question.strip() and (
            request.original_question.strip() != question.strip()
        )
        if follow_up:
            typed = self.questions.concepts(request.original_question, request.language)
            weight = {k: w * (FOLLOW_UP_WEIGHT if k in typed else 1.0) for k, w in weight.items()}
        said = self._last_answer_terms(request) if follow_up else set()
        theme = self._theme_match(concepts, contexts)
        contact = bool(CONTACT_QUESTION.search(question))
        focus = self.questions.focus(question, request.language)
        if sum(1 for r in rows if matches(focus, r[4])) > FOCUS_MAX_UNITS:
            focus = ()  # a common word ("mål"): naming it does not make a sentence a definition
        total = sum(weight.values()) or 1.0
        scored: list[Scored] = []
        for number, unit, sim, own, unit_terms, bonus in rows:
            lexical = sum(w for k, w in weight.items() if matches(concepts[k], unit_terms)) / total
            bonus += SECTION_WEIGHT * theme[number]
            if focus and matches(focus, unit_terms):
                bonus += FOCUS_BONUS
            if contact and CONTACT_LINE.search(unit.text):
                bonus += CONTACT_BONUS
            if own and len(own & said) / len(own) >= REPEAT_SHARE:
                bonus -= REPEAT_PENALTY
            cue = sum(
                CUE_BONUS
                for intent in wanted
                if CUES.get(intent) and CUES[intent].search(unit.text)
            )
            score = self._score(sim, lexical, cue, number - 1) + bonus
            scored.append(Scored(score, number, unit, frozenset(unit_terms)))
        scored.sort(key=lambda s: -s.score)
        return scored, units_of, candidates

    @classmethod
    def _theme_match(
        cls, concepts: dict[object, Concept], contexts: dict[int, set[str]]
    ) -> dict[int, float]:
        """How well each passage's section path names the question's theme ("… under Natur og
        biodiversitet?"), weighting terms by rarity among the passages' paths. The unit score
        counts path words too, but there every unit of the section shares them, so they weigh
        little against a rare word in one sentence of another section."""
        # Only words some path has count: the rest say nothing about which section is meant.
        weight = {
            k: w
            for k, w in idf_weights(concepts, list(contexts.values())).items()
            if any(matches(concepts[k], c) for c in contexts.values())
        }
        total = sum(weight.values()) or 1.0
        return {
            number: sum(w for k, w in weight.items() if matches(concepts[k], c)) / total
            for number, c in contexts.items()
        }

    def _last_answer_terms(self, request: GenerationRequest) -> set[str]:
        """Terms of the conversation's last assistant message, stemmed for every language."""
        for message in reversed(request.history):
            if message.role == "assistant":
                return set(self.analyzer.query_terms(message.content, self.languages))
        return set()

    def pick(self, request: GenerationRequest) -> list[Picked]:
        question = request.question
        wanted = intents(question)
        scored, units_of, candidates = self.scored_units(request)
        kind = wanted_type(question, request.language)
        if kind is not None and scored:
            # A "when" question wants a sentence stating a time, a "how many" one a quantity;
            # with none close to the topic, the passages do not answer it.
            typed = [
                s
                for s in scored
                if satisfies(
                    kind, s.unit.text, " ".join(request.passages[s.number - 1].chunk.section_path)
                )
            ]
            if kind == "quantity" and request.language in ("da", "sv"):
                # "Hvor mange X?": the number must count X ("7 årsværk"), not something else
                # in the same passage ("16 nationella miljömål"). Only where the question's
                # words are the documents' (an English adjective would be taken for X), and
                # only when some sentence names X (the abstain check handles the rest).
                counted = self.questions.focus(question, request.language, COUNT_QUESTION)
                if counted and any(matches(counted, s.terms) for s in scored):
                    typed = [s for s in typed if matches(counted, s.terms)]
            if not typed or typed[0].score < scored[0].score - TYPE_MARGIN:
                return []
            scored = typed
        if not scored:
            return []
        best = scored[0]
        top_number = best.number
        # The best passage contributes its best few units; other passages only units that score
        # as well as the best one (an answer spread over two places).
        by_number: dict[int, list[Unit]] = {top_number: []}
        for s in scored:
            if s.number == top_number:
                if (
                    len(by_number[top_number]) < UNITS_FROM_BEST
                    and s.score >= best.score - PASSAGE_MARGIN
                ):
                    by_number[top_number].append(s.unit)
            elif s.score >= best.score - MARGIN and (
                s.number in by_number or len(by_number) < MAX_PASSAGES
            ):
                by_number.setdefault(s.number, []).append(s.unit)
        top_passage = request.passages[top_number - 1]
        steps: dict[int, list[Unit]] = {}
        if "milestone" in wanted and not analyse(question).quarters:
            # "What happens with X during the year?": X's step in each quarter, not the whole
            # list of the one quarter that scored best.
            steps = self._project_steps(best, candidates, units_of)
        list_answer = (
            not steps
            and "milestone" in wanted
            and not WHEN.search(question)
            and sum(u.is_item for u in units_of[top_number])
            >= max(1, len(units_of[top_number]) // 2)
        )
        if steps:
            by_number = steps
        elif list_answer:
            # "What happens in Q3 under X?": the whole milestone list is the answer, and a list
            # split across chunks continues in the neighbours expansion pulled in.
            # Other places are distractors then: the answer is this list (and its continuation).
            listed = [(top_number, u) for u in units_of[top_number] if u.is_item]
            for number, passage in candidates:
                if passage.expanded_from == top_passage.chunk_id:
                    listed += [(number, u) for u in units_of[number] if u.is_item]
            by_number = {top_number: []}
            for number, u in self._named_groups(listed, question, request.language)[:MAX_UNITS]:
                by_number.setdefault(number, []).append(u)
        else:
            for number, units in by_number.items():
                units.extend(self._new(units, self._announced(units, units_of[number])))
                if CONTACT_QUESTION.search(question):
                    units.extend(self._new(units, self._contact_block(units, units_of[number])))
        if steps:  # a project through the year reads in the order of its quarters
            order = sorted(by_number, key=lambda n: (request.passages[n - 1].chunk.quarters, n))
        else:
            order = sorted(by_number, key=lambda n: (n != top_number, n))
        picked, budget = [], MAX_CHARS
        for number in order:
            units = sorted(by_number[number], key=lambda u: u.start)
            units = self._within_budget(units, budget)
            if not units:
                continue
            budget -= sum(len(u.text) for u in units)
            picked.append(Picked(number, request.passages[number - 1], units))
        return picked

    @staticmethod
    def _project_steps(
        best: Scored, candidates: list[tuple[int, Passage]], units_of: dict[int, list[Unit]]
    ) -> dict[int, list[Unit]]:
        """The items of ``best``'s project ("<project> – <step>") in the quarter lists of the
        candidate passages, when they appear in more than one quarter."""
        key = project_key(best.unit)
        if key is None:
            return {}
        steps = {
            number: found
            for number, passage in candidates
            if passage.chunk.quarters
            and (found := [u for u in units_of[number] if project_key(u) == key])
        }
        quarters = {q for number in steps for q in candidates[number - 1][1].chunk.quarters}
        return steps if len(quarters) > 1 else {}

    def _named_groups(
        self, listed: list[tuple[int, Unit]], question: str, language: str
    ) -> list[tuple[int, Unit]]:
        """A milestone list grouped by project ("• Trafiksikkerhedsplanen" with its "o …"
        items) answered for the groups whose heading the question names; the whole list when
        it has no groups or the question names none."""
        groups: list[list[tuple[int, Unit]]] = []
        for entry in listed:
            if SUB_ITEM.match(entry[1].text) and groups:
                groups[-1].append(entry)
            else:
                groups.append([entry])
        if sum(1 for g in groups if len(g) > 1) < 2:
            return listed
        concepts = self.questions.concepts(question, language)
        named = [
            g
            for g in groups
            if len(g) > 1
            and any(
                matches(c, set(self.analyzer.terms(g[0][1].text, language)))
                for c in concepts.values()
            )
        ]
        return [entry for g in named for entry in g] if named else listed

    @staticmethod
    def _announced(chosen: list[Unit], units: list[Unit]) -> list[Unit]:
        """The list items that chosen sentences announce: the items right after a sentence
        ending in a colon or saying "følgende / nedan / the following" (after a colon, one
        plain line counts too: "Primære eksterne parter:" followed by a line of names)."""
        out: list[Unit] = []
        for lead in chosen:
            colon = lead.text.rstrip().endswith(":")
            if (lead.is_item and not colon) or not ANNOUNCES_LIST.search(lead.text):
                continue
            after = [u for u in units if u.start >= lead.end]
            for i, u in enumerate(after[:MAX_UNITS]):
                if not (u.is_item or (i == 0 and colon)):
                    break
                out.append(u)
        return out

    @staticmethod
    def _contact_block(chosen: list[Unit], units: list[Unit]) -> list[Unit]:
        """The name and title lines right above a chosen line with an e-mail or phone number
        (a contact line alone says how to reach someone, not whom)."""
        out: list[Unit] = []
        for line in [u for u in chosen if CONTACT_LINE.search(u.text)]:
            before = [u for u in units if u.end <= line.start]
            for u in reversed(before[-CONTACT_BLOCK_LINES:]):
                text = u.text.strip()
                if len(text) > CONTACT_BLOCK_CHARS or text.endswith(".") or LABEL.match(text):
                    break
                out.append(u)
        return out

    @staticmethod
    def _new(chosen: list[Unit], extra: list[Unit]) -> list[Unit]:
        """``extra`` without the units already chosen (or repeated), in order."""
        have = {(u.start, u.end) for u in chosen}
        out = []
        for u in extra:
            if (u.start, u.end) not in have:
                have.add((u.start, u.end))
                out.append(u)
        return out

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
            path = [part for part in chunk.section_path if part.strip() != chunk.title.strip()]
            if path:
                source += f" ({' > '.join(path)})"
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
                phrase(
                    "source_language",
                    request.language,
                    language=language_name(lang, request.language),
                )
            )
        return Draft("\n".join(lines).strip(), found=bool(picked), spans=spans)

    def generate(self, request: GenerationRequest) -> Draft:
        return self.compose(request, self.pick(request))

    def stream(self, request: GenerationRequest) -> Iterator[str | Draft]:
        draft = self.generate(request)
        yield from draft.text.splitlines(keepends=True)
        yield draft
