"""File loaders: real files of every format in, LoadedText conventions out, clear errors."""

from __future__ import annotations

import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from assistant.errors import CorruptFile, EmptyDocument, IngestionError, UnsupportedFileType
from assistant.models import LoadedText
from ingestion.loaders import base, load_file, loader_for, register_loader, supported_suffixes

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


# --- builders -------------------------------------------------------------------------------


def make_pdf(path: Path, pages: list[str], *, title: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=12)  # core font: latin-1, which covers æøå and äö
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
        else:
            pdf.rect(20, 20, 100, 100, style="F")  # a "scanned" page: marks but no text
    pdf.output(str(path))
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Klimaplan 2030"
    document.add_paragraph("Klimaplan for Lyngby-Taarbæk", style="Title")
    document.add_heading("Mål og indsatser", level=1)
    document.add_paragraph("Kommunen vil være klimaneutral i 2030.")
    document.add_paragraph("Fjernvarme udbygges", style="List Bullet")
    document.add_paragraph("Flere cykelstier", style="List Bullet")
    document.add_heading("Tidsplan", level=2)
    document.add_paragraph("Første etape", style="List Number")
    document.add_paragraph("Anden etape", style="List Number")
    table = document.add_table(rows=3, cols=2)
    for row, (year, goal) in enumerate([("År", "Mål"), ("2025", "50 %"), ("2030", "70 %")]):
        table.cell(row, 0).text = year
        table.cell(row, 1).text = goal
    document.add_paragraph("Opfølgning sker hvert kvartal.")
    document.save(str(path))
    return path


HTML_PAGE = """<!DOCTYPE html>
<html lang="da"><head><meta charset="utf-8"><title>Bæredygtighedsstrategi | Kommunen</title>
<style>.menu { color: red }</style><script>var tracking = "SCRIPT-TEXT";</script></head>
<body>
<header><a href="/">LOGO-TEXT</a><nav><ul><li>Borger</li><li>Erhverv</li></ul></nav></header>
<div class="cookie" aria-hidden="true">COOKIE-TEXT</div>
<main>
  <h1>Bæredygtighed   i <em>Lyngby</em></h1>
  <p>Kommunen arbejder med <b>grøn</b>
     omstilling.<br>Ny linje i samme afsnit.</p>
  <!-- redaktør: husk at opdatere -->
  <h2>Mål</h2>
  <ul><li>Mindre CO<sub>2</sub></li><li>Mere <a href="/natur">natur</a>
    <ul><li>Skov</li></ul></li></ul>
  <ol><li><p>Kortlægning</p></li><li>Handleplan</li></ol>
  <table><tr><th>År</th><th>Mål</th></tr><tr><td>2030</td><td>70 %</td></tr></table>
  <aside>ASIDE-TEXT</aside>
  <form><label>Søg</label><input name="q"><button>FORM-TEXT</button></form>
</main>
<footer>FOOTER-TEXT Kontakt os</footer>
<noscript>NOSCRIPT-TEXT</noscript>
</body></html>
"""

MARKDOWN = """\
# Miljöstrategi

Borlänge kommun har **tydliga** mål och en [plan](https://example.se/plan).
![Diagram](diagram.png)

## Fokusområden

- Klimat
* Natur och `vatten`
+ Konsumtion

1. Kartläggning
1. Åtgärder

```text
kodrad med **stjärnor**
```
"""


def assert_names_file(error: pytest.ExceptionInfo[IngestionError], path: Path) -> None:
    assert path.name in str(error.value)
    assert error.value.context["file"] == path.name


# --- registry -------------------------------------------------------------------------------


def test_supported_suffixes_cover_all_formats():
    assert set(supported_suffixes()) == {
        ".txt",
        ".md",
        ".markdown",
        ".html",
        ".htm",
        ".pdf",
        ".docx",
    }


def test_loader_is_chosen_by_suffix_case_insensitively(tmp_path):
    path = tmp_path / "NOTER.TXT"
    path.write_text("Hej", encoding="utf-8")
    assert loader_for(path).suffixes == (".txt",)
    assert load_file(path).text == "Hej"


