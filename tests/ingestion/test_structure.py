"""Structure: heading detection, levels, section paths and quarter metadata."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from assistant.models import Block, CleanText, LoadedText, Section
from ingestion.cleaning import clean
from ingestion.structure import (
    QuarterHeading,
    is_title_like,
    mark_headings,
    outline,
    parse_quarter,
    section_number,
)

pytestmark = pytest.mark.unit

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "corpus"
CTMB = "lyngby-taarbaek-ctmb-indsatser-2025"

CTMB_SECTIONS = [
    "1. Tværgående indsatser (Koncerngrundlaget)",
    "1.1 Fokusområde 1: De rette kompetencer og kvalifikationer",
    "1.1.1 CTMB’s indsats",
    "1.2 Fokusområde 2: En fleksibel og attraktiv arbejdsplads",
    "1.3 Fokusområde 3: Samarbejde og helhed på tværs",
    "1.4 Fokusområde 4: God, relevant digitalisering",
    "1.5 Fokusområde 5: Tæt samspil med omverdenen",
    "2. Centerspecifikke indsatser",
    "2.1 Udvikling af organisationen",
    "2.1.1 De rette kompetencer og kvalifikationer",
    "2.1.2 Styrket kommunikation med borgere og virksomheder",
    "2.1.3 Inddragelse af bæredygtighed i kerneydelsen",
    "2.1.4 Hente inspiration ude fra",
    "2.1.5 Ledelsesudvikling",
    "2.2.2 Trivsel",
    "2.3.2 Styrket samarbejde og koordinering",
    "2.4.2 Digitalisering",
    "2.4.3 Effektivisering af opgaveløsningen",
    "2.5.3 Partnerskaber",
    "3.1 Program for bæredygtighed",
    "3.1.1 Varme og Energi",
    "3.1.2 Grøn Mobilitet",
    "3.1.3 Natur og biodiversitet",
    "3.1.4 Klimatilpasning og klimasikring",
    "3.1.5 Ansvarligt Forbrug",
    "3.1.6 Organisationsudvikling",
    "3.1.7 Kommunikation og aktørinddragelse",
    "4.1 Program for flådestyring",
    "5.1 Indsatser Trafik og Mobilitet",
    "6.1 Indsatser Klima og Forsyning",
    "7.1 Indsatser Natur og Miljø",
    "3. Program for strategisk byudvikling",
]


@cache
def document(stem: str) -> tuple[CleanText, tuple[Section, ...]]:
    result = clean(LoadedText((CORPUS / f"{stem}.txt").read_text(encoding="utf-8"), "txt"))
    return result, tuple(outline(result))


def blocks_with_sections(stem: str) -> list[tuple[Block, Section]]:
    result, sections = document(stem)
    return list(zip(result.blocks, sections, strict=True))


def heading(stem: str, text: str, occurrence: int = 0) -> tuple[Block, Section]:
    found = [
        (b, s) for b, s in blocks_with_sections(stem) if b.kind == "heading" and b.text == text
    ]
    assert len(found) > occurrence, text
    return found[occurrence]


def heading_at(stem: str, path: tuple[str, ...]) -> tuple[Block, Section]:
    found = [
        (b, s) for b, s in blocks_with_sections(stem) if b.kind == "heading" and s.path == path
    ]
    assert len(found) == 1, path
    return found[0]


def block(stem: str, fragment: str) -> tuple[Block, Section]:
    found = [(b, s) for b, s in blocks_with_sections(stem) if fragment in b.text]
    assert found, fragment
    return found[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1. Kvartal 2025", QuarterHeading((1,), 2025)),
        (" 2. Kvartal 2025", QuarterHeading((2,), 2025)),
        ("4. kvartal 2025", QuarterHeading((4,), 2025)),
        ("3. – 4. Kvartal 2025", QuarterHeading((3, 4), 2025)),
        ("3. og 4. Kvartal 2025", QuarterHeading((3, 4), 2025)),
        ("1.-4. Kvartal 2025", QuarterHeading((1, 2, 3, 4), 2025)),
        ("• Kvartal 2025", QuarterHeading((), 2025)),
        ("Kvartal 1 2025", QuarterHeading((1,), 2025)),
        ("kvartal 3", QuarterHeading((3,), None)),
        ("Q3 2025", QuarterHeading((3,), 2025)),
        ("Q1-Q2 2026:", QuarterHeading((1, 2), 2026)),
        ("första kvartalet 2025", QuarterHeading((1,), 2025)),
        ("Fjerde kvartal 2024", QuarterHeading((4,), 2024)),
        ("Tertial 2 2025", QuarterHeading((2, 3), 2025)),
        ("2. halvår 2025", QuarterHeading((3, 4), 2025)),
    ],
)
def test_quarter_heading_variants(text, expected):
    assert parse_quarter(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Letbanens anlægsarbejder i Lyngby forventes at være færdiggjort ultimo 2. kvartal",
        "Vi afholder møder en gang i kvartalet",
        "Kvartalsrapport",
        "2025",
        "",
    ],
)
def test_sentences_about_quarters_are_not_quarter_headings(text):
    assert parse_quarter(text) is None


@pytest.mark.parametrize(
    ("text", "single_level", "expected"),
    [
        ("3.1.1 Varme og Energi", False, (3, 1, 1)),
        ("1.1 Fokusområde 1: De rette kompetencer og kvalifikationer", False, (1, 1)),
        ("3. Program for strategisk byudvikling", False, None),
        ("3. Program for strategisk byudvikling", True, (3,)),
        (
            "17 stk. 4 udvalg for Bæredygtighed afslutter sit arbejde med udgangen af 2025.",
            True,
            None,
        ),
        ("2.5.2 nye former for borgerinddragelse, 2.5.3", False, None),
        ("2. Kvartal 2025", True, None),
    ],
)
def test_section_numbers(text, single_level, expected):
    assert section_number(text, single_level=single_level) == expected


def test_title_like_lines():
    assert is_title_like("Strategi og implementering")
    assert is_title_like("Ressourcer:")
    assert not is_title_like("Du kan læse nærmere om fyrtårnsindsatserne her: Fyrtårnsindsatser")
    assert not is_title_like("Nu till action!")
    assert not is_title_like("Lyngby-Taarbæk Forsyning, Vestforbrænding, Bygherre")


def test_one_section_per_block_and_headings_end_their_own_path():
    for stem in (CTMB, "borlange-miljostrategi", "lyngby-taarbaek-baeredygtighedsstrategi"):
        result, sections = document(stem)
        assert len(sections) == len(result.blocks)
        for b, s in zip(result.blocks, sections, strict=True):
            if b.kind == "heading":
                assert s.path and b.level >= 1
                assert s.path[-1] == b.text or s.path[-1].endswith(b.text.lstrip("• "))


def test_ctmb_outline_has_every_numbered_section():
    elements = {element for _, s in blocks_with_sections(CTMB) for element in s.path}
    missing = [title for title in CTMB_SECTIONS if title not in elements]
    assert len(CTMB_SECTIONS) >= 20
    assert missing == []


def test_numbered_headings_nest_by_number_and_level():
    block31, section31 = heading(CTMB, "3.1 Program for bæredygtighed")
    assert section31.path == ("3.1 Program for bæredygtighed",)
    assert block31.level == 2
    block311, section311 = heading(CTMB, "3.1.1 Varme og Energi")
    assert section311.path == ("3.1 Program for bæredygtighed", "3.1.1 Varme og Energi")
    assert block311.level == 3
    _, top = heading(CTMB, "1. Tværgående indsatser (Koncerngrundlaget)")
    assert top.path == ("1. Tværgående indsatser (Koncerngrundlaget)",)
    _, deep = heading(CTMB, "1.1.1 CTMB’s indsats")
    assert deep.path[:2] == (
        "1. Tværgående indsatser (Koncerngrundlaget)",
        "1.1 Fokusområde 1: De rette kompetencer og kvalifikationer",
    )
    _, missing_parent = heading(CTMB, "2.2.2 Trivsel")
    assert missing_parent.path == ("2. Centerspecifikke indsatser", "2.2.2 Trivsel")


def test_quarter_headings_carry_quarters_and_year():
    path = ("3.1 Program for bæredygtighed", "3.1.1 Varme og Energi", "2. Kvartal 2025")
    quarter_block, quarter = heading_at(CTMB, path)
    assert quarter_block.text == "2. Kvartal 2025"
    assert (quarter.quarters, quarter.year, quarter_block.level) == ((2,), 2025, 4)
    _, item_section = block(CTMB, "Godkendelse af projektforslag til fjernvarmeudrulning Etape 2")
    assert item_section.path[-2:] == ("3.1.1 Varme og Energi", "1. Kvartal 2025")
    assert (item_section.quarters, item_section.year) == ((1,), 2025)
    assert heading(CTMB, "3. – 4. Kvartal 2025")[1].quarters == (3, 4)
    assert heading(CTMB, "3. og 4. Kvartal 2025")[1].quarters == (3, 4)
    assert heading(CTMB, "1.-4. Kvartal 2025")[1].quarters == (1, 2, 3, 4)
    lower_block, lower = heading(CTMB, "4. kvartal 2025")
    assert lower.path[-2:] == ("3.1.1 Varme og Energi", "4. kvartal 2025")
    assert lower.quarters == (4,) and lower_block.kind == "heading"
    _, trafik = block(CTMB, "projekt 308")
    assert trafik.path == ("5.1 Indsatser Trafik og Mobilitet", "4. Kvartal 2025")


def test_bulleted_quarter_headings_are_numbered_by_position():
    bulleted = [(b, s) for b, s in blocks_with_sections(CTMB) if b.text == "• Kvartal 2025"]
    assert len(bulleted) == 4
    assert [s.path for _, s in bulleted] == [
        ("4.1 Program for flådestyring", f"{n}. Kvartal 2025") for n in range(1, 5)
    ]
    assert [s.quarters for _, s in bulleted] == [(1,), (2,), (3,), (4,)]
    assert {(b.kind, b.level) for b, _ in bulleted} == {("heading", 3)}
    _, first_bid = block(CTMB, "Første bud på optimeringsforslag")
    assert (first_bid.quarters, first_bid.year) == ((3,), 2025)


def test_quarters_do_not_leak_into_following_sections():
    _, after = heading(CTMB, "3.1.2 Grøn Mobilitet")
    assert after.quarters == () and after.year is None
    _, resources = block(CTMB, "Der anvendes ca. 7 årsværk i CTMB.")
    assert resources.quarters == ()


@pytest.mark.parametrize(
    ("stem", "first", "count"),
    [
        (CTMB, "1. Bæredygtighedsstrategi med handlingskatalog og implementeringsplan", 18),
        ("borlange-miljostrategi", "1. Energieffektivisera", 9),
        ("lansstyrelserna-vagledning-miljomal-agenda2030", "1. Agenda 2030 och miljömålen", 3),
    ],
)
def test_numbered_lists_in_body_text_stay_list_items(stem, first, count):
    blocks = [b for b, _ in blocks_with_sections(stem)]
    start = next(i for i, b in enumerate(blocks) if b.text.startswith(first))
    run = blocks[start : start + count]
    assert [b.kind for b in run] == ["item"] * count
    assert [b.text.split(".")[0] for b in run] == [str(n) for n in range(1, count + 1)]


def test_sentences_and_cross_references_starting_with_numbers_are_not_headings():
    assert block(CTMB, "17 stk. 4 udvalg for Bæredygtighed afslutter")[0].kind == "paragraph"
    assert block(CTMB, "inddragelse af bæredygtighed i kerneopgaven (2.1.3)")[0].kind == "paragraph"
    assert block(CTMB, "Indsatsen er beskrevet under punkt 2.5.2")[0].kind == "paragraph"


@pytest.mark.parametrize(
    ("stem", "title", "level", "path"),
    [
        ("lyngby-taarbaek-baeredygtighedsstrategi", "Bæredygtighedsstrategi", 1, None),
        (
            "lyngby-taarbaek-baeredygtighedsstrategi",
            "Strategi og implementering",
            2,
            ("Bæredygtighedsstrategi", "Strategi og implementering"),
        ),
        (
            "borlange-miljostrategi",
            "Hejda klimatförändringarna",
            2,
            ("Miljöstrategi", "Hejda klimatförändringarna"),
        ),
        ("borlange-miljostrategi", "Tre arbetssätt som gör oss framgångsrika", 2, None),
        ("haninge-uppfoljning-klimat-miljopolitiska-programmet", "Årets uppföljning", 2, None),
        (CTMB, "Indledning", 1, ("Indledning",)),
        (CTMB, "Succeskriterier", 3, None),
        (CTMB, "Ressourcer:", 3, ("4.1 Program for flådestyring", "Ressourcer:")),
        (CTMB, "Interne og eksterne samarbejdspartner", 4, None),
    ],
)
def test_title_lines_of_web_pages_become_headings(stem, title, level, path):
    found, section = heading_at(stem, path) if path else heading(stem, title)
    assert found.text == title
    assert found.level == level


def test_content_lines_are_not_taken_for_titles():
    lyngby = "lyngby-taarbaek-baeredygtighedsstrategi"
    assert block(lyngby, "Du kan læse nærmere om fyrtårnsindsatserne her")[0].kind == "paragraph"
    haninge = "haninge-uppfoljning-klimat-miljopolitiska-programmet"
    for contact in ("KONTAKT", "Petronella Troselius", "Senast uppdaterad"):
        assert block(haninge, contact)[0].kind == "paragraph"


def test_explicit_headings_are_trusted_and_titles_not_guessed():
    text = (
        "# Klimaplan\n\nKort linje\n\nEn lang sætning der forklarer noget vigtigt om planen.\n\n"
        "## 2.1 Energi\n\n1. Kvartal 2025\n\n• Solceller på skolerne.\n\n## Økonomi\n\nBudgettet."
    )
    result = clean(LoadedText(text, "docx"))
    sections = outline(result)
    summary = [
        (b.kind, b.level, s.path, s.quarters) for b, s in zip(result.blocks, sections, strict=True)
    ]
    assert summary == [
        ("heading", 1, ("Klimaplan",), ()),
        ("paragraph", 0, ("Klimaplan",), ()),
        ("paragraph", 0, ("Klimaplan",), ()),
        ("heading", 2, ("Klimaplan", "2.1 Energi"), ()),
        ("heading", 3, ("Klimaplan", "2.1 Energi", "1. Kvartal 2025"), (1,)),
        ("item", 0, ("Klimaplan", "2.1 Energi", "1. Kvartal 2025"), (1,)),
        ("heading", 2, ("Klimaplan", "Økonomi"), ()),
        ("paragraph", 0, ("Klimaplan", "Økonomi"), ()),
    ]


def test_mark_headings_is_idempotent():
    result, _ = document(CTMB)
    assert mark_headings(result.blocks) == list(result.blocks)


def test_blocks_before_any_heading_have_an_empty_path():
    result = clean(LoadedText("Kommunen vil plante flere træer i år, siger borgmesteren.", "txt"))
    assert outline(result) == [Section(path=())]
