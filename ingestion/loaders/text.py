"""Plain-text loader (.txt) and the byte decoding shared by all text-based formats.

Municipal files come from Windows machines as often as from the web, so besides UTF-8 we accept
UTF-16 with a byte-order mark and the legacy Windows code page (cp1252, which covers æøå and äö).
A legacy decoding is accepted only if the result looks like text: a binary file renamed to
``.txt`` decodes "successfully" as latin-1 and would otherwise be indexed as garbage.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from assistant.errors import CorruptFile
from assistant.models import LoadedText

#: Share of control characters (other than whitespace) tolerated in decoded text. Binary data
#: decoded as latin-1 has about 12 %; cp1252 text never has any but a stray DOS end-of-file mark.
MAX_CONTROL_SHARE = 0.01
MAX_LEGACY_CONTROL_SHARE = 0.001
#: Share of non-ASCII characters above which a legacy decoding is considered garbage; Danish and
#: Swedish prose has a few percent.
MAX_NON_ASCII_SHARE = 0.3
#: C0 and C1 control characters except the whitespace ones (tab, newlines, form feed).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class TextLoader:
    """Loads ``.txt`` files verbatim; cleaning happens later, in one place for all formats."""

    suffixes: tuple[str, ...] = (".txt",)

    def load(self, path: Path) -> LoadedText:
        return LoadedText(text=read_text(path), format="text", title=None)


def read_text(path: Path) -> str:
    """Read and decode ``path`` (see :func:`decode_text`)."""
    return decode_text(path.read_bytes(), name=path.name)


def decode_text(data: bytes, *, name: str, declared: str | None = None) -> str:
    """Decode the bytes of a text file and normalise its newlines to ``\\n``.

    Order: UTF-8 (a BOM is dropped), UTF-16 when it starts with its BOM, then the ``declared``
    encoding (e.g. an HTML ``charset``), cp1252 and latin-1, each only if the result looks like
    text.

    :param name: the file name, used in error messages.
    :raises CorruptFile: the bytes contain NULs or do not decode to plausible text.
    """
    text = _decode(data, name=name, declared=declared)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(data: bytes, *, name: str, declared: str | None) -> str:
    if data.startswith(_UTF16_BOMS):
        try:
            return _checked(data.decode("utf-16"), name)
        except UnicodeDecodeError as exc:
            raise CorruptFile(f"{name}: invalid UTF-16 text", file=name) from exc
    if b"\x00" in data:
        raise CorruptFile(f"{name}: contains NUL bytes; not a text file", file=name)
    try:
        return _checked(data.decode("utf-8-sig"), name)
    except UnicodeDecodeError:
        pass
    for encoding in _fallbacks(declared):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if looks_like_text(text, legacy=True):
            return text
    raise CorruptFile(
        f"{name}: not valid UTF-8 and does not look like text in a legacy encoding", file=name
    )


def _fallbacks(declared: str | None) -> list[str]:
    encodings = ["cp1252", "latin-1"]
    if declared:
        try:
            canonical = codecs.lookup(declared).name
        except LookupError:
            return encodings
        if canonical != "utf-8":
            encodings.insert(0, canonical)
    return encodings


def _checked(text: str, name: str) -> str:
    if not looks_like_text(text, legacy=False):
        raise CorruptFile(f"{name}: contains binary data; not a text file", file=name)
    return text


def looks_like_text(text: str, *, legacy: bool) -> bool:
    """Whether decoded ``text`` is plausibly human-written text rather than decoded binary.

    :param legacy: stricter check for 8-bit decodings, which accept any byte sequence.
    """
    if not text:
        return True
    controls = len(_CONTROL.findall(text))
    if controls / len(text) > (MAX_LEGACY_CONTROL_SHARE if legacy else MAX_CONTROL_SHARE):
        return False
    if not legacy:
        return True
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return non_ascii / len(text) <= MAX_NON_ASCII_SHARE
