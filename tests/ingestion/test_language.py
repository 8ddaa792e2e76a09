"""Language detection on whole documents and on the short follow-up questions users type."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigurationError
from ingestion.language import cue_counts, detect_language, detect_language_with_confidence

pytestmark = pytest.mark.unit

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "corpus"

SHORT_QUESTIONS = [
    ("Og i Q3?", "da"),
    ("Og i tredje kvartal?", "da"),
    ("Hvem er ansvarlig?", "da"),
    ("Hvad er målet for 2030?", "da"),
    ("Hvad med Q2?", "da"),
    ("Hvilke indsatser er der for klimaet?", "da"),
    ("Hvordan går det med CO2-udledningen?", "da"),
    ("Er målet nået?", "da"),
    ("Vem ansvarar för det?", "sv"),
    ("Vad är målet för 2030?", "sv"),
    ("Och i tredje kvartalet?", "sv"),
    ("Vilka åtgärder finns för klimatet?", "sv"),
    ("Hur går det med utsläppen?", "sv"),
    ("Och vad då?", "sv"),
    ("Vad gör kommunen för miljön?", "sv"),
    ("What about Q3?", "en"),
    ("Who is responsible?", "en"),
    ("And in the fourth quarter?", "en"),
    ("Can you summarise?", "en"),
    ("What is the goal for 2030?", "en"),
]

LONG_TEXTS = [
    (
        "Lyngby-Taarbæk Kommune har vedtaget en bæredygtighedsstrategi, som skal sikre, at "
        "kommunen bliver klimaneutral, og at borgerne oplever en grønnere hverdag med flere "
        "cykelstier og bedre kollektiv trafik.",
        "da",
    ),
    (
        "Haninges klimat- och miljöpolitiska program ger en samlad bild av kommunens klimat- "
        "och miljöambitioner. Varje år genomförs en uppföljning för att se vad som görs.",
        "sv",
    ),
    (
        "The municipality adopted a sustainability strategy that sets goals for emissions, "
        "biodiversity and public transport, and it reports on progress every quarter.",
        "en",
    ),
]


@pytest.mark.parametrize(("text", "expected"), SHORT_QUESTIONS + LONG_TEXTS)
def test_detects_language(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("lyngby-taarbaek-baeredygtighedsstrategi.txt", "da"),
        ("lyngby-taarbaek-ctmb-indsatser-2025.txt", "da"),
        ("borlange-miljostrategi.txt", "sv"),
        ("haninge-uppfoljning-klimat-miljopolitiska-programmet.txt", "sv"),
        ("lansstyrelserna-vagledning-miljomal-agenda2030.txt", "sv"),
    ],
)
def test_detects_language_of_demo_documents(name, expected):
    text = (CORPUS / name).read_text(encoding="utf-8")
    language, confidence = detect_language_with_confidence(text)
    assert language == expected
    assert confidence > 0.9


@pytest.mark.parametrize("text", ["", "   ", "2030 – 42 %", "?!"])
def test_text_without_letters_falls_back_to_first_candidate(text):
    assert detect_language_with_confidence(text) == ("da", 0.0)
    assert detect_language_with_confidence(text, ("sv", "da")) == ("sv", 0.0)


def test_confidence_is_a_probability_and_higher_for_clear_text():
    _, clear = detect_language_with_confidence("Vad är målet för 2030 och vem ansvarar för det?")
    _, vague = detect_language_with_confidence("Kommunen i 2030")
    assert 0.0 <= vague < clear <= 1.0


def test_only_candidates_are_returned():
    assert detect_language("Hvad er målet for 2030?", ("sv", "en")) in {"sv", "en"}
    assert detect_language("Who is responsible?", ["da", "sv"]) in {"da", "sv"}


def test_single_candidate_is_returned_with_full_confidence():
    assert detect_language_with_confidence("What about Q3?", ("da",)) == ("da", 1.0)


def test_candidate_codes_are_normalised():
    assert detect_language("Vem ansvarar för det?", (" DA", "Sv ", "en")) == "sv"


@pytest.mark.parametrize("candidates", [("da", "xx"), ()])
def test_bad_candidates_are_a_configuration_error(candidates):
    with pytest.raises(ConfigurationError):
        detect_language("Hvad er målet?", candidates)


def test_cues_count_letters_and_words():
    assert cue_counts("Og hvad er målet?", ("da", "sv", "en")) == {"da": 3, "sv": 0, "en": 0}
    assert cue_counts("Vad är målet för miljön?", ("da", "sv")) == {"da": 0, "sv": 5}
    # "for" is Danish and English: evidence for both, against Swedish.
    assert cue_counts("for", ("da", "sv", "en")) == {"da": 1, "sv": 0, "en": 1}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("I live in Lyngby-Taarbæk – will the waste collection fee go up next year?", "en"),
        ("Who decides on the nature plan for Mølleådalen?", "en"),
        ("Which steps are planned for flooding (Klimatilpasning og klimasikring)?", "en"),
        ("Is the Gasværksvej project on schedule?", "en"),
        ("Hvad sker der med Gasværksvej?", "da"),
        ("Vad gör Borlänge?", "sv"),
    ],
)
def test_names_and_quoted_titles_do_not_decide_a_questions_language(question, expected):
    from ingestion.language import detect_question_language_with_confidence

    assert detect_question_language_with_confidence(question, ("da", "sv", "en"))[0] == expected


def test_question_words_drop_names_and_quotes_but_keep_sentence_starts():
    from ingestion.language import question_words

    assert question_words("Hvad gør Lyngby-Taarbæk? Og Borlänge?") == "Hvad gør Og"
    assert question_words('What does "Nu till action" say?') == "What does say"
    assert question_words("Borlänge") == "Borlänge"  # a name alone is all there is
