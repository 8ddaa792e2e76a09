"""HTML loader (.html, .htm): the readable content of a saved web page.

Municipal pages are mostly chrome: menus, cookie banners, search forms, footers. We drop those
elements, prefer the page's ``<main>`` (or its ``<article>`` elements) when it has one, and write
what remains in the LoadedText conventions: ``<h1>``..``<h6>`` as ``#`` lines, list items as
``• `` or numbered lines, table rows as cells joined by `` | ``, ``<br>`` as a line break.
BeautifulSoup is imported lazily with the standard library parser (no C dependency needed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import CorruptFile
from assistant.models import LoadedText
from ingestion.loaders.text import decode_text

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

#: Elements that never hold document content.
DROPPED_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "form",
    "aside",
    "button",
    "iframe",
    "svg",
    "canvas",
)
#: Page-level landmarks; inside an ``<article>`` or ``<main>`` they belong to the content (an
#: article's ``<header>`` usually holds its ``<h1>``), so they are dropped only outside those.
PAGE_CHROME_TAGS = ("header", "footer")
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "complementary"})
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BLOCK_TAGS = frozenset(
    {
        *("p", "div", "section", "article", "main", "body", "blockquote", "address", "center"),
        *("figure", "figcaption", "dl", "dt", "dd", "details", "summary", "fieldset", "hr"),
        *("header", "footer", "caption", "li", "tr", "td", "th"),
    }
)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"[^\S\n]+")


class HtmlLoader:
    """Loads saved web pages; the title is ``<title>``, else the first ``<h1>``."""

    suffixes: tuple[str, ...] = (".html", ".htm")

    def load(self, path: Path) -> LoadedText:
        from bs4 import BeautifulSoup

        data = path.read_bytes()
        charset = _CHARSET.search(data[:4096])
        declared = charset.group(1).decode("ascii") if charset else None
        soup = BeautifulSoup(decode_text(data, name=path.name, declared=declared), "html.parser")
        title = _title(soup)
        _drop_chrome(soup)
        blocks: list[str] = []
        try:
            for root in _content_roots(soup):
                blocks.extend(_Renderer().render(root))
        except RecursionError as exc:
            raise CorruptFile(f"{path.name}: HTML nested too deeply", file=path.name) from exc
        return LoadedText(text="\n\n".join(blocks), format="html", title=title)


def _title(soup: BeautifulSoup) -> str | None:
    for tag in (soup.title, soup.find("h1")):
        if tag is not None:
            text = " ".join(tag.get_text(" ").split())
            if text:
                return text
    return None


def _drop_chrome(soup: BeautifulSoup) -> None:
    _remove(soup.find_all(DROPPED_TAGS))
    chrome = soup.find_all(PAGE_CHROME_TAGS)
    _remove(tag for tag in chrome if tag.find_parent(["article", "main"]) is None)
    _remove(soup.find_all(_is_hidden))


def _remove(tags: Iterable[Tag]) -> None:
    for tag in list(tags):
        if not tag.decomposed:  # already gone with a removed ancestor
            tag.decompose()


def _is_hidden(tag: Tag) -> bool:
    style = str(tag.get("style", "")).replace(" ", "").lower()
    return (
        str(tag.get("aria-hidden", "")).lower() == "true"
        or tag.has_attr("hidden")
        or "display:none" in style
        or str(tag.get("role", "")).lower() in _CHROME_ROLES
    )


def _content_roots(soup: BeautifulSoup) -> list[Tag]:
    """``<main>`` if present, else the top-level ``<article>`` elements, else the body."""
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is not None:
        return [main]
    articles = [a for a in soup.find_all("article") if a.find_parent("article") is None]
    if articles:
        return articles
    return [soup.body or soup]


class _Renderer:
    """Walks a subtree and collects blocks; inline text accumulates until a block ends."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.inline: list[str] = []
        self.deferred_lists: list[Tag] = []
        self.defer_lists = False

    def render(self, root: Tag, *, defer_lists: bool = False) -> list[str]:
        """Render ``root``'s content; with ``defer_lists`` nested lists are collected, not drawn."""
        self.defer_lists = defer_lists
        self._children(root)
        self._flush()
        return self.blocks

    def _children(self, node: Tag) -> None:
        from bs4.element import NavigableString, PreformattedString, Tag

        for child in node.children:
            if isinstance(child, PreformattedString):  # comments, doctype, CDATA
                continue
            if isinstance(child, NavigableString):
                self.inline.append(_SPACES.sub(" ", str(child).replace("\n", " ")))
            elif isinstance(child, Tag):
                self._tag(child)

    def _tag(self, tag: Tag) -> None:
        name = tag.name
        if name in _HEADINGS:
            self._flush()
            text = _inline_text(tag)
            if text:
                self.blocks.append("#" * _HEADINGS[name] + " " + text)
        elif name == "br":
            self.inline.append("\n")
        elif name in ("ul", "ol"):
            if self.defer_lists:
                self.deferred_lists.append(tag)
                return
            self._flush()
            self._append_lines(_list_lines(tag))
        elif name == "table":
            self._flush()
            self._append_lines(_table_lines(tag))
        elif name == "pre":
            self._flush()
            text = tag.get_text().strip("\n")
            if text.strip():
                self.blocks.append(text)
        elif name in _BLOCK_TAGS:
            self._flush()
            self._children(tag)
            self._flush()
        else:
            self._children(tag)

    def _append_lines(self, lines: list[str]) -> None:
        if lines:
            self.blocks.append("\n".join(lines))

    def _flush(self) -> None:
        lines = [" ".join(line.split()) for line in "".join(self.inline).split("\n")]
        self.inline = []
        text = "\n".join(line for line in lines if line)
        if text:
            self.blocks.append(text)


def _inline_text(tag: Tag) -> str:
    """All text under ``tag`` on one line (used for headings, items and cells)."""
    return " ".join(" ".join(_Renderer().render(tag)).split())


def _list_lines(lst: Tag) -> list[str]:
    """One line per item, nested lists flattened after their parent item."""
    ordered = lst.name == "ol"
    start = str(lst.get("start", "1"))
    number = int(start) if start.lstrip("-").isdigit() else 1
    lines: list[str] = []
    for item in lst.find_all("li", recursive=False):
        renderer = _Renderer()
        text = " ".join(" ".join(renderer.render(item, defer_lists=True)).split())
        if text:
            lines.append(f"{number}. {text}" if ordered else f"• {text}")
            number += 1
        for nested in renderer.deferred_lists:
            lines.extend(_list_lines(nested))
    return lines


def _table_lines(table: Tag) -> list[str]:
    lines = []
    for row in table.find_all("tr"):
        if row.find_parent("table") is not table:
            continue  # rows of a nested table are read as the text of their cell
        cells = [_inline_text(cell) for cell in row.find_all(["td", "th"], recursive=False)]
        cells = [cell for cell in cells if cell]
        if cells:
            lines.append(" | ".join(cells))
    return lines