def test_registered_loader_handles_its_suffix(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "_LOADERS", dict(base._LOADERS))

    class RstLoader:
        suffixes = (".rst",)

        def load(self, path: Path) -> LoadedText:
            return LoadedText(text=path.read_text().upper(), format="rst")

    register_loader(RstLoader())
    path = tmp_path / "a.rst"
    path.write_text("afsnit", encoding="utf-8")
    assert ".rst" in supported_suffixes()
    assert load_file(path) == LoadedText(text="AFSNIT", format="rst")


def test_importing_loaders_does_not_import_parsers():
    code = (
        "import sys, ingestion.loaders, ingestion.manifest, ingestion.language; "
        "print(sorted(m for m in ('bs4', 'pypdf', 'docx', 'lingua', 'fpdf') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# --- plain text -----------------------------------------------------------------------------


def test_utf8_text_is_kept_verbatim_except_newlines(tmp_path):
    path = tmp_path / "strategi.txt"
    raw = "Bæredygtighed  \r\n\r\n\r\n• Første punkt\r\nSidste linje\rslut\n"
    path.write_bytes(b"\xef\xbb\xbf" + raw.encode("utf-8"))
    loaded = load_file(path)
    assert loaded == LoadedText(
        text="Bæredygtighed  \n\n\n• Første punkt\nSidste linje\nslut\n", format="text"
    )


def test_cp1252_text_with_swedish_letters_is_decoded(tmp_path):
    path = tmp_path / "miljo.txt"
    text = "Miljöstrategi för Borlänge – åtgärder “nu”\n"
    path.write_bytes(text.encode("cp1252"))
    assert load_file(path).text == text


def test_utf16_text_with_bom_is_decoded(tmp_path):
    path = tmp_path / "notepad.txt"
    path.write_bytes("Målet för 2030\r\n".encode("utf-16"))
    assert load_file(path).text == "Målet för 2030\n"


def test_binary_blob_named_txt_is_corrupt(tmp_path):
    path = tmp_path / "billede.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(CorruptFile, match="NUL") as error:
        load_file(path)
    assert_names_file(error, path)


def test_binary_without_nul_bytes_is_corrupt(tmp_path):
    path = tmp_path / "data.txt"
    path.write_bytes(bytes(range(1, 256)) * 8)
    with pytest.raises(CorruptFile, match="does not look like text") as error:
        load_file(path)
    assert_names_file(error, path)


def test_empty_file_is_empty_document(tmp_path):
    path = tmp_path / "tom.txt"
    path.write_bytes(b"")
    with pytest.raises(EmptyDocument, match="empty") as error:
        load_file(path)
    assert_names_file(error, path)


@pytest.mark.parametrize("name", ["mellemrum.txt", "mellemrum.md", "mellemrum.html"])
def test_whitespace_only_file_is_empty_document(tmp_path, name):
    path = tmp_path / name
    path.write_text("  \n\t\n\n   \r\n", encoding="utf-8")
    with pytest.raises(EmptyDocument, match="no text") as error:
        load_file(path)
    assert_names_file(error, path)


# --- errors before parsing ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["budget.xlsx", "README"])
def test_unsupported_file_type(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 not really a spreadsheet")
    with pytest.raises(UnsupportedFileType, match="not supported") as error:
        load_file(path)
    assert_names_file(error, path)
    assert ".pdf" in str(error.value)  # tells the user what would work


def test_file_over_max_bytes_is_refused(tmp_path):
    path = tmp_path / "stor.txt"
    path.write_text("x" * 2_000, encoding="utf-8")
    with pytest.raises(IngestionError, match="too large") as error:
        load_file(path, max_bytes=1_000)
    assert_names_file(error, path)
    assert load_file(path, max_bytes=2_000).text == "x" * 2_000


def test_missing_file(tmp_path):
    path = tmp_path / "findes-ikke.md"
    with pytest.raises(IngestionError, match="not found") as error:
        load_file(path)
    assert_names_file(error, path)


# --- PDF ------------------------------------------------------------------------------------


def test_pdf_pages_are_separated_by_form_feed(tmp_path):
    path = make_pdf(
        tmp_path / "klimaplan.pdf",
        [
            "Første side: Bæredygtighed og grøn omstilling.\nÆndringer i 2025.",
            "Anden side: Målet for 2030 er at reducere udledningen.",
        ],
        title="Klimaplan for Lyngby-Taarbæk",
    )
    loaded = load_file(path)
    pages = loaded.text.split("\f")
    assert len(pages) == 2
    assert "Første side: Bæredygtighed og grøn omstilling." in pages[0]
    assert "Ændringer i 2025." in pages[0]
    assert "Anden side: Målet for 2030 er at reducere udledningen." in pages[1]
    assert loaded.format == "pdf"
    assert loaded.title == "Klimaplan for Lyngby-Taarbæk"


def test_pdf_without_title_metadata_has_no_title(tmp_path):
    path = make_pdf(tmp_path / "notat.pdf", ["Kort notat."])
    assert load_file(path).title is None


def test_pdf_keeps_empty_pages_so_page_numbers_stay_right(tmp_path):
    path = make_pdf(tmp_path / "bilag.pdf", ["Side et.", "", "Side tre."])
    pages = load_file(path).text.split("\f")
    assert [page.strip() for page in pages] == ["Side et.", "", "Side tre."]


def test_pdf_without_text_is_empty_document(tmp_path):
    path = make_pdf(tmp_path / "scannet.pdf", ["", ""])
    with pytest.raises(EmptyDocument, match="OCR is not supported") as error:
        load_file(path)
    assert_names_file(error, path)


def test_random_bytes_named_pdf_are_corrupt(tmp_path):
    path = tmp_path / "tilfaeldig.pdf"
    path.write_bytes(random.Random(7).randbytes(4_000))
    with pytest.raises(CorruptFile, match="not a PDF") as error:
        load_file(path)
    assert_names_file(error, path)


def test_truncated_pdf_is_corrupt(tmp_path):
    whole = make_pdf(tmp_path / "hel.pdf", ["Side et.", "Side to."]).read_bytes()
    path = tmp_path / "afbrudt.pdf"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptFile, match="truncated") as error:
        load_file(path)
    assert_names_file(error, path)


def test_pdf_that_pypdf_cannot_parse_is_corrupt(tmp_path):
    path = tmp_path / "oedelagt.pdf"
    path.write_bytes(b"%PDF-1.7\n" + random.Random(3).randbytes(3_000) + b"\n%%EOF\n")
    with pytest.raises(CorruptFile, match="unreadable PDF") as error:
        load_file(path)
    assert_names_file(error, path)


def test_encrypted_pdf_needing_a_password_is_corrupt(tmp_path):
    from pypdf import PdfWriter

    source = make_pdf(tmp_path / "aaben.pdf", ["Fortroligt."])
    writer = PdfWriter(clone_from=source)
    writer.encrypt(user_password="hemmelig", owner_password="ejer", algorithm="RC4-128")
    path = tmp_path / "laast.pdf"
    writer.write(path)
    with pytest.raises(CorruptFile, match="password") as error:
        load_file(path)
    assert_names_file(error, path)


def test_encrypted_pdf_with_empty_password_loads(tmp_path):
    from pypdf import PdfWriter

    source = make_pdf(tmp_path / "aaben.pdf", ["Kun printbeskyttet."])
    writer = PdfWriter(clone_from=source)
    writer.encrypt(user_password="", owner_password="ejer", algorithm="RC4-128")
    path = tmp_path / "printbeskyttet.pdf"
    writer.write(path)
    assert "Kun printbeskyttet." in load_file(path).text


# --- DOCX -----------------------------------------------------------------------------------


def test_docx_structure_follows_conventions(tmp_path):
    loaded = load_file(make_docx(tmp_path / "klimaplan.docx"))
    assert loaded.text == (
        "# Klimaplan for Lyngby-Taarbæk\n\n"
        "# Mål og indsatser\n\n"
        "Kommunen vil være klimaneutral i 2030.\n\n"
        "• Fjernvarme udbygges\n• Flere cykelstier\n\n"
        "## Tidsplan\n\n"
        "1. Første etape\n2. Anden etape\n\n"
        "År | Mål\n2025 | 50 %\n2030 | 70 %\n\n"
        "Opfølgning sker hvert kvartal."
    )
    assert loaded.format == "docx"
    assert loaded.title == "Klimaplan 2030"


def test_docx_merged_table_cells_appear_once(tmp_path):
    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "Indsatser 2025"
    for col, text in enumerate(["Varme", "Trafik", "Natur"]):
        table.cell(1, col).text = text
    path = tmp_path / "tabel.docx"
    document.save(str(path))
    assert load_file(path).text == "Indsatser 2025\nVarme | Trafik | Natur"


def test_text_file_named_docx_is_corrupt(tmp_path):
    path = tmp_path / "omdoebt.docx"
    path.write_text("Det her er ikke et Word-dokument.", encoding="utf-8")
    with pytest.raises(CorruptFile, match="not a zip") as error:
        load_file(path)
    assert_names_file(error, path)


def test_zip_without_document_xml_is_corrupt(tmp_path):
    path = tmp_path / "arkiv.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(CorruptFile, match="word/document.xml") as error:
        load_file(path)
    assert_names_file(error, path)


def test_docx_with_broken_package_is_corrupt(tmp_path):
    path = tmp_path / "oedelagt.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "dette er ikke xml")
    with pytest.raises(CorruptFile, match="unreadable DOCX") as error:
        load_file(path)
    assert_names_file(error, path)


# --- HTML -----------------------------------------------------------------------------------


def test_html_keeps_content_and_drops_boilerplate(tmp_path):
    path = tmp_path / "strategi.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    loaded = load_file(path)
    assert loaded.text == (
        "# Bæredygtighed i Lyngby\n\n"
        "Kommunen arbejder med grøn omstilling.\nNy linje i samme afsnit.\n\n"
        "## Mål\n\n"
        "• Mindre CO2\n• Mere natur\n• Skov\n\n"
        "1. Kortlægning\n2. Handleplan\n\n"
        "År | Mål\n2030 | 70 %"
    )
    assert loaded.format == "html"
    assert loaded.title == "Bæredygtighedsstrategi | Kommunen"


def test_html_without_main_uses_body_and_first_h1_as_title(tmp_path):
    path = tmp_path / "side.htm"
    path.write_text(
        "<html><body><nav>Menu</nav><h1>Vägledning</h1><p>Text om Agenda 2030.</p>"
        "<footer>Sidfot</footer></body></html>",
        encoding="utf-8",
    )
    loaded = load_file(path)
    assert loaded.text == "# Vägledning\n\nText om Agenda 2030."
    assert loaded.title == "Vägledning"


def test_html_in_declared_legacy_charset(tmp_path):
    path = tmp_path / "gammel.html"
    html = '<html><head><meta charset="windows-1252"></head><body><p>Miljö och hälsa</p></body>'
    path.write_bytes(html.encode("cp1252"))
    assert load_file(path).text == "Miljö och hälsa"


def test_article_header_is_content_but_page_header_is_not(tmp_path):
    path = tmp_path / "nyhed.html"
    path.write_text(
        "<body><header>Sidehoved</header><article><header><h1>Nyhed</h1></header>"
        "<p>Brødtekst.</p><footer>Publiceret 2025</footer></article></body>",
        encoding="utf-8",
    )
    assert load_file(path).text == "# Nyhed\n\nBrødtekst.\n\nPubliceret 2025"


# --- markdown -------------------------------------------------------------------------------


def test_markdown_is_reduced_to_conventions(tmp_path):
    path = tmp_path / "miljo.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    loaded = load_file(path)
    assert loaded.text == (
        "# Miljöstrategi\n\n"
        "Borlänge kommun har tydliga mål och en plan.\n\n"
        "## Fokusområden\n\n"
        "• Klimat\n• Natur och vatten\n• Konsumtion\n\n"
        "1. Kartläggning\n2. Åtgärder\n\n"
        "kodrad med **stjärnor**"
    )
    assert loaded.format == "markdown"
    assert loaded.title == "Miljöstrategi"


def test_markdown_front_matter_title_and_setext_heading(tmp_path):
    path = tmp_path / "plan.markdown"
    path.write_text(
        '---\ntitle: "Klimaplan"\n---\nIndledning\n==========\n\nTekst med __vægt__.\n',
        encoding="utf-8",
    )
    loaded = load_file(path)
    assert loaded.text == "# Indledning\n\nTekst med vægt."
    assert loaded.title == "Klimaplan"
