"""From a generator's draft to a checked answer: valid markers only, numbered in order, each
with a structured citation whose quote is an exact slice of the stored document text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.base import Draft
from assistant.contract import Citation, PassageOut
from assistant.retrieval.passage import Passage
from vectorstore.records import StoredChunk

MARKER = re.compile(r"\[(\d+)\]")
OPEN, CLOSE = "\ue000", "\ue001"  # private-use characters: placeholders for kept markers
PARKED = re.compile(f"{OPEN}(\\d+){CLOSE}")
MARKER_GROUP = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)+)\]")


def passage_link(doc_id: str, start: int, end: int) -> str:
    return f"/api/documents/{doc_id}/passage?start={start}&end={end}"


def source_fields(chunk: StoredChunk, start: int, end: int) -> dict:
    quote = chunk.text[start - chunk.start : end - chunk.start]
    return {
        "doc_id": chunk.doc_id,
        "source": chunk.source,
        "title": chunk.title,
        "organisation": chunk.organisation,
        "section": chunk.section,
        "section_path": list(chunk.section_path),
        "page": chunk.page,
        "quote": quote,
        "start": start,
        "end": end,
        "link": passage_link(chunk.doc_id, start, end),
    }


def passage_out(p: Passage, rank: int) -> PassageOut:
    c = p.chunk
    return PassageOut(
        **source_fields(c, c.start, c.end),
        rank=rank,
        score=round(p.score, 6),
        chunk_id=c.chunk_id,
        text=c.text,
    )


@dataclass(frozen=True)
class Checked:
    text: str
    citations: list[Citation]
    removed: list[str]
    renumbered: dict[int, int]


def check_markers(draft: Draft, passages: Sequence[Passage]) -> Checked:
    """Keep markers that name a given passage, drop the rest (reported), renumber from 1 in
    order of first use and build one citation per cited passage."""
    text = MARKER_GROUP.sub(
        lambda m: "".join(f"[{n.strip()}]" for n in re.split(r"[,;]", m.group(1))), draft.text
    )
    removed: list[str] = []

    def park(match: re.Match) -> str:
        n = int(match.group(1))
        if not 1 <= n <= len(passages):
            removed.append(match.group(0))
            return ""
        return f"{OPEN}{n}{CLOSE}"

    # Removing a marker can join its neighbours into a new one ("[2[999]]" → "[2]"), so repeat
    # until no bracketed number is left; kept markers are parked as placeholders meanwhile and
    # numbered at the end in order of first appearance.
    while MARKER.search(text):
        text = MARKER.sub(park, text)
    order: dict[int, int] = {}

    def number(match: re.Match) -> str:
        n = int(match.group(1))
        order.setdefault(n, len(order) + 1)
        return f"[{order[n]}]"

    text = PARKED.sub(number, text)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    citations = []
    for old, new in order.items():
        chunk = passages[old - 1].chunk
        start, end = draft.spans.get(old, (chunk.start, chunk.end))
        if not (chunk.start <= start < end <= chunk.end):
            start, end = chunk.start, chunk.end
        citations.append(Citation(id=new, **source_fields(chunk, start, end)))
    return Checked(text, citations, removed, order)
