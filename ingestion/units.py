"""Splitting chunks into answer units — sentences and list items — with exact offsets.

The extractive answer is made of such units, so every claim it makes is a verbatim piece of a
cited passage and every citation can point at exactly the sentences used. Units are embedded at
ingest time, so choosing the units that answer a question costs no model call at query time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ITEM = re.compile(r"^\s*(?:[•\-–▪◦o]\s+|\d{1,2}[.)]\s+)")
# Abbreviations after which a period does not end a sentence (da, sv, en).
ABBREVIATIONS = {
    "ca",
    "f.eks",
    "fx",
    "m.v",
    "mv",
    "bl.a",
    "jf",
    "stk",
    "nr",
    "t.ex",
    "bl",
    "s.k",
    "dvs",
    "osv",
    "m.fl",
    "e.g",
    "i.e",
    "etc",
    "vs",
    "kr",
    "mio",
    "mia",
    "pct",
    "ift",
    "mht",
    "m.h.p",
    "inkl",
    "evt",
    "ang",
    "vedr",
    "st",
    "resp",
}
SENTENCE_END = re.compile(r"[.!?](?=\s+[\"“”'(]?[A-ZÆØÅÄÖ0-9§])")


@dataclass(frozen=True)
class Unit:
    """A sentence or list item: ``text == document_text[start:end]``."""

    start: int
    end: int
    text: str
    is_item: bool


def _sentences(text: str, offset: int) -> list[Unit]:
    units: list[Unit] = []
    begin = 0
    for match in SENTENCE_END.finditer(text):
        before = text[begin : match.start()].rsplit(None, 1)
        last_word = before[-1].lower().rstrip(".") if before else ""
        if last_word in ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        end = match.end()
        units.extend(_unit(text, begin, end, offset, False))
        begin = end
    units.extend(_unit(text, begin, len(text), offset, False))
    return units


def _unit(text: str, start: int, end: int, offset: int, is_item: bool) -> list[Unit]:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return []
    lead = len(piece) - len(piece.lstrip())
    s = start + lead
    e = s + len(stripped)
    return [Unit(offset + s, offset + e, stripped, is_item)]


def split_units(text: str, offset: int = 0) -> list[Unit]:
    """Units of a chunk's text in order: each list item whole, paragraphs split into sentences.
    Offsets are ``offset`` (the chunk's start in its document) plus the position in ``text``."""
    units: list[Unit] = []
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        if not line.strip():
            continue
        if ITEM.match(line):
            units.extend(_unit(text, line_start, line_start + len(line), offset, True))
        else:
            units.extend(_sentences(line, offset + line_start))
    return units


def strip_marker(text: str) -> str:
    """The item text without its bullet or number."""
    return ITEM.sub("", text, count=1).strip()
