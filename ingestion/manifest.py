"""The corpus manifest (``corpus.toml``): what an operator knows about each file.

A manifest lists ``[[documents]]`` tables with ``file`` (path relative to the manifest) and
optional ``id``, ``title``, ``organisation``, ``country``, ``language``, ``kind`` and
``audience``. It is validated strictly — unknown keys, duplicate files or ids and a bad
``audience`` are errors — because a silently ignored typo can publish a staff-only document or
give two documents one id. Files without an entry get safe defaults (audience ``staff``).

Document ids must be the same on every machine, so they come from the manifest or from the file
name, never from an absolute path.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath

from assistant.errors import ManifestError
from assistant.models import AUDIENCES, Audience, DocumentMeta, LoadedText
from ingestion.language import DEFAULT_LANGUAGES, detect_language

MANIFEST_NAME = "corpus.toml"
#: Longest line accepted as a title guessed from the text.
MAX_TITLE_CHARS = 120
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_TRANSLITERATION = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "a", "ö": "o", "ß": "ss"})


@dataclass(frozen=True)
class ManifestEntry:
    """One ``[[documents]]`` table. Empty strings mean "not given; use the default"."""

    file: str
    id: str = ""
    title: str = ""
    organisation: str = ""
    country: str = ""
    language: str = ""
    kind: str = ""
    audience: Audience = "staff"


_FIELDS = frozenset(field.name for field in fields(ManifestEntry))


def load_manifest(path: Path) -> dict[str, ManifestEntry]:
    """Parse and validate a manifest.

    :returns: entries keyed by their ``file`` as written, normalised to a relative POSIX path
        (``./a.txt`` becomes ``a.txt``).
    :raises ManifestError: unreadable or invalid TOML, or an invalid entry; the message names the
        manifest and the entry number (1-based).
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read manifest ({exc})", manifest=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: invalid TOML ({exc})", manifest=path) from exc
    tables = data.get("documents", [])
    if not isinstance(tables, list):
        raise ManifestError(f"{path}: 'documents' must be an array of tables", manifest=path)
    entries: dict[str, ManifestEntry] = {}
    ids: dict[str, int] = {}
    for number, table in enumerate(tables, start=1):
        entry = _entry(table, path, number)
        if entry.file in entries:
            raise _error(path, number, f"file {entry.file!r} is listed twice")
        if entry.id and entry.id in ids:
            raise _error(path, number, f"id {entry.id!r} is already used by entry {ids[entry.id]}")
        entries[entry.file] = entry
        if entry.id:
            ids[entry.id] = number
    return entries


def _entry(table: object, manifest: Path, number: int) -> ManifestEntry:
    if not isinstance(table, dict):
        raise _error(manifest, number, "must be a table")
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        allowed = ", ".join(sorted(_FIELDS))
        raise _error(manifest, number, f"unknown key(s) {unknown} (allowed: {allowed})")
    for key, value in table.items():
        if not isinstance(value, str):
            raise _error(manifest, number, f"{key!r} must be a string, not {value!r}")
    values = {key: value.strip() for key, value in table.items()}
    file = values.get("file", "")
    if not file:
        raise _error(manifest, number, "missing 'file'")
    relative = PurePosixPath(file)
    if relative.is_absolute() or ".." in relative.parts:
        raise _error(manifest, number, f"'file' must be relative to the manifest: {file!r}")
    values["file"] = str(relative)
    audience = values.get("audience", "staff")
    if audience not in AUDIENCES:
        raise _error(manifest, number, f"audience must be one of {AUDIENCES}, not {audience!r}")
    if values.get("id") and not _ID.match(values["id"]):
        raise _error(manifest, number, f"id {values['id']!r} may use only letters, digits, . _ -")
    return ManifestEntry(**values)  # type: ignore[arg-type]


def _error(manifest: Path, number: int, problem: str) -> ManifestError:
    return ManifestError(f"{manifest}: entry {number}: {problem}", manifest=manifest, entry=number)


def find_manifest(paths: Path | str | Iterable[Path | str]) -> Path | None:
    """The ``corpus.toml`` of the directory being ingested, if there is one.

    For a directory that is the directory itself; for a file, the directory holding it. With
    several paths the first manifest found wins.
    """
    for path in [paths] if isinstance(paths, str | Path) else paths:
        path = Path(path)
        directory = path if path.is_dir() else path.parent
        candidate = directory / MANIFEST_NAME
        if candidate.is_file():
            return candidate
    return None


def doc_id_for(path: Path, entry: ManifestEntry | None) -> str:
    """The manifest ``id`` if given, else :func:`slugify` of the file name without extension."""
    if entry is not None and entry.id:
        return entry.id
    return slugify(path.stem) or "doc-" + hashlib.sha1(path.name.encode()).hexdigest()[:12]


def slugify(name: str) -> str:
    """Lowercase ASCII slug: æ→ae, ø→oe, å→aa, ä→a, ö→o, accents stripped, others → ``-``."""
    ascii_name = unicodedata.normalize("NFKD", name.lower().translate(_TRANSLITERATION))
    ascii_name = ascii_name.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")


def document_meta(
    path: Path,
    entry: ManifestEntry | None,
    loaded: LoadedText | str,
    text: str | None = None,
    *,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> DocumentMeta:
    """Metadata for a loaded file: the manifest's values, defaults for what it leaves out.

    Defaults: title from the file's own metadata or the text's first short line; language
    detected among ``languages``; audience ``staff`` (safe: an unlisted file is never public);
    organisation, country and kind empty; source the file name (the manifest path if listed).

    :param loaded: what the loader returned (its ``title`` is used), or plain text.
    :param text: the cleaned text, if already available; it is better for guessing the title
        and the language than the raw loader output. Defaults to ``loaded``'s text.
    """
    own_title = loaded.title if isinstance(loaded, LoadedText) else None
    if text is None:
        text = loaded.text if isinstance(loaded, LoadedText) else loaded
    listed = entry or ManifestEntry(file=path.name)
    return DocumentMeta(
        doc_id=doc_id_for(path, entry),
        title=listed.title or own_title or guess_title(text) or path.stem,
        source=listed.file,
        organisation=listed.organisation,
        country=listed.country,
        language=listed.language or detect_language(text, languages),
        kind=listed.kind,
        audience=listed.audience,
    )


def guess_title(text: str, *, max_chars: int = MAX_TITLE_CHARS) -> str | None:
    """The first non-empty line of at most ``max_chars`` characters, without heading marks."""
    for line in text.splitlines():
        candidate = " ".join(line.strip().lstrip("#").split())
        if candidate and len(candidate) <= max_chars:
            return candidate
    return None
