"""PDF loader (.pdf): the text layer of each page, pages separated by a form feed.

Page boundaries matter because citations name the page; every pypdf page therefore becomes
exactly one ``\\f``-separated segment, even when it is empty. PDFs carry no reliable paragraph or
heading structure, so the text is passed on as extracted and the cleaning step repairs hard line
breaks. pypdf is imported lazily.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import CorruptFile, EmptyDocument, IngestionError
from assistant.models import LoadedText

if TYPE_CHECKING:
    from pypdf import PdfReader

PAGE_BREAK = "\f"


class PdfLoader:
    """Loads PDFs with a text layer; scanned PDFs are refused (no OCR)."""

    suffixes: tuple[str, ...] = (".pdf",)

    def load(self, path: Path) -> LoadedText:
        try:
            reader = _open(path)
            pages = [_page_text(page.extract_text() or "") for page in reader.pages]
            title = _title(reader)
        except IngestionError:
            raise
        except Exception as exc:  # pypdf raises many types on malformed input
            raise CorruptFile(f"{path.name}: unreadable PDF ({exc})", file=path.name) from exc
        if not any(page.strip() for page in pages):
            raise EmptyDocument(
                f"{path.name}: no extractable text; scanned PDF? OCR is not supported",
                file=path.name,
            )
        return LoadedText(text=PAGE_BREAK.join(pages), format="pdf", title=title)


def _open(path: Path) -> PdfReader:
    from pypdf import PasswordType, PdfReader

    reader = PdfReader(path)
    # Many PDFs are "encrypted" only to restrict printing and open with an empty password.
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise CorruptFile(f"{path.name}: encrypted PDF that needs a password", file=path.name)
    return reader


def _page_text(text: str) -> str:
    """Normalise newlines; a stray form feed or NUL inside a page would break page counting."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace(PAGE_BREAK, "\n").replace("\x00", "")


def _title(reader: PdfReader) -> str | None:
    metadata = reader.metadata
    title = metadata.title if metadata is not None else None
    if not isinstance(title, str):
        return None
    return " ".join(title.split()) or None
