"""Cut a cleaned, outlined document into retrievable chunks that are exact slices of its text.

A chunk is what retrieval returns and what an answer quotes, so it must read as a unit: it never
crosses a section boundary (a quarter's milestones are not mixed with the next quarter's), lists
are cut between items, and only a block too long for the embedder is cut inside, at sentence
boundaries first. Every chunk's ``text`` is ``clean.text[start:end]`` so citations point at the
stored text exactly; the section path goes into ``embed_text`` and metadata, not into the quote.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.models import Block, Chunk, CleanText, DocumentMeta, Section

TokenCounter = Callable[[str], int]

_SENTENCE_BREAK = re.compile(r"[.!?…][\"'”’»)\]]*(\s+)(?=\S)")
_OPENERS = "\"'“”«(•-–"
_ABBREVIATION = re.compile(
    r"(?:\b\w{1,3}\.){2,}$"
    r"|\b(?:ca|jf|mv|evt|inkl|ekskl|fx|dvs|ift|mht|mhp|vedr|nr|pga|osv|resp|kap|st|kr|mio|mia"
    r"|etc|vs|ang|bl\.a|f\.eks|t\.ex|m\.v|m\.fl|m\.m|s\.k)\.$",
    re.I,
)


def estimate_tokens(text: str) -> int:
    """A conservative token count: ``len / 3.2`` rounded up.

    XLM-R (multilingual-e5) averages well over 3.2 characters per token on Danish and Swedish, so
    this over-counts and chunks sized with it stay under the model's limit.
    """
    return math.ceil(len(text) / 3.2)


@dataclass(frozen=True)
class _Span:
    """A piece of one block that may start or end a chunk."""

    start: int
    end: int
    block: Block


def chunk_document(
    meta: DocumentMeta,
    clean: CleanText,
    sections: Sequence[Section],
    *,
    target_tokens: int = 220,
    max_tokens: int = 380,
    count_tokens: TokenCounter | None = None,
) -> list[Chunk]:
    """Split a document into chunks of one section each, packed up to ``target_tokens``.

    :param sections: one section per block of ``clean``, as returned by ``outline``.
    :param count_tokens: the embedder's token counter; defaults to :func:`estimate_tokens`.
    :returns: chunks in document order, ``index`` 0..n-1. A heading opens its section's first
        chunk when it fits; a section with no body and no subsections gets a heading-only chunk
        so it stays findable. No chunk's text exceeds ``max_tokens``.
    """
    if len(sections) != len(clean.blocks):
        raise ValueError(f"{len(sections)} sections for {len(clean.blocks)} blocks")
    if not 0 < target_tokens <= max_tokens:
        raise ValueError(f"need 0 < target_tokens ({target_tokens}) <= max_tokens ({max_tokens})")
    count = count_tokens or estimate_tokens
    runs = _section_runs(clean.blocks, sections)
    pieces: list[tuple[list[_Span], Section]] = []
    for position, (section, blocks) in enumerate(runs):
        following = runs[position + 1][0].path if position + 1 < len(runs) else ()
        is_leaf = following[: len(section.path)] != section.path or following == section.path
        groups = _section_groups(clean.text, blocks, is_leaf, target_tokens, max_tokens, count)
        pieces.extend((group, section) for group in groups)
    return [_chunk(meta, clean.text, i, group, sec) for i, (group, sec) in enumerate(pieces)]


def _section_groups(
    text: str, blocks: list[Block], is_leaf: bool, target: int, limit: int, count: TokenCounter
) -> list[list[_Span]]:
    """The chunks of one section run, as groups of spans.

    The heading opens the first chunk when it fits. A heading without body is only kept when no
    subsection follows (its path would otherwise carry it), so that an empty section stays
    findable.
    """
    heading = blocks[0] if blocks[0].kind == "heading" else None
    body = blocks[1:] if heading else blocks
    if not body:
        if heading is None or not is_leaf:
            return []
        return _pack(text, _spans(text, heading, limit, count), target, limit, count)
    units = [span for block in body for span in _spans(text, block, limit, count)]
    groups = _pack(text, units, target, limit, count)
    if heading is not None and count(text[heading.start : groups[0][-1].end]) <= limit:
        groups[0].insert(0, _Span(heading.start, heading.end, heading))
    return groups


def _section_runs(
    blocks: Sequence[Block], sections: Sequence[Section]
) -> list[tuple[Section, list[Block]]]:
    """Consecutive blocks of one section; every heading starts a new run."""
    runs: list[tuple[Section, list[Block]]] = []
    for i, (block, section) in enumerate(zip(blocks, sections, strict=True)):
        if runs and block.kind != "heading" and sections[i - 1] == section:
            runs[-1][1].append(block)
        else:
            runs.append((section, [block]))
    return runs


def _pack(
    text: str, units: list[_Span], target: int, limit: int, count: TokenCounter
) -> list[list[_Span]]:
    """Greedily group consecutive units while the covered text stays within ``target`` tokens.

    A short tail (under a third of the target) joins the previous group when both fit in
    ``limit``: two items left over from a long list are better read with their neighbours.
    """
    groups: list[list[_Span]] = []
    for unit in units:
        if groups and count(text[groups[-1][0].start : unit.end]) <= target:
            groups[-1].append(unit)
        else:
            groups.append([unit])
    if len(groups) > 1:
        tail, before = groups[-1], groups[-2]
        short = count(text[tail[0].start : tail[-1].end]) < target / 3
        if short and count(text[before[0].start : tail[-1].end]) <= limit:
            before.extend(groups.pop())
    return groups


def _spans(text: str, block: Block, max_tokens: int, count: TokenCounter) -> list[_Span]:
    """The block itself, or sentence / word / character pieces of it when it exceeds the limit."""
    if count(block.text) <= max_tokens:
        return [_Span(block.start, block.end, block)]
    spans: list[_Span] = []
    for start, end in _sentences(block.text):
        for piece_start, piece_end in _fit(block.text, start, end, max_tokens, count):
            spans.append(_Span(block.start + piece_start, block.start + piece_end, block))
    return spans


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text``; a break after an abbreviation ("ca.", "f.eks.") is ignored."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_BREAK.finditer(text):
        following = m.end(1)
        first = text[following : following + 4].lstrip(_OPENERS)[:1]
        if not (first.isupper() or first.isdigit()):
            continue
        if _ABBREVIATION.search(text, max(start, m.start() - 12), m.start() + 1):
            continue
        bounds.append((start, m.start(1)))
        start = following
    bounds.append((start, len(text)))
    return [(s, e) for s, e in bounds if e > s]


def _fit(text: str, start: int, end: int, limit: int, count: TokenCounter) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` at spaces (a long unbroken run anywhere) to fit ``limit``."""
    if count(text[start:end]) <= limit:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    piece_start = start
    while piece_start < end:
        cut = _longest_prefix(text, piece_start, end, limit, count)
        if cut < end:
            space = text.rfind(" ", piece_start + 1, cut + 1)
            if space > piece_start:
                cut = space
        pieces.append((piece_start, cut))
        piece_start = cut
        while piece_start < end and text[piece_start].isspace():
            piece_start += 1
    return [(s, e) for s, e in ((s, _rstrip(text, s, e)) for s, e in pieces) if e > s]


