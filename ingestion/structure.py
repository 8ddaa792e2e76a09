"""Document outline: which blocks are headings, at what level, and the section path of every block.

Loaders mark explicit headings with ``#``, but web pages flattened to text and PDF extractions
carry their structure only in the text itself: numbered headings (``3.1.1 Varme og Energi``),
quarter milestones (``2. Kvartal 2025``, ``3. og 4. Kvartal 2025``, or a mangled
``• Kvartal 2025`` that means "the next quarter") and short title lines on web pages. The section
path is what makes a quote findable ("which plan, which programme, which quarter"), so it is
worth reconstructing carefully.

Heading detection lives here; :mod:`ingestion.cleaning` calls :func:`mark_headings` and the line
helpers so the dependency stays one-way (cleaning -> structure).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.models import Block, BlockKind, CleanText, Section

_BULLET = r"(?:[•●▪■◦○‣∙⁃\uf0b7\uf0a7\-–—*]\s*)"
_YEAR = r"(?:\s*,?\s*(?P<year>(?:19|20)\d\d))?"
_SEP = r"\s*(?P<sep>-|–|—|til|till|to|og|och|and|&|,|/)\s*"
_ORDINALS = {
    "første": 1, "first": 1, "första": 1,
    "anden": 2, "andet": 2, "andra": 2, "second": 2,
    "tredje": 3, "third": 3,
    "fjerde": 4, "fjärde": 4, "fourth": 4,
}  # fmt: skip
_KVARTAL = r"(?:kvartal(?:et)?|kvt\.?|quarter)"
_QUARTER_BODIES = (
    # 1. Kvartal 2025 / 3. – 4. Kvartal 2025 / 1.-4. kvartal / 3. og 4. Kvartal 2025
    rf"(?P<a>[1-4])\s*\.?(?:{_SEP}(?P<b>[1-4])\s*\.?)?\s*{_KVARTAL}{_YEAR}",
    # Kvartal 1 2025 / kvartal 1-2, 2025
    rf"{_KVARTAL}\s*(?P<a>[1-4])\b(?:{_SEP}(?P<b>[1-4])\b)?{_YEAR}",
    # Q3 2025 / Q1-Q2 2025 / 2025 Q3
    rf"Q(?P<a>[1-4])(?:{_SEP}Q?(?P<b>[1-4]))?{_YEAR}",
    rf"(?P<year>(?:19|20)\d\d)\s*Q(?P<a>[1-4])(?:{_SEP}Q?(?P<b>[1-4]))?",
    # første kvartal 2025 / fjärde kvartalet
    rf"(?P<word>{'|'.join(_ORDINALS)})\s+{_KVARTAL}{_YEAR}",
)
_QUARTER_PATTERNS = [re.compile(rf"{_BULLET}?{body}\s*:?", re.I) for body in _QUARTER_BODIES]
_TERTIAL = re.compile(
    rf"{_BULLET}?(?:(?P<a>[1-3])\s*\.?\s*tertial(?:et)?|(?:tertial|T)\s*(?P<b>[1-3])\b){_YEAR}\s*:?",
    re.I,
)
_HALF = re.compile(rf"{_BULLET}?(?P<a>[12])\s*\.?\s*halvår(?:et)?{_YEAR}\s*:?", re.I)
#: "• Kvartal 2025" - a quarter heading whose number the PDF extraction turned into a bullet.
_ORDINAL_QUARTER = re.compile(rf"{_BULLET}?(?:kvartal(?:et)?|quarter){_YEAR}\s*:?", re.I)
_TERTIAL_QUARTERS = {1: (1, 2), 2: (2, 3), 3: (3, 4)}
_QUARTER_HINT = re.compile(r"kv|q|tertial|halvår|\bT[1-3]\b", re.I)

_NUMBERED = re.compile(r"(?P<num>\d{1,2}(?:\.\d{1,2}){0,5})(?P<dot>\.?)\s+(?P<title>\S.*)")
_OPENING_QUOTES = "\"'“”‘’«»„§("


@dataclass(frozen=True)
class QuarterHeading:
    """A recognised quarter heading; ``quarters`` is empty when its position gives the number."""

    quarters: tuple[int, ...]
    year: int | None


def parse_quarter(text: str) -> QuarterHeading | None:
    """Recognise a whole line as a quarter (or tertial / half-year) milestone heading."""
    text = text.strip()
    if len(text) > 40 or not _QUARTER_HINT.search(text):
        return None
    for pattern in _QUARTER_PATTERNS:
        if m := pattern.fullmatch(text):
            if m.groupdict().get("word"):
                first = _ORDINALS[m["word"].lower()]
                return QuarterHeading((first,), _year(m))
            return QuarterHeading(_quarter_span(int(m["a"]), m["b"], m["sep"]), _year(m))
    if m := _TERTIAL.fullmatch(text):
        return QuarterHeading(_TERTIAL_QUARTERS[int(m["a"] or m["b"])], _year(m))
    if m := _HALF.fullmatch(text):
        return QuarterHeading((1, 2) if m["a"] == "1" else (3, 4), _year(m))
    if m := _ORDINAL_QUARTER.fullmatch(text):
        return QuarterHeading((), _year(m))
    return None


def _year(m: re.Match[str]) -> int | None:
    return int(m["year"]) if m["year"] else None


def _quarter_span(first: int, second: str | None, sep: str | None) -> tuple[int, ...]:
    if second is None:
        return (first,)
    last = int(second)
    if sep and sep.lower() in {"og", "och", "and", "&", ","}:
        return tuple(sorted({first, last}))
    return tuple(range(min(first, last), max(first, last) + 1))


def section_number(text: str, *, single_level: bool = False) -> tuple[int, ...] | None:
    """The number of a numbered section heading (``3.1.1 Varme og Energi`` -> ``(3, 1, 1)``).

    Only dotted multi-level numbers count unless ``single_level``: ``1. Tværgående indsatser``
    looks exactly like a numbered list item, so callers decide from context (see
    :func:`mark_headings`). Cross references inside sentences never start a line with a capital
    after the number, and quarter headings are not sections.
    """
    text = text.strip()
    m = _NUMBERED.fullmatch(text)
    if not m or len(text) > 120 or parse_quarter(text):
        return None
    multi = "." in m["num"]
    if not multi and not (single_level and m["dot"]):
        return None
    title = m["title"]
    if not _starts_upper(title) or title[-1] in ",;" or len(title.split()) > 16:
        return None
    return tuple(int(part) for part in m["num"].split("."))


def looks_like_heading_line(text: str) -> bool:
    """A line that is a heading by its shape alone (quarter or dotted section number)."""
    return parse_quarter(text) is not None or section_number(text) is not None


def is_title_like(text: str) -> bool:
    """A short line that reads like a web page heading ("Strategi og implementering").

    No final sentence punctuation, a capital first letter, few words and commas; a trailing colon
    only on short labels ("Ressourcer:"). ``"... her: Fyrtårnsindsatser"`` is a sentence, not a
    title, so text before an inner colon must be short too.
    """
    text = text.strip()
    if not text or len(text) > 80 or not _starts_upper(text) or text[-1] in ".!?;,":
        return False
    words = text.split()
    if len(words) > 12 or text.count(",") > 1:
        return False
    if text.endswith(":") and len(words) > 5:
        return False
    head, colon, _ = text[:-1].partition(": ")
    return not (colon and len(head.split()) > 4)


def _starts_upper(text: str) -> bool:
    stripped = text.lstrip(_OPENING_QUOTES)
    return bool(stripped) and stripped[0].isupper()


def _body_like(block: Block) -> bool:
    """Running text: a sentence, or at least a line's worth of words (not "08-606 81 02")."""
    text = block.text.rstrip()
    if block.kind != "paragraph" or is_title_like(text):
        return False
    return text[-1] in ".!?:" or len(text.split()) >= 8


