"""Cleaning: exact spans, boilerplate removal, PDF re-flow, glued sentences, page numbers."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.models import CleanText, LoadedText
from ingestion.cleaning import clean

pytestmark = pytest.mark.unit

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "corpus"
DOCS = sorted(path.stem for path in CORPUS.glob("*.txt"))
CTMB = "lyngby-taarbaek-ctmb-indsatser-2025"


@cache
def cleaned(stem: str) -> CleanText:
    return clean(
        LoadedText(text=(CORPUS / f"{stem}.txt").read_text(encoding="utf-8"), format="txt")
    )


def block_with(result: CleanText, fragment: str):
    matches = [block for block in result.blocks if fragment in block.text]
    assert len(matches) >= 1, fragment
    return matches[0]


def assert_exact_spans(result: CleanText) -> None:
    previous_end = 0
    for block in result.blocks:
        assert result.text[block.start : block.end] == block.text
        assert block.text and block.text == block.text.strip()
        assert block.start >= previous_end
        previous_end = block.end
        assert block.kind in ("heading", "paragraph", "item")
        assert (block.level > 0) == (block.kind == "heading")
        assert block.page is None or block.page >= 1
    assert result.text == result.text.strip()


def test_demo_corpus_has_five_documents():
    assert len(DOCS) == 5


@pytest.mark.parametrize("stem", DOCS)
def test_every_block_is_an_exact_slice_of_the_cleaned_text(stem):
    result = cleaned(stem)
    assert len(result.blocks) > 5
    assert_exact_spans(result)
    gaps = [
        result.text[a.end : b.start] for a, b in zip(result.blocks, result.blocks[1:], strict=False)
    ]
    assert set(gaps) <= {"\n", "\n\n"}


@pytest.mark.parametrize(
    ("stem", "gone", "kept"),
    [
        (
            "lyngby-taarbaek-baeredygtighedsstrategi",
            ["Gå til hovedindhold"],
            [
                "Bæredygtighedsstrategien skal fungere som en understøttelse",
                "Du kan læse nærmere om fyrtårnsindsatserne her: Fyrtårnsindsatser",
                "klik her",
            ],
        ),
        (
            "haninge-uppfoljning-klimat-miljopolitiska-programmet",
            [
                "Hej! Du använder en gammal webbläsare",
                "Inom kort kommer vissa funktioner",
                "Microsoft Edge",
            ],
            [
                "Uppföljning av klimat- och miljöpolitiska programmet",
                "Haninges klimat- och miljöpolitiskt program ger en samlad bild",
                "Senast uppdaterad: 23 juli 2020",
            ],
        ),
        (
            "borlange-miljostrategi",
            [
                "Klicka på bilden för att se filmen på Youtube.",
                "Skärmdump på filmen",
                "Pdf, 2.1 MB",
                "717.9 kB",
                "öppnas i nytt fönster",
                "Länk till annan webbplats",
                "Borlänge kommuns miljöstrategi 2021-2030",
                "Handlingsplan till miljöstrategin för 2023",
                "Miljöbokslut 2022",
                "Sveriges miljömål",
                "FN:s globala mål",
            ],
            [
                "Hejda klimatförändringarna",
                "Stärk den biologiska mångfalden",
                "Skapa en cirkulär ekonomi",
                "utanför Sveriges gränser.",
            ],
        ),
        (
            "lansstyrelserna-vagledning-miljomal-agenda2030",
            [
                "Länk till vägledningen",
                "Länk till guiden",
                "Content Editor",
                "Framsida.PNG",
                "\xa0",
            ],
            [
                "Vägledningen är en uppdatering och omarbetning",
                "Väl värt att kolla upp!",
                "Guide till lokalt arbete med miljömål",
            ],
        ),
    ],
)
def test_boilerplate_is_dropped_and_neighbouring_content_kept(stem, gone, kept):
    text = cleaned(stem).text
    for fragment in gone:
        assert fragment not in text
    for fragment in kept:
        assert fragment in text


@pytest.mark.parametrize(
    "line",
    [
        "Skip to main content",
        "Del på Facebook",
        "Print",
        "Til toppen",
        "Till toppen",
        "Läs mer",
        "Læs mere",
        "Vi bruger cookies til at forbedre din oplevelse af hjemmesiden.",
        "Acceptér alle cookies",
        "Gå til hovedindhold",
        "Hoppa till huvudinnehållet",
        "Billede_01.jpg",
        "Klimaplan 2030 Pdf, 1.2 MB, öppnas i nytt fönster.",
        "Naturvårdsverket Länk till annan webbplats.",
    ],
)
def test_boilerplate_lines_from_the_pattern_list_are_dropped(line):
    result = clean(LoadedText(f"Klimaplan\n\n{line}\n\nKommunen planter træer langs åen.", "html"))
    assert line not in result.text
    assert [b.text for b in result.blocks] == ["Klimaplan", "Kommunen planter træer langs åen."]


def test_trailing_link_label_is_cut_but_the_sentence_kept():
    line = "Planen beskriver målen för 2030. Läs hela planen här Pdf, 1.2 MB."
    result = clean(LoadedText(line, "html"))
    assert result.text == "Planen beskriver målen för 2030. Läs hela planen här"


def test_short_headings_are_never_dropped_for_being_short():
    text = "Mål\n\nKommunen skal reducere udledningen.\n\nKontakt\n\nSkriv til os på mail."
    assert [b.text for b in clean(LoadedText(text, "html")).blocks] == [
        "Mål",
        "Kommunen skal reducere udledningen.",
        "Kontakt",
        "Skriv til os på mail.",
    ]


def test_glued_sentences_are_split_into_two_paragraphs():
    result = cleaned("borlange-miljostrategi")
    first = block_with(result, "Tillsammans kan vi åstadkomma")
    second = block_with(result, "Det finns 16 nationella miljömål")
    assert first.text.endswith("åstadkomma mycket!")
    assert second.text.startswith("Det finns 16 nationella miljömål")
    assert first.kind == second.kind == "paragraph"


@pytest.mark.parametrize(
    "line",
    [
        "Se t.ex.Kommunens plan for detaljer.",
        "Målen följer FN:s agenda.",
        "Besök www.Haninge.se för mer.",
        "Skriv till info@Kommune.se om planen.",
        "Vandløb, søer m.v.Det gælder alle.",
        "Vi har fået udviklet LyngBotten til borgerne.",
    ],
)
def test_abbreviations_urls_and_mails_are_not_split(line):
    assert [b.text for b in clean(LoadedText(line, "html")).blocks] == [line]


def test_page_marker_becomes_page_numbers():
    result = cleaned(CTMB)
    assert "5/30" not in result.text
    assert result.blocks[0].page == 5
    assert block_with(result, "Medio 2026 vil letbanen").page == 5
    assert block_with(result, "Overblik over indsatsområder").page == 6
    assert block_with(result, "Tværgående indsatser (Koncerngrundlaget)").page == 6


def test_form_feeds_count_pages_from_one():
    result = clean(LoadedText("Første side.\fAnden side.\f\fFjerde side.", "pdf"))
    assert [(b.text, b.page) for b in result.blocks] == [
        ("Første side.", 1),
        ("Anden side.", 2),
        ("Fjerde side.", 4),
    ]
    assert "\f" not in result.text


def test_unknown_pages_are_none_without_page_information():
    assert {b.page for b in cleaned("borlange-miljostrategi").blocks} == {None}


def test_pdf_line_breaks_are_reflowed_into_one_item():
    result = cleaned(CTMB)
    item = block_with(result, "Principgodkendelse af igangsættelse")
    assert item.kind == "item"
    assert item.text == (
        "• Principgodkendelse af igangsættelse for myndighedsarbejdet for geotermianlæg i Virum."
    )
    assert "geotermianlæg i\n" not in result.text


def test_reflow_joins_paragraph_lines_and_hyphenated_names():
    result = cleaned(CTMB)
    paragraph = block_with(result, "Center servicerer Teknikudvalget")
    assert paragraph.kind == "paragraph"
    assert paragraph.text.endswith("implementere følgende strategier, politikker og handleplaner:")
    assert "madpolitik i Lyngby-Taarbæk Kommune drøftes internt" in result.text
    assert "Interne og eksterne samarbejdspartner" not in block_with(result, "Fuglevad").text


def test_bullets_and_sub_bullets_stay_separate_items():
    result = cleaned(CTMB)
    first = block_with(result, "Godkendelse af projektforslag til fjernvarmeudrulning Etape 2")
    second = block_with(result, "Orientering af politikerne om anlæg til udrulningen")
    assert first.kind == second.kind == "item"
    assert first.text == "• Godkendelse af projektforslag til fjernvarmeudrulning Etape 2."
    assert first is not second
    sub = block_with(result, "Medlemmer af Science City")
    assert sub.kind == "item" and sub.text.startswith("o Medlemmer")
    assert (
        "• Godkendelse af projektforslag til fjernvarmeudrulning Etape 2.\n"
        "• Principgodkendelse af igangsættelse" in result.text
    )


def test_blank_line_per_physical_line_and_dense_pdf_text_clean_the_same():
    raw = (CORPUS / f"{CTMB}.txt").read_text(encoding="utf-8")
    dense = "\n".join(line for line in raw.split("\n") if line.strip())
    assert clean(LoadedText(dense, "pdf")).text == cleaned(CTMB).text


def test_explicit_headings_lose_their_hashes():
    result = clean(LoadedText("# Klimaplan\n\n## Mål ##\n\nVi  skal\tnå   målet.  ", "docx"))
    assert [(b.kind, b.level, b.text) for b in result.blocks] == [
        ("heading", 1, "Klimaplan"),
        ("heading", 2, "Mål"),
        ("paragraph", 0, "Vi skal nå målet."),
    ]
    assert "#" not in result.text


def test_web_paragraph_lines_are_not_joined_across_blank_lines():
    result = cleaned("lyngby-taarbaek-baeredygtighedsstrategi")
    assert block_with(result, "Strategi og implementering").text == "Strategi og implementering"


def test_empty_and_boilerplate_only_input_give_empty_text():
    assert clean(LoadedText("", "txt")) == CleanText("", ())
    assert clean(LoadedText("Gå til hovedindhold\n\n\f\n5/30\n", "txt")).text == ""


LINE_PARTS = st.sampled_from(
    [
        "• ",
        "o ",
        "- ",
        "1. ",
        "3.1.1 ",
        "# ",
        "## ",
        "5/30",
        "Kvartal 2025",
        "2. Kvartal 2025",
        "Print",
        "Gå til hovedindhold",
        "Pdf, 2 MB.",
        "mycket!Det",
        "Lyngby-",
        "og",
        "\f",
        "\r\n",
        "\n",
        "\n\n",
        "\t",
        "\xa0",
        "\u2028",
        "\x00",
        "\u200b",
        " ",
        ".",
        ":",
        "/",
    ]
)
TEXTS = st.lists(st.one_of(st.text(max_size=12), LINE_PARTS), max_size=40).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_clean_never_raises_and_spans_are_exact(text):
    result = clean(LoadedText(text, "txt"))
    assert_exact_spans(result)
    assert "\f" not in result.text and "\r" not in result.text
