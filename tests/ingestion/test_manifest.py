"""Corpus manifest: the demo manifest, broken manifests, document ids and default metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ManifestError
from assistant.models import DocumentMeta, LoadedText
from ingestion.manifest import (
    ManifestEntry,
    doc_id_for,
    document_meta,
    find_manifest,
    load_manifest,
    slugify,
)

pytestmark = pytest.mark.unit

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "corpus"
MANIFEST = CORPUS / "corpus.toml"


def write_manifest(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "corpus.toml"
    path.write_text(body, encoding="utf-8")
    return path


# --- the demo manifest ----------------------------------------------------------------------


def test_demo_manifest_lists_five_documents_one_for_staff():
    entries = load_manifest(MANIFEST)
    assert len(entries) == 5
    assert all((CORPUS / name).is_file() for name in entries)
    staff = [name for name, entry in entries.items() if entry.audience == "staff"]
    assert staff == ["lyngby-taarbaek-ctmb-indsatser-2025.txt"]


def test_demo_manifest_entry_values():
    entry = load_manifest(MANIFEST)["borlange-miljostrategi.txt"]
    assert entry == ManifestEntry(
        file="borlange-miljostrategi.txt",
        title="Miljöstrategi",
        organisation="Borlänge kommun",
        country="SE",
        language="sv",
        kind="strategy web page",
        audience="public",
    )


# --- broken manifests -----------------------------------------------------------------------

VALID = '[[documents]]\nfile = "a.txt"\naudience = "public"\n\n'


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('[[documents]]\nfile = "a.txt\n', "invalid TOML"),
        ('documents = "a.txt"\n', "array of tables"),
        (VALID + '[[documents]]\ntitle = "Uden fil"\n', "entry 2: missing 'file'"),
        (VALID + '[[documents]]\nfile = "b.txt"\naudience = "alle"\n', "entry 2: audience"),
        (VALID + '[[documents]]\nfile = "./a.txt"\n', "entry 2: file 'a.txt' is listed twice"),
        (VALID + '[[documents]]\nfile = "b.txt"\naudiance = "public"\n', "entry 2: unknown key"),
        (VALID + '[[documents]]\nfile = "b.txt"\ntitle = 2030\n', "entry 2: 'title' must be"),
        ('[[documents]]\nfile = "../hemmelig.txt"\n', "entry 1: 'file' must be relative"),
        ('[[documents]]\nfile = "/etc/passwd"\n', "entry 1: 'file' must be relative"),
        ('[[documents]]\nfile = "a.txt"\nid = "a b"\n', "entry 1: id 'a b' may use only"),
        (
            '[[documents]]\nfile = "a.txt"\nid = "x"\n[[documents]]\nfile = "b.txt"\nid = "x"\n',
            "entry 2: id 'x' is already used by entry 1",
        ),
    ],
)
def test_broken_manifest_is_a_manifest_error_naming_file_and_entry(tmp_path, body, problem):
    path = write_manifest(tmp_path, body)
    with pytest.raises(ManifestError) as error:
        load_manifest(path)
    assert str(path) in str(error.value)
    assert problem in str(error.value)


def test_missing_manifest_is_a_manifest_error(tmp_path):
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "corpus.toml")


def test_entry_defaults_to_staff_and_empty_fields(tmp_path):
    path = write_manifest(tmp_path, '[[documents]]\nfile = "./sub/notat.pdf"\n')
    assert load_manifest(path) == {"sub/notat.pdf": ManifestEntry(file="sub/notat.pdf")}
    assert ManifestEntry(file="x").audience == "staff"


def test_manifest_without_documents_is_empty(tmp_path):
    assert load_manifest(write_manifest(tmp_path, "# intet endnu\n")) == {}


# --- finding the manifest -------------------------------------------------------------------


def test_find_manifest_for_directory_and_for_file_in_it():
    assert find_manifest(CORPUS) == MANIFEST
    assert find_manifest([CORPUS / "borlange-miljostrategi.txt"]) == MANIFEST


def test_find_manifest_returns_none_without_one(tmp_path):
    (tmp_path / "a.txt").write_text("tekst", encoding="utf-8")
    assert find_manifest(tmp_path) is None
    assert find_manifest([tmp_path / "a.txt"]) is None
    assert find_manifest([]) is None


# --- document ids ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Lyngby-Taarbæk Bæredygtighedsstrategi.pdf", "lyngby-taarbaek-baeredygtighedsstrategi"),
        ("Miljöstrategi Borlänge.docx", "miljostrategi-borlange"),
        ("Ålborg_Kommune  2025 (endelig).txt", "aalborg-kommune-2025-endelig"),
        ("Grøn Økonomi.md", "groen-oekonomi"),
        ("Café résumé – Nürnberg.html", "cafe-resume-nurnberg"),
        ("--- CTMB indsatser 2025 ---.pdf", "ctmb-indsatser-2025"),
    ],
)
def test_doc_id_is_a_slug_of_the_file_name(name, slug):
    assert doc_id_for(Path("/any/where") / name, None) == slug


def test_doc_id_does_not_depend_on_directory():
    assert doc_id_for(Path("/srv/a/Plan.pdf"), None) == doc_id_for(Path("rel/b/Plan.pdf"), None)


def test_doc_id_prefers_manifest_id():
    entry = ManifestEntry(file="plan.pdf", id="klimaplan-2030")
    assert doc_id_for(Path("plan.pdf"), entry) == "klimaplan-2030"
    assert doc_id_for(Path("plan.pdf"), ManifestEntry(file="plan.pdf")) == "plan"


def test_doc_id_for_name_without_latin_letters_is_stable_and_non_empty():
    first = doc_id_for(Path("/a/报告.pdf"), None)
    assert first.startswith("doc-")
    assert first == doc_id_for(Path("/b/报告.pdf"), None)
    assert first != doc_id_for(Path("/a/计划.pdf"), None)


def test_slugify_is_ascii_lowercase():
    assert slugify("ÆØÅ äö ÄÖ") == "aeoeaa-ao-ao"


# --- document metadata ----------------------------------------------------------------------


def test_document_meta_from_manifest_entry():
    entries = load_manifest(MANIFEST)
    name = "lyngby-taarbaek-ctmb-indsatser-2025.txt"
    meta = document_meta(CORPUS / name, entries[name], LoadedText(text="Indledning", format="text"))
    assert meta == DocumentMeta(
        doc_id="lyngby-taarbaek-ctmb-indsatser-2025",
        title="Center for Trafik, Miljø og Bæredygtighed – indsatser 2025",
        source=name,
        organisation="Lyngby-Taarbæk Kommune",
        country="DK",
        language="da",
        kind="action plan (PDF text extraction, hard line breaks, page markers like 5/30)",
        audience="staff",
    )


def test_document_meta_defaults_without_entry():
    loaded = LoadedText(
        text="\n\n## Vägledning för lokalt arbete\n\nKommunen ska arbeta med miljömålen och "
        "Agenda 2030 i hela organisationen.",
        format="markdown",
    )
    meta = document_meta(Path("/data/in/Vägledning.md"), None, loaded, languages=("da", "sv"))
    assert meta == DocumentMeta(
        doc_id="vagledning",
        title="Vägledning för lokalt arbete",
        source="Vägledning.md",
        language="sv",
        audience="staff",
    )


def test_document_meta_prefers_the_files_own_title():
    loaded = LoadedText(text="Første linje\n\nMere tekst om klimaet.", format="pdf", title="Plan")
    assert document_meta(Path("plan.pdf"), None, loaded).title == "Plan"


def test_document_meta_skips_long_lines_when_guessing_a_title():
    text = "x" * 121 + "\n\nKort overskrift\n\nBrødtekst om bæredygtighed og klima i kommunen."
    meta = document_meta(Path("notat.txt"), None, text)
    assert meta.title == "Kort overskrift"
    assert meta.language == "da"


def test_document_meta_uses_cleaned_text_when_given():
    loaded = LoadedText(text="## ---\n\nrå tekst", format="html")
    cleaned = "Klimaplan 2030\n\nKommunen vil reducere udledningen af drivhusgasser."
    meta = document_meta(Path("plan.html"), None, loaded, cleaned, languages=["sv", "da"])
    assert (meta.title, meta.language) == ("Klimaplan 2030", "da")


def test_document_meta_entry_without_title_uses_loaded_title():
    entry = ManifestEntry(file="plan.pdf", audience="public")
    loaded = LoadedText(text="Tekst om klimaet og kommunen.", format="pdf", title="Klimaplan")
    meta = document_meta(Path("plan.pdf"), entry, loaded)
    assert (meta.title, meta.audience, meta.source) == ("Klimaplan", "public", "plan.pdf")