def _single_number(text: str) -> int | None:
    number = section_number(text, single_level=True)
    return number[0] if number and len(number) == 1 else None


def _decide_kinds(blocks: Sequence[Block], titles: bool) -> list[BlockKind]:
    kinds: list[BlockKind] = [b.kind for b in blocks]
    for i, block in enumerate(blocks):
        if kinds[i] != "heading" and (
            parse_quarter(block.text) or (block.kind == "paragraph" and section_number(block.text))
        ):
            kinds[i] = "heading"
    _promote_numbered_items(blocks, kinds)
    if titles:
        _promote_titles(blocks, kinds)
    return kinds


def _promote_numbered_items(blocks: Sequence[Block], kinds: list[BlockKind]) -> None:
    """``1. Tværgående indsatser`` alone before body text is a heading; in a run it is an item."""
    count = len(blocks)
    for i, block in enumerate(blocks):
        if kinds[i] != "item" or _single_number(block.text) is None:
            continue
        in_run = (i > 0 and kinds[i - 1] == "item") or (i + 1 < count and kinds[i + 1] == "item")
        ends = block.text.rstrip()[-1] in ".!?;,:"
        if not in_run and not ends and len(block.text) <= 90 and i + 1 < count:
            kinds[i] = "heading"


def _promote_titles(blocks: Sequence[Block], kinds: list[BlockKind]) -> None:
    """Title-like lines followed by body text, a list, a label or another heading are headings.

    Walks backwards so that a run of titles ("Oversigt" / "Fokusområder" / "Principper for
    handling" / text) is decided from the text that finally follows it.
    """
    for i in range(len(blocks) - 2, -1, -1):
        block, following = blocks[i], blocks[i + 1]
        if kinds[i] != "paragraph" or not is_title_like(block.text):
            continue
        if block.text.endswith(":"):
            promote = kinds[i + 1] == "paragraph" and _body_like(following)
        else:
            # A label such as "Primære interne interessenter:" introduces this section's body.
            label = kinds[i + 1] == "paragraph" and following.text.endswith(":")
            promote = kinds[i + 1] in ("heading", "item") or label or _body_like(following)
        if promote:
            kinds[i] = "heading"


