"""The loader seam: one :class:`DocumentLoader` per file format, chosen by file suffix.

:func:`load_file` is the single entry point for turning a file into :class:`LoadedText`. It
checks what is cheap to check before a parser sees the bytes (existence, size, emptiness, a
content signature that matches the suffix), so that a renamed, truncated or empty file fails with
a clear :class:`~assistant.errors.IngestionError` naming the file instead of a parser traceback
or, worse, an index full of garbage.
"""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from assistant.errors import CorruptFile, EmptyDocument, IngestionError, UnsupportedFileType
from assistant.models import LoadedText
from ingestion.loaders.docx import DocxLoader
from ingestion.loaders.html import HtmlLoader
from ingestion.loaders.markdown import MarkdownLoader
from ingestion.loaders.pdf import PdfLoader
from ingestion.loaders.text import TextLoader

DEFAULT_MAX_BYTES = 25_000_000
#: A DOCX may expand to this many times ``max_bytes``; more is a zip bomb or not a document.
MAX_DOCX_EXPANSION = 10
#: Readers (Acrobat included) accept the ``%PDF`` header and the ``%%EOF`` marker anywhere in
#: the first and last kilobyte; being as lenient keeps odd but valid files loadable.
PDF_WINDOW = 1024
_TEXT_SNIFF_BYTES = 8192


class DocumentLoader(Protocol):
    """Turns one file format into :class:`LoadedText`.

    Contract: ``load`` receives an existing, non-empty file whose suffix is in ``suffixes`` and
    whose signature matched; it returns the text in the LoadedText conventions (blank lines
    between paragraphs, ``#`` headings, ``• ``/``1. `` items, ``\\f`` between pages) and raises
    :class:`~assistant.errors.IngestionError` subclasses, naming the file, for anything it cannot
    read. Heavy parsing libraries are imported inside ``load``, never at module import.
    """

    suffixes: tuple[str, ...]

    def load(self, path: Path) -> LoadedText:
        """Read ``path`` and return its text."""
        ...


_LOADERS: dict[str, DocumentLoader] = {}


def register_loader(loader: DocumentLoader) -> None:
    """Make ``loader`` handle its suffixes, replacing any loader registered for them before."""
    for suffix in loader.suffixes:
        _LOADERS[suffix.lower()] = loader


for _loader in (TextLoader(), MarkdownLoader(), HtmlLoader(), PdfLoader(), DocxLoader()):
    register_loader(_loader)


def supported_suffixes() -> tuple[str, ...]:
    """The file suffixes :func:`load_file` accepts, lowercase with the dot, sorted."""
    return tuple(sorted(_LOADERS))


def loader_for(path: Path) -> DocumentLoader:
    """The loader for ``path``'s suffix (case-insensitive).

    :raises UnsupportedFileType: no loader handles the suffix.
    """
    suffix = path.suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        kind = f"'{suffix}' files are" if suffix else "files without an extension are"
        raise UnsupportedFileType(
            f"{path.name}: {kind} not supported (supported: {', '.join(supported_suffixes())})",
            file=path.name,
        )
    return loader


def load_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedText:
    """Load ``path`` with the loader for its suffix after checking the file is sane.

    :param max_bytes: larger files are refused before any parsing.
    :raises UnsupportedFileType: unknown suffix.
    :raises EmptyDocument: the file is empty or contains no text.
    :raises CorruptFile: the content does not match the suffix or cannot be parsed.
    :raises IngestionError: the file is missing, unreadable or larger than ``max_bytes``.
    """
    path = Path(path)
    loader = loader_for(path)
    try:
        _check_size(path, max_bytes)
        _check_signature(path, max_bytes)
        loaded = loader.load(path)
    except OSError as exc:
        raise IngestionError(f"{path.name}: cannot read file ({exc})", file=path.name) from exc
    if not loaded.text.strip():
        raise EmptyDocument(f"{path.name}: contains no text", file=path.name)
    return loaded


def _check_size(path: Path, max_bytes: int) -> None:
    if not path.exists():
        raise IngestionError(f"{path.name}: file not found", file=path.name)
    if not path.is_file():
        raise IngestionError(f"{path.name}: not a regular file", file=path.name)
    size = path.stat().st_size
    if size == 0:
        raise EmptyDocument(f"{path.name}: file is empty (0 bytes)", file=path.name)
    if size > max_bytes:
        raise IngestionError(
            f"{path.name}: file is too large ({size:,} bytes; the limit is {max_bytes:,})",
            file=path.name,
            size=size,
        )


def _check_signature(path: Path, max_bytes: int) -> None:
    """Refuse content that does not match the suffix (a renamed or truncated file)."""
    check = _SIGNATURE_CHECKS.get(path.suffix.lower())
    if check is not None:
        check(path, max_bytes)


def _check_pdf(path: Path, max_bytes: int) -> None:
    with path.open("rb") as file:
        head = file.read(PDF_WINDOW)
        file.seek(max(0, path.stat().st_size - PDF_WINDOW))
        tail = file.read()
    if b"%PDF" not in head:
        raise CorruptFile(f"{path.name}: not a PDF (no %PDF header)", file=path.name)
    if b"%%EOF" not in tail:
        raise CorruptFile(
            f"{path.name}: PDF has no end-of-file marker; truncated download?", file=path.name
        )


def _check_docx(path: Path, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise CorruptFile(f"{path.name}: not a DOCX (not a zip archive)", file=path.name) from exc
    if "word/document.xml" not in {info.filename for info in infos}:
        raise CorruptFile(f"{path.name}: not a DOCX (no word/document.xml)", file=path.name)
    expanded = sum(info.file_size for info in infos)
    if expanded > MAX_DOCX_EXPANSION * max_bytes:
        raise CorruptFile(
            f"{path.name}: DOCX expands to {expanded:,} bytes; refusing to unpack it",
            file=path.name,
        )


def _check_text(path: Path, max_bytes: int) -> None:
    with path.open("rb") as file:
        head = file.read(_TEXT_SNIFF_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return  # UTF-16 text is full of NUL bytes by design
    if b"\x00" in head:
        raise CorruptFile(f"{path.name}: binary content (NUL bytes), not text", file=path.name)


_SIGNATURE_CHECKS: dict[str, Callable[[Path, int], None]] = {
    **dict.fromkeys(PdfLoader.suffixes, _check_pdf),
    **dict.fromkeys(DocxLoader.suffixes, _check_docx),
    **dict.fromkeys(
        TextLoader.suffixes + MarkdownLoader.suffixes + HtmlLoader.suffixes, _check_text
    ),
}
