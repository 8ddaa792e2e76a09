"""Turn loader text into the cleaned text we store and cite, split into blocks with exact spans.

Everything a user is ever shown as a quote is a slice of this text, so cleaning decides what a
citation can contain: web boilerplate ("Gå til hovedindhold", cookie banners, "Pdf, 2.1 MB"
link labels) is dropped, PDF hard line breaks are re-flowed into paragraphs and list items, page
footers ("5/30") become page numbers on blocks, and sentences that web extraction glued together
("mycket!Det finns") are separated. Blocks are joined with a blank line, consecutive list items
with a single newline, so ``text[block.start:block.end] == block.text`` for every block.

The work is line by line with anchored regular expressions, linear in the input size.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Literal

from assistant.models import Block, BlockKind, CleanText, LoadedText
from ingestion.boilerplate import BOILERPLATE_LINES, BOILERPLATE_PARAGRAPHS, LINK_LABEL, word_set
from ingestion.structure import is_title_like, looks_like_heading_line, mark_headings, parse_quarter

_MAX_PARAGRAPH_RULE_CHARS = 600

_BOILERPLATE = re.compile("|".join(f"(?:{p})" for p in BOILERPLATE_LINES), re.I)
_PARAGRAPH_RULES = [(re.compile(a, re.I), re.compile(b)) for a, b in BOILERPLATE_PARAGRAPHS]
_PARAGRAPH_TRIGGER = re.compile("|".join(a for a, _ in BOILERPLATE_PARAGRAPHS), re.I)
_LABEL_LAST_WORDS = word_set(
    "kb kib mb mib gb byte bytes fönster webbplats vindue window tab fane link länk"
)
_TRAILING_LABEL = re.compile(rf"(?:^|\s+){LINK_LABEL}\s*$", re.I)

_PAGE_MARKER = re.compile(r"(?:(?:side|sida|page)\s+)?(\d{1,3})\s*(?:/|af|av|of)\s*(\d{1,3})", re.I)
_EXPLICIT_HEADING = re.compile(r"(#{1,6})\s+(.*?\S)(?:\s+#+)?")
_STRONG_BULLET = re.compile(r"([•●▪■◦○‣∙⁃\uf0b7\uf0a7\uf076\uf0d8\uf0fc\uf0a8])\s*(.*)")
_SUB_BULLET = re.compile(r"(o)\s+([A-ZÆØÅÄÖÜ0-9\"“”'(§].*)")
_WEAK_BULLET = re.compile(r"([-–—*])\s+(\S.*)")
_NUMBERED_ITEM = re.compile(r"(\d{1,2}[.)]|[a-z]\))\s+(\S.*)")
_GLUE = re.compile(r"[.!?](?=[^\W\d_]{2})")
_LINE_SEPARATORS = re.compile(r"\r\n?|[\v\x1c\x1d\x1e\x85\u2028\u2029]")
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_PRIVATE_BULLETS = "\uf0b7\uf0a7\uf076\uf0d8\uf0fc\uf0a8"

_SENTENCE_END = ".!?:"
_CLOSERS = "\"'”’»)]"
_CONTINUATION_START = "(),;.%&/"
_ABBREVIATIONS = word_set(
    "ca. jf. mv. evt. inkl. ekskl. fx. dvs. ift. mht. mhp. vedr. nr. pga. bl.a. f.eks. m.v. "
    "m.fl. osv. t.ex. m.m. s.k. resp. kap. st. kr. mio. mia. tkr. etc. e.g. i.e. vs. jvf. ang."
)
_CONNECTORS = word_set(
    "og eller samt i af til med for på om at en et der som den det de fra ved under over efter "
    "hos mod mellem uden inden via hvor hvis når men så end skal vil kan er har bliver blive "
    "sig også ikke dog både and or the a an of to in on with by from as is are that which och "
    "av till för att ett från vid över mot mellan utan inom är ska blir också inte"
)
#: Fraction of the typical line length above which a PDF line was wrapped by the layout, not
#: ended by the author.
_FULL_LINE = 0.88
_FULL_SENTENCE_LINE = 0.9
_MIN_LINES_FOR_WIDTH = 8
_MIN_WRAP_WIDTH = 30


def clean(loaded: LoadedText) -> CleanText:
    """Clean a loader's text and split it into heading, paragraph and list-item blocks.

    :param loaded: text in the loader convention (blank-line paragraphs, ``#`` headings,
        ``•``/``1.`` items, ``\\f`` page breaks).
    :returns: the cleaned text and its blocks; each block's ``[start, end)`` slices its text.
    """
    lines = _read_lines(loaded.text)
    drafts = _reflow(lines, _wrap_width(lines), _blank_lines_are_soft(lines))
    blocks = _layout(drafts)
    marked = mark_headings(blocks.blocks)
    return _layout([_Draft(b.kind, b.text, b.page, b.level) for b in marked])


LineKind = Literal["explicit", "quarter", "bullet", "numbered", "weak", "text"]


@dataclass
class _Line:
    """One content line after normalisation, with what separated it from the previous line."""

    text: str
    gap: int  # blank lines before it
    hard: bool  # boilerplate removed just before it, or a glued sentence split: never join
    page: int | None
    kind: LineKind = "text"


@dataclass
class _Draft:
    """A block being assembled from physical lines."""

    kind: BlockKind
    text: str
    page: int | None = None
    level: int = 0
    closed: bool = False  # nothing may be joined to it (explicit and quarter headings)
    last_line: str = ""  # the last physical line joined into it, for wrap decisions


def _normalise(line: str) -> str:
    """Collapse every run of Unicode whitespace (NBSP, tabs, thin spaces) to one space."""
    return " ".join(line.split())


def _is_boilerplate(line: str) -> bool:
    if _BOILERPLATE.fullmatch(line):
        return True
    if len(line) > _MAX_PARAGRAPH_RULE_CHARS or not _PARAGRAPH_TRIGGER.search(line):
        return False
    return any(a.search(line) and b.search(line) for a, b in _PARAGRAPH_RULES)


def _strip_link_label(line: str) -> str | None:
    """Remove a trailing link label; ``None`` when the whole line was just a link."""
    last = line.rstrip(" .)").rsplit(" ", 1)[-1].lower()
    m = last in _LABEL_LAST_WORDS and _TRAILING_LABEL.search(line, max(0, len(line) - 160))
    if not m:
        return line
    rest = line[: m.start()].rstrip()
    link_only = len(rest) <= 120 and len(rest.split()) <= 15 and ". " not in rest
    if not rest or (link_only and rest[-1] not in ".!?"):
        return None
    return rest


def _unglue(line: str) -> list[str]:
    """Split ``"mycket!Det finns"`` where extraction lost a paragraph break."""
    parts: list[str] = []
    start = 0
    for m in _GLUE.finditer(line):
        left_start = line.rfind(" ", 0, m.start()) + 1
        left = line[left_start : m.start()].lstrip(_CLOSERS + '"“(')
        right_end = line.find(" ", m.end())
        right = line[m.end() : right_end if right_end >= 0 else len(line)].rstrip(
            _CLOSERS + ".,;:!?"
        )
        glued = right[:1].isupper() and any(c.islower() for c in right[1:])
        if glued and len(left) >= 2 and left.isalpha() and len(right) >= 2 and right.isalpha():
            parts.append(line[start : m.end()])
            start = m.end()
    parts.append(line[start:])
    return parts


def _read_lines(text: str) -> list[_Line]:
    """Normalise, drop boilerplate and page footers, and attach page numbers to content lines."""
    text = _LINE_SEPARATORS.sub("\n", text)
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    has_form_feeds = "\f" in text
    page: int | None = 1 if has_form_feeds else None
    lines: list[_Line] = []
    segment = 0  # first line of the current page
    gap, hard, page_marked = 0, False, False
    for p, page_text in enumerate(text.split("\f")):
        if p > 0:
            if not page_marked or len(lines) > segment:
                page = (page or 1) + 1
            segment, page_marked = len(lines), False
        for raw in page_text.split("\n"):
            line = _normalise(raw)
            if not line:
                gap += 1
                continue
            if (m := _PAGE_MARKER.fullmatch(line)) and 0 < int(m[1]) <= int(m[2]):
                for earlier in lines[segment:]:
                    earlier.page = int(m[1])
                page, segment, page_marked = int(m[1]) + 1, len(lines), True
                continue
            cleaned = None if _is_boilerplate(line) else _strip_link_label(line)
            if cleaned is None:
                hard = True
                continue
            for i, piece in enumerate(_unglue(cleaned)):
                lines.append(_Line(piece, gap, hard or i > 0, page))
                gap, hard = 0, False
    return lines


def _wrap_width(lines: list[_Line]) -> float:
    """The typical full line length (95th percentile): PDF text wraps near it.

    A handful of lines, or very short ones, say nothing about wrapping: then no line is "full".
    """
    lengths = sorted(len(line.text) for line in lines)
    if len(lengths) < _MIN_LINES_FOR_WIDTH:
        return math.inf
    width = lengths[min(len(lengths) - 1, int(len(lengths) * 0.95))]
    return float(width) if width >= _MIN_WRAP_WIDTH else math.inf


def _blank_lines_are_soft(lines: list[_Line]) -> bool:
    """True when blank lines sit between wrapped lines of one sentence (PDF extraction).

    Web and DOCX text separates paragraphs by blank lines; some PDF extractions put a blank line
    after every physical line. The tell is many lowercase continuation lines after a blank line.
    """
    evidence = sum(
        1
        for prev, cur in zip(lines, lines[1:], strict=False)
        if cur.gap >= 1
        and not cur.hard
        and cur.text[0].islower()
        and prev.text[-1] not in _SENTENCE_END
    )
    return evidence >= max(3, len(lines) // 50)


def _classify(text: str) -> LineKind:
    """What a physical line looks like; decides whether it may continue the previous block."""
    if _EXPLICIT_HEADING.fullmatch(text):
        return "explicit"
    if parse_quarter(text):
        return "quarter"
    if _STRONG_BULLET.fullmatch(text) or _SUB_BULLET.fullmatch(text):
        return "bullet"
    if looks_like_heading_line(text) or _NUMBERED_ITEM.fullmatch(text):
        return "numbered"
    if _WEAK_BULLET.fullmatch(text):
        return "weak"
    return "text"


def _last_word(text: str) -> str:
    return text.rsplit(" ", 1)[-1].lower()


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip(_CLOSERS)
    if not stripped or stripped[-1] not in _SENTENCE_END:
        return False
    word = _last_word(stripped)
    return word not in _ABBREVIATIONS and not re.fullmatch(r"(?:\w{1,3}\.){2,}", word)


def _definitely_open(text: str) -> bool:
    """The line cannot end a sentence: it ends in a comma, hyphen or a function word."""
    return text[-1] in ",-–/(" or _last_word(text) in _CONNECTORS


def _is_full(prev: str, cur: str, width: float) -> bool:
    """Would the next word have fitted on the previous line? If not, the break is a wrap."""
    return len(prev) + 1 + len(cur.split(" ", 1)[0]) > _FULL_LINE * width


def _titleish(text: str, width: float) -> bool:
    return is_title_like(text) and not text.endswith(":") and len(text) < 0.8 * width


def _continues(prev: str, line: _Line, after: _Line | None, width: float) -> bool:
    """Does ``line`` continue the block whose last line is ``prev`` (line-wrap, not a new block)?"""
    cur, kind = line.text, line.kind
    is_open = not _ends_sentence(prev)
    full = _is_full(prev, cur, width)
    if kind in ("explicit", "quarter", "bullet"):
        return False
    if kind == "numbered":
        return is_open and (full or _definitely_open(prev))
    if kind == "weak":
        return is_open and full
    if cur[0].islower() or cur[0] in _CONTINUATION_START:
        return True
    if not is_open:
        # After a full stop only a nearly full line suggests the paragraph goes on.
        title = is_title_like(cur) and len(cur) < 0.8 * width
        nearly_full = len(prev) >= _FULL_SENTENCE_LINE * width
        return prev.rstrip(_CLOSERS)[-1] != ":" and nearly_full and not title
    if full or _definitely_open(prev):
        # A short title after a wrapped line that ends without punctuation starts a new block
        # when real text follows it ("... i hørings" / "Interne og eksterne samarbejdspartner").
        return not (_titleish(cur, width) and after is not None and _starts_paragraph(after))
    return False


def _starts_paragraph(line: _Line) -> bool:
    return line.kind == "text" and line.text[0].isupper()


def _join(left: str, right: str) -> str:
    if len(left) > 1 and left[-1] == "-" and left[-2].isalpha() and right[0].isalpha():
        return left + right  # "Lyngby-" + "Taarbæk"
    return f"{left} {right}"


def _start_draft(line: _Line) -> _Draft:
    if line.kind == "explicit":
        m = _EXPLICIT_HEADING.fullmatch(line.text)
        assert m is not None
        return _Draft("heading", m[2], line.page, len(m[1]), closed=True)
    if line.kind == "bullet":
        m = _STRONG_BULLET.fullmatch(line.text) or _SUB_BULLET.fullmatch(line.text)
        assert m is not None
        marker = "•" if m[1] in _PRIVATE_BULLETS else m[1]
        return _Draft("item", f"{marker} {m[2]}", line.page)
    if line.kind in ("numbered", "weak") and not looks_like_heading_line(line.text):
        return _Draft("item", line.text, line.page)
    return _Draft("paragraph", line.text, line.page, closed=line.kind == "quarter")


def _reflow(lines: list[_Line], width: float, soft_blanks: bool) -> list[_Draft]:
    """Group physical lines into blocks, joining lines that a PDF layout wrapped."""
    for line in lines:
        line.kind = _classify(line.text)
    drafts: list[_Draft] = []
    pending_marker: str | None = None
    for i, line in enumerate(lines):
        bare = _STRONG_BULLET.fullmatch(line.text)
        if bare and not bare[2]:
            pending_marker = "•" if bare[1] in _PRIVATE_BULLETS else bare[1]
            continue
        if pending_marker and line.kind == "text":
            line = replace(line, text=f"{pending_marker} {line.text}", kind="bullet")
        pending_marker = None
        draft = drafts[-1] if drafts else None
        separated = line.hard or line.gap > (1 if soft_blanks else 0)
        if draft is not None and i > 0 and line.page != lines[i - 1].page:
            separated = separated or _ends_sentence(draft.last_line)
        after = lines[i + 1] if i + 1 < len(lines) else None
        if (
            draft is not None
            and not draft.closed
            and not separated
            and _continues(draft.last_line, line, after, width)
        ):
            draft.text = _join(draft.text, line.text)
        else:
            draft = _start_draft(line)
            drafts.append(draft)
        draft.last_line = line.text
    return drafts


def _layout(drafts: list[_Draft]) -> CleanText:
    """Concatenate blocks: a blank line between blocks, one newline between list items."""
    pieces: list[str] = []
    blocks: list[Block] = []
    offset = 0
    previous: BlockKind | None = None
    for draft in drafts:
        text = draft.text
        if not text:
            continue
        if previous is not None:
            separator = "\n" if previous == "item" and draft.kind == "item" else "\n\n"
            pieces.append(separator)
            offset += len(separator)
        pieces.append(text)
        blocks.append(Block(draft.kind, offset, offset + len(text), text, draft.page, draft.level))
        offset += len(text)
        previous = draft.kind
    return CleanText("".join(pieces), tuple(blocks))
