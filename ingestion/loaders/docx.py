"""Word loader (.docx): body paragraphs and tables in document order.

Word documents carry their structure in styles, which we translate to the LoadedText
conventions: "Title" and "Heading N" become ``#`` lines, list paragraphs become ``• `` or
numbered items, and each table row becomes one line of cells joined by `` | ``. Headers,
footers and text boxes are left out: in municipal documents they hold page furniture, not
content. python-docx is imported lazily.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import CorruptFile, IngestionError
from assistant.models import LoadedText

if TYPE_CHECKING:
    from docx.document import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

# Built-in style names are stored in English whatever the UI language; the Danish and Swedish
# names cover documents whose authors created their own styles.
_HEADING_STYLE = re.compile(r"^(?:heading|overskrift|rubrik)\s*([1-9])$", re.IGNORECASE)
_TITLE_STYLES = frozenset({"title", "titel"})
_UNORDERED_FORMATS = frozenset({"bullet", "none"})


class DocxLoader:
    """Loads Word documents; the title is the document property ``title``."""

    suffixes: tuple[str, ...] = (".docx",)

    def load(self, path: Path) -> LoadedText:
        try:
            document = _open(path)
            blocks = _Blocks(_Numbering(document)).render(document)
            title = " ".join((document.core_properties.title or "").split()) or None
        except IngestionError:
            raise
        except Exception as exc:  # python-docx/lxml raise many types on broken packages
            raise CorruptFile(f"{path.name}: unreadable DOCX ({exc})", file=path.name) from exc
        return LoadedText(text="\n\n".join(blocks), format="docx", title=title)


def _open(path: Path) -> Document:
    import docx

    return docx.Document(str(path))


class _Blocks:
    """Collects blocks; consecutive list items share a block, one item per line."""

    def __init__(self, numbering: _Numbering) -> None:
        self.numbering = numbering
        self.blocks: list[str] = []
        self.items: list[str] = []

    def render(self, document: Document) -> list[str]:
        from docx.table import Table

        for content in document.iter_inner_content():
            if isinstance(content, Table):
                self._table(content)
            else:
                self._paragraph(content)
        self._end_list()
        return self.blocks

    def _paragraph(self, paragraph: Paragraph) -> None:
        text = paragraph.text.strip()
        if not text:
            return
        style = (paragraph.style.name if paragraph.style is not None else None) or ""
        if level := _heading_level(style):
            self._end_list()
            self.blocks.append("#" * level + " " + " ".join(text.split()))
        elif marker := self.numbering.marker(paragraph, style):
            self.items.append(marker + " ".join(text.split()))
        else:
            self._end_list()
            self.blocks.append(text)

    def _table(self, table: Table) -> None:
        self._end_list()
        lines = []
        for row in table.rows:
            seen: set[int] = set()
            cells = []
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell repeats for every grid column
                    continue
                seen.add(id(cell._tc))
                if text := " ".join(cell.text.split()):
                    cells.append(text)
            if cells:
                lines.append(" | ".join(cells))
        if lines:
            self.blocks.append("\n".join(lines))

    def _end_list(self) -> None:
        if self.items:
            self.blocks.append("\n".join(self.items))
            self.items = []
        self.numbering.interrupt()


def _heading_level(style: str) -> int:
    if style.strip().lower() in _TITLE_STYLES:
        return 1
    match = _HEADING_STYLE.match(style.strip())
    return int(match.group(1)) if match else 0


class _Numbering:
    """Decides whether a paragraph is a list item and which marker it gets.

    A paragraph is a list item if its style name contains "List" or it (or its style) has
    numbering properties. Whether it is numbered comes from the numbering definition's format
    (``bullet`` versus ``decimal``, ``lowerLetter``, ...), else from a style name with "Number".
    Numbers count per list and level, as Word does, so a list interrupted by a paragraph goes on.
    """

    def __init__(self, document: Document) -> None:
        self.definitions = _numbering_element(document)
        self.counters: dict[tuple[str, int], int] = {}

    def marker(self, paragraph: Paragraph, style: str) -> str | None:
        num_id, level = _num_pr(paragraph)
        if num_id == "0":  # numId 0 explicitly switches numbering off
            return None
        if num_id is None and "list" not in style.lower():
            return None
        fmt, start = self._format(num_id, level)
        ordered = fmt not in _UNORDERED_FORMATS if fmt else "number" in style.lower()
        if not ordered:
            return "• "
        key = (num_id or f"style:{style}", level)
        for other in [k for k in self.counters if k[0] == key[0] and k[1] > level]:
            del self.counters[other]  # a higher-level item restarts its sub-lists
        number = self.counters.get(key, start)
        self.counters[key] = number + 1
        return f"{number}. "

    def interrupt(self) -> None:
        """Style-only lists have no identity; a non-list paragraph ends them."""
        for key in [k for k in self.counters if k[0].startswith("style:")]:
            del self.counters[key]

    def _format(self, num_id: str | None, level: int) -> tuple[str | None, int]:
        if num_id is None or self.definitions is None:
            return None, 1
        abstract = self.definitions.xpath(f'./w:num[@w:numId="{num_id}"]/w:abstractNumId/@w:val')
        if not abstract or not abstract[0].isdigit():
            return None, 1
        lvl = f'./w:abstractNum[@w:abstractNumId="{abstract[0]}"]/w:lvl[@w:ilvl="{level}"]'
        fmt = self.definitions.xpath(f"{lvl}/w:numFmt/@w:val")
        start = self.definitions.xpath(f"{lvl}/w:start/@w:val")
        return (fmt[0] if fmt else None), (int(start[0]) if start and start[0].isdigit() else 1)


def _numbering_element(document: Document) -> Any:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    for rel in document.part.rels.values():
        if rel.reltype == RT.NUMBERING and not rel.is_external:
            return rel.target_part.element
    return None


def _num_pr(paragraph: Paragraph) -> tuple[str | None, int]:
    """The paragraph's own numbering properties, else those of its style."""
    candidates = [paragraph._p.pPr]
    if paragraph.style is not None:
        candidates.append(paragraph.style.element.pPr)
    for ppr in candidates:
        num_pr = ppr.numPr if ppr is not None else None
        if num_pr is not None and num_pr.numId is not None:
            level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
            return str(num_pr.numId.val), int(level)
    return None, 0
