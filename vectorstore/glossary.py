"""English words of the domain in Danish and Swedish, for questions asked in English.

The documents are Danish and Swedish; an English question shares no words with them, so
everything that matches by words — BM25, the extractive answerer's choice of sentence, the
abstain check's coverage — had nothing to go on and only the embedding carried English
questions. A small hand-written glossary of the vocabulary of municipal strategies (bodies,
decisions, plans, climate, transport, nature, time) turns the English question's words into
the words the documents use. It adds words, never replaces the question: the embedding still
sees the question as asked.

No translation model is used: none can be installed here without a download, and a glossary
that a person can read and extend is easier to trust for the words that matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from vectorstore.analysis import stem_all, words

GLOSSARY_FILE = Path(__file__).with_name("glossary_en.tsv")
T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    english: tuple[str, ...]  # stems of the English word or phrase
    danish: tuple[str, ...]
    swedish: tuple[str, ...]
    source: str = ""  # the English as written in the file


def _alternatives(cell: str) -> tuple[str, ...]:
    cell = cell.strip()
    return () if cell in ("", "-") else tuple(a.strip() for a in cell.split("|") if a.strip())


def parse(lines: Iterable[str]) -> list[Entry]:
    """Entries of a glossary file: ``english<TAB>danish<TAB>swedish``, ``#`` comments, a header
    line ``en da sv``. A malformed line is an error naming its number: a typo here would
    otherwise silently weaken English answers."""
    entries: list[Entry] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = line.split("\t")
        if cells == ["en", "da", "sv"]:
            continue
        if len(cells) != 3 or not cells[0].strip():
            raise ValueError(f"glossary line {number}: expected english<TAB>danish<TAB>swedish")
        english = tuple(stem_all(words(cells[0]), "en"))
        entries.append(
            Entry(english, _alternatives(cells[1]), _alternatives(cells[2]), cells[0].strip())
        )
    return entries


class Glossary:
    """Looks up the Danish and Swedish words for an English text, longest phrases first; and,
    through the same entries, the Swedish words for Danish text and the Danish for Swedish."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        entries = list(entries)
        self.by_phrase: dict[tuple[str, ...], list[Entry]] = {}
        for entry in entries:
            self.by_phrase.setdefault(entry.english, []).append(entry)
        self.longest = _longest(self.by_phrase)
        # Danish stems -> Swedish words and Swedish stems -> Danish words, one entry being one
        # concept in three languages ("evaluate": evaluering | utvärdering).
        self._neighbours: dict[str, dict[tuple[str, ...], set[str]]] = {"da": {}, "sv": {}}
        for entry in entries:
            for language, source, target in (
                ("da", entry.danish, entry.swedish),
                ("sv", entry.swedish, entry.danish),
            ):
                for alternative in source if target else ():
                    stems = tuple(stem_all(words(alternative), language))
                    if stems:
                        self._neighbours[language].setdefault(stems, set()).update(target)
        self._neighbours_longest = {lang: _longest(t) for lang, t in self._neighbours.items()}

    def matches(self, text: str) -> list[Entry]:
        """The entries whose English words occur in ``text``; a word inside a matched phrase
        is not looked up again ("public transport" is not also "public" and "transport")."""
        stems = stem_all(words(text), "en")
        found = _longest_first(stems, self.by_phrase, self.longest)
        return [entry for entries in found for entry in entries]

    def translate(self, text: str, languages: Iterable[str] = ("da", "sv")) -> str:
        """The Danish and Swedish words for ``text``'s English words, as one text to analyse
        like a query ("" when nothing is known)."""
        wanted = set(languages)
        out: list[str] = []
        for entry in self.matches(text):
            if "da" in wanted:
                out.extend(entry.danish)
            if "sv" in wanted:
                out.extend(entry.swedish)
        return " ".join(dict.fromkeys(out))

    def neighbour_words(self, text: str, language: str) -> str:
        """For Danish ``text`` the Swedish words of the entries it uses, for Swedish text the
        Danish ones ("" for other languages or nothing known), longest phrases first.

        Near-spellings join the two languages where they spell one word differently
        ("jordvärme"/"jordvarme"); the glossary joins them where they use different words
        ("utvärdera"/"evaluere", "delad mobilitet"/"delemobilitet")."""
        table = self._neighbours.get(language)
        if not table:
            return ""
        stems = stem_all(words(text), language)
        matched = _longest_first(stems, table, self._neighbours_longest[language])
        found = (word for targets in matched for word in sorted(targets))
        return " ".join(dict.fromkeys(found))


def _longest(table: Mapping[tuple[str, ...], object]) -> int:
    return max((len(k) for k in table), default=0)


def _longest_first(stems: list[str], table: Mapping[tuple[str, ...], T], longest: int) -> list[T]:
    """The values of the phrases of ``table`` (none longer than ``longest`` words) found in
    ``stems``, left to right, each time the longest phrase starting at a word; the words of a
    found phrase are not looked up again."""
    found: list[T] = []
    i = 0
    while i < len(stems):
        for size in range(min(longest, len(stems) - i), 0, -1):
            value = table.get(tuple(stems[i : i + size]))
            if value:
                found.append(value)
                i += size
                break
        else:
            i += 1
    return found


@lru_cache(maxsize=1)
def english_glossary() -> Glossary:
    with GLOSSARY_FILE.open(encoding="utf-8") as handle:
        return Glossary(parse(handle))