def mark_headings(blocks: Sequence[Block]) -> list[Block]:
    """Decide which blocks are headings and give every heading a level (1 = top).

    Explicit headings (kind ``heading`` with a level, from ``#`` lines) are kept as they are, and
    when a document has them, title-like lines are not guessed. Levels: numbered headings by the
    depth of their number; quarter headings and title lines one level below the latest numbered
    (or explicit) heading; on pages without numbers a leading title is level 1 and later titles 2.
    """
    explicit = [b.kind == "heading" and b.level > 0 for b in blocks]
    kinds = _decide_kinds(blocks, titles=not any(explicit))
    anchor = 0  # level of the latest numbered or explicit heading
    last_plain = 0  # level of the latest heading that is not a quarter heading
    leading = True
    result: list[Block] = []
    for block, kind, is_explicit in zip(blocks, kinds, explicit, strict=True):
        if kind != "heading":
            leading = False
            result.append(replace(block, kind=kind, level=0) if block.kind != kind else block)
            continue
        number = section_number(block.text, single_level=True)
        if is_explicit:
            level = anchor = last_plain = block.level
        elif parse_quarter(block.text):
            level = anchor + 1 if anchor else last_plain + 1
        elif number:
            level = anchor = last_plain = len(number)
        else:
            level = last_plain = anchor + 1 if anchor else (1 if leading else 2)
        result.append(replace(block, kind="heading", level=level))
    return result


@dataclass
class _Open:
    """A heading on the outline stack while its section is open."""

    level: int
    label: str
    number: tuple[int, ...] | None
    quarters: tuple[int, ...]
    year: int | None
    key: int


def outline(clean: CleanText) -> list[Section]:
    """One :class:`Section` per block, in order: the heading path the block lies under.

    For a heading block the path includes the heading itself. A numbered heading nests only under
    a numbered heading whose number is a prefix of its own, so ``3.1`` after ``2.5.3`` starts a new
    branch even when ``3.`` itself never appears. Quarter headings set ``quarters``/``year`` for
    their section and everything below it; a bulleted ``• Kvartal 2025`` takes its number from its
    position among the quarter headings of the same parent and is labelled ``"3. Kvartal 2025"``.
    """
    stack: list[_Open] = []
    last_quarter: dict[int, int] = {}
    sections: list[Section] = []
    current = Section(path=())
    for index, block in enumerate(clean.blocks):
        if block.kind == "heading":
            _push(stack, last_quarter, block, index)
            top = stack[-1]
            current = Section(tuple(o.label for o in stack), top.quarters, top.year)
        sections.append(current)
    return sections


def _push(stack: list[_Open], last_quarter: dict[int, int], block: Block, index: int) -> None:
    level = block.level or (stack[-1].level + 1 if stack else 1)
    text = block.text.strip()
    quarter = parse_quarter(text)
    number = None if quarter else section_number(text, single_level=True)
    while stack and stack[-1].level >= level:
        stack.pop()
    if number:
        while (
            stack
            and stack[-1].number is not None
            and stack[-1].number != number[: len(stack[-1].number)]
        ):
            stack.pop()
    parent = stack[-1] if stack else None
    label = text
    quarters = parent.quarters if parent else ()
    year = parent.year if parent else None
    if quarter:
        parent_key = parent.key if parent else -1
        if quarter.quarters:
            quarters = quarter.quarters
            last_quarter[parent_key] = max(quarters)
        else:
            position = last_quarter.get(parent_key, 0) + 1
            last_quarter[parent_key] = position
            quarters = (position,) if position <= 4 else ()
            if quarters:
                label = re.sub(rf"^{_BULLET}?", f"{position}. ", text, count=1)
        year = quarter.year if quarter.year is not None else year
    stack.append(_Open(level, label, number, quarters, year, index))