def _longest_prefix(text: str, start: int, end: int, limit: int, count: TokenCounter) -> int:
    """The largest ``cut`` with ``count(text[start:cut]) <= limit``.

    Always at least one character, so a counter that charges more than ``limit`` for a single
    character cannot stall the loop (the estimate never does: ``limit >= 1``).
    """
    low, high = start + 1, end
    while low < high:
        middle = (low + high + 1) // 2
        if count(text[start:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _chunk(
    meta: DocumentMeta, text: str, index: int, group: list[_Span], section: Section
) -> Chunk:
    """Build the chunk for one group; it is a list chunk when list items make up most of it."""
    start, end = group[0].start, group[-1].end
    quote = text[start:end]
    header = " – ".join(part for part in (meta.title, " > ".join(section.path)) if part)
    item_chars = sum(span.end - span.start for span in group if span.block.kind == "item")
    body_chars = sum(span.end - span.start for span in group if span.block.kind != "heading")
    return Chunk(
        doc_id=meta.doc_id,
        index=index,
        start=start,
        end=end,
        text=quote,
        embed_text=f"{header}\n{quote}",
        section_path=section.path,
        page=group[0].block.page,
        quarters=section.quarters,
        year=section.year,
        kind="list" if body_chars and item_chars * 2 > body_chars else "text",
    )
