"""Markdown loader (.md, .markdown): markdown syntax reduced to the LoadedText conventions.

Our conventions are themselves a small subset of markdown, so this loader mostly removes what
would otherwise end up in quotes and embeddings as noise: emphasis markers, link targets, image
references, code fences and table rules. Headings keep their ``#``; bullets become ``• ``;
numbered items are renumbered in order (markdown lets authors write ``1.`` for every item).
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant.models import LoadedText
from ingestion.loaders.text import read_text

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^\s{0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_ORDERED = re.compile(r"^(\s*)(\d{1,9})[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)+\|?\s*$")
_TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_REF_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+")
_COMMENT = re.compile(r"<!--.*?-->")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n(?:---|\.\.\.)\n", re.DOTALL)
_FRONT_TITLE = re.compile(r"^title:\s*(.+?)\s*$", re.MULTILINE)

_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_IMAGE = re.compile(r"!\[[^\]]*\](?:\((?:[^()]|\([^)]*\))*\)|\[[^\]]*\])")
_LINK = re.compile(r"\[([^\]]+)\](?:\((?:[^()]|\([^)]*\))*\)|\[[^\]]*\])")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
_STRONG = re.compile(r"\*\*|__|~~")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_UNDERSCORE_EMPHASIS = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_PROTECTED = re.compile("\ue000(\\d+)\ue001")


class MarkdownLoader:
    """Loads markdown files; the title is front-matter ``title:`` or the first ``#`` heading."""

    suffixes: tuple[str, ...] = (".md", ".markdown")

    def load(self, path: Path) -> LoadedText:
        text, front_title = _split_front_matter(read_text(path))
        lines = _Converter().convert(text.split("\n"))
        body = _join(lines)
        return LoadedText(text=body, format="markdown", title=front_title or _first_h1(lines))


def _split_front_matter(text: str) -> tuple[str, str | None]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, None
    title = _FRONT_TITLE.search(match.group(1))
    value = title.group(1).strip("'\"").strip() if title else ""
    return text[match.end() :], value or None


def _first_h1(lines: list[str]) -> str | None:
    return next((line[2:].strip() for line in lines if line.startswith("# ")), None)


class _Converter:
    """Line-by-line conversion; keeps the little state markdown needs (fences, list numbers)."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.fence: str | None = None
        self.counters: dict[int, int] = {}

    def convert(self, lines: list[str]) -> list[str]:
        for line in lines:
            if self.fence is not None:
                self._in_fence(line)
            else:
                while _QUOTE.match(line):
                    line = _QUOTE.sub("", line, count=1)
                self._line(line)
        return self.out

    def _in_fence(self, line: str) -> None:
        stripped = line.strip()
        fence = self.fence or ""
        if len(stripped) >= len(fence) and set(stripped) == set(fence):
            self.fence = None
            self.out.append("")
        else:
            self.out.append(line.rstrip())

    def _line(self, line: str) -> None:
        if fence := _FENCE.match(line):
            self.fence = fence.group(1)
            self.out.append("")
        elif not line.strip() or _REF_DEFINITION.match(line) or _COMMENT.fullmatch(line.strip()):
            self.out.append("")
        elif (setext := _SETEXT.match(line)) and self._is_paragraph_line(-1):
            level = 1 if setext.group(1).startswith("=") else 2
            self._heading(level, self.out.pop())
        elif _RULE.match(line):
            self.out.append("")
        elif heading := _ATX.match(line):
            self._heading(len(heading.group(1)), _inline(heading.group(2) or ""))
        elif _TABLE_RULE.match(line):
            return
        elif row := _TABLE_ROW.match(line):
            cells = [_inline(cell.strip()) for cell in re.split(r"(?<!\\)\|", row.group(1))]
            self.out.append(" | ".join(cells))
        elif item := _ORDERED.match(line):
            self._item(len(item.group(1)), int(item.group(2)), item.group(3))
        elif item := _BULLET.match(line):
            self._item(len(item.group(1)), None, item.group(2))
        else:
            self._text(line)

    def _heading(self, level: int, text: str) -> None:
        self.counters.clear()
        if text:
            self.out.extend(["", "#" * level + " " + text, ""])

    def _item(self, indent: int, number: int | None, text: str) -> None:
        for deeper in [key for key in self.counters if key > indent]:
            del self.counters[deeper]
        if number is None:
            self.counters.pop(indent, None)
            self.out.append("• " + _inline(text))
            return
        current = self.counters.get(indent, number)
        self.counters[indent] = current + 1
        self.out.append(f"{current}. " + _inline(text))

    def _text(self, line: str) -> None:
        text = _inline(line.strip())
        if line[:1] not in (" ", "\t"):
            self.counters.clear()
        elif self.out and _is_item(self.out[-1]):
            # A lazy continuation line of a list item belongs to the item, not to a new paragraph.
            self.out[-1] = f"{self.out[-1]} {text}"
            return
        self.out.append(text)

    def _is_paragraph_line(self, index: int) -> bool:
        if not self.out:
            return False
        line = self.out[index]
        return bool(line.strip()) and not line.startswith("#") and not _is_item(line)


def _is_item(line: str) -> bool:
    return line.startswith("• ") or bool(re.match(r"\d+\. ", line))


def _inline(text: str) -> str:
    """Strip inline markup, keeping the words a reader sees."""
    protected: list[str] = []

    def protect(value: str) -> str:
        protected.append(value)
        return f"\ue000{len(protected) - 1}\ue001"

    text = _ESCAPE.sub(lambda m: protect(m.group(1)), text)
    text = _CODE_SPAN.sub(lambda m: protect(m.group(2).strip()), text)
    text = _COMMENT.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    text = _STRONG.sub("", text)
    text = _EMPHASIS.sub(r"\1", text)
    text = _UNDERSCORE_EMPHASIS.sub(r"\1", text)

    def restore(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return protected[index] if index < len(protected) else match.group(0)

    # Two passes: a code span may contain a protected escape.
    return _PROTECTED.sub(restore, _PROTECTED.sub(restore, text)).strip()


def _join(lines: list[str]) -> str:
    """Join lines, collapsing runs of blank lines into one paragraph break."""
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines)).strip("\n")
