"""What a question says about structure: quarters, years and section numbers.

Milestone lists are organised by quarter ("3. Kvartal 2025") under numbered sections
("3.1.2 Grøn Mobilitet"). Questions name these in many ways — "3. kvartal", "tredje kvartal",
"Q3", "third quarter", "kvartal 3" — in Danish, Swedish and English; recognising them lets the
retriever rank the right milestone list first instead of hoping the embedding noticed a digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ORDINALS = {
    "første": 1,
    "forste": 1,
    "första": 1,
    "forsta": 1,
    "first": 1,
    "1st": 1,
    "andet": 2,
    "anden": 2,
    "andra": 2,
    "second": 2,
    "2nd": 2,
    "tredje": 3,
    "third": 3,
    "3rd": 3,
    "fjerde": 4,
    "fjärde": 4,
    "fjarde": 4,
    "fourth": 4,
    "4th": 4,
    "sidste": 4,
    "sista": 4,
    "last": 4,
}
Q_WORD = r"(?:kvartal(?:et|er|ets)?|quarter|qtr)"
RANGE = re.compile(rf"\b([1-4])\.?\s*(?:og|och|and|to|til|till|-|–)\s*([1-4])\.?\s*{Q_WORD}", re.I)
NUM_BEFORE = re.compile(rf"\b([1-4])\s*\.?\s*{Q_WORD}", re.I)
NUM_AFTER = re.compile(rf"\b{Q_WORD}\s*([1-4])\b", re.I)
Q_SHORT = re.compile(r"\bq\s?([1-4])\b", re.I)
ORDINAL = re.compile(rf"\b({'|'.join(ORDINALS)})\s+{Q_WORD}", re.I)
YEAR = re.compile(r"\b(20[0-9]{2})\b")
SECTION = re.compile(r"(?<![\d.])(\d{1,2}(?:\.\d{1,2}){1,3})(?![\d.]*\d)")


@dataclass(frozen=True)
class QueryHints:
    quarters: tuple[int, ...] = ()
    years: tuple[int, ...] = ()
    sections: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.quarters or self.years or self.sections)


def quarters_in(text: str) -> tuple[int, ...]:
    found: set[int] = set()
    for m in RANGE.finditer(text):
        lo, hi = sorted((int(m.group(1)), int(m.group(2))))
        found.update(range(lo, hi + 1))
    for pattern in (NUM_BEFORE, NUM_AFTER, Q_SHORT):
        found.update(int(m.group(1)) for m in pattern.finditer(text))
    found.update(ORDINALS[m.group(1).lower()] for m in ORDINAL.finditer(text))
    return tuple(sorted(found))


def analyse(question: str) -> QueryHints:
    """Structural hints in ``question`` (empty when it names none)."""
    sections = tuple(s for s in SECTION.findall(question) if not re.fullmatch(r"\d+\.\d{3,}", s))
    return QueryHints(
        quarters=quarters_in(question),
        years=tuple(sorted({int(y) for y in YEAR.findall(question)})),
        sections=sections,
    )
