"""The English glossary: the file parses, phrases win over words, and English questions match
Danish and Swedish text by words in BM25 and in the abstain check's coverage."""

from __future__ import annotations

import pytest

from assistant.answering.evidence import measure
from tests.conftest import retriever_with
from vectorstore.filters import SearchFilter
from vectorstore.glossary import GLOSSARY_FILE, Glossary, english_glossary, parse

STAFF = SearchFilter(audience="staff")


@pytest.mark.unit
def test_the_shipped_glossary_parses_and_every_entry_has_a_translation():
    lines = GLOSSARY_FILE.read_text(encoding="utf-8").splitlines()
    entries = parse(lines)
    assert len(entries) > 250
    for entry in entries:
        assert entry.english and (entry.danish or entry.swedish), entry


@pytest.mark.unit
def test_a_phrase_is_matched_before_its_words():
    glossary = Glossary(
        parse(
            [
                "en\tda\tsv",
                "public transport\tkollektiv trafik\tkollektivtrafik",
                "transport\ttransport\ttransport",
                "public\toffentlig\toffentlig",
                "# a comment",
                "bus\tbus\tbuss",
            ]
        )
    )
    assert glossary.translate("More public transport and a bus") == (
        "kollektiv trafik kollektivtrafik bus buss"
    )
    assert glossary.translate("Public money", ["sv"]) == "offentlig"
    assert glossary.translate("nothing known here") == ""


@pytest.mark.unit
@pytest.mark.parametrize("line", ["only english", "a\tb", "\tda\tsv"])
def test_a_malformed_line_is_an_error_naming_it(line):
    with pytest.raises(ValueError, match="glossary line 2"):
        parse(["en\tda\tsv", line])


@pytest.mark.integration
def test_an_english_word_finds_the_danish_text_in_bm25(demo_core):
    query = "newsletter"
    with_glossary = demo_core.retriever.search(
        query, STAFF, k=3, mode="bm25", language="en", expand=False
    )
    assert with_glossary and all("nyhedsbrev" in p.chunk.text for p in with_glossary)
    plain = retriever_with(demo_core, glossary=False)
    assert not any(
        "nyhedsbrev" in p.chunk.text
        for p in plain.search(query, STAFF, k=3, mode="bm25", language="en", expand=False)
    )


@pytest.mark.integration
def test_the_query_language_is_detected_when_not_given(demo_core):
    # near-spellings off, so that only the glossary could add words
    retriever = retriever_with(demo_core, cognates=False)
    assert "nyhedsbrev" in retriever._lexical_query("When is the newsletter sent out?", None)
    danish = "Hvornår sendes nyhedsbrevet ud?"
    # read as Danish: the Swedish words of the entries it uses, not the English glossary's
    swedish = english_glossary().neighbour_words(danish, "da")
    assert "nyhetsbrev" in swedish
    assert retriever._lexical_query(danish, None) == f"{danish} {swedish}"


@pytest.mark.integration
def test_english_words_count_as_covered_through_their_translations(demo_core):
    question = "When is the newsletter about sustainability sent?"
    passages = demo_core.retriever.search(question, STAFF, language="en")
    languages = demo_core.settings.languages
    with_glossary = measure(question, "en", passages, languages)
    without = measure(question, "en", passages, languages, use_glossary=False)
    assert with_glossary.coverage > without.coverage
    assert without.coverage == 0.0


@pytest.mark.unit
def test_the_glossary_is_loaded_once():
    assert english_glossary() is english_glossary()


@pytest.mark.unit
@pytest.mark.parametrize(
    "question,unknown",
    [
        ("How many full-time equivalents does the centre use?", ["full-time equivalents"]),
        ("How many tonnes of CO2 were emitted?", ["tonnes"]),
        ("How many focus areas are there?", []),  # fokusområde is in the documents
        ("How many people live there?", []),  # not in the glossary: nothing to check
        ("Hvor mange årsværk bruger CTMB?", []),  # not English
    ],
)
def test_an_english_count_of_something_no_document_mentions(question, unknown):
    from assistant.answering.evidence import unknown_english_focus

    vocabulary = {"fokusområde", "fokusområden", "centret", "strategi"}
    language = "en" if question.startswith("How") else "da"
    assert unknown_english_focus(question, language, vocabulary, ("da", "sv", "en")) == unknown


@pytest.mark.unit
def test_danish_and_swedish_meet_through_the_entries():
    glossary = Glossary(
        parse(
            [
                "evaluate\tevaluere|evaluering\tutvärdera|utvärdering",
                "shared mobility\tdelemobilitet\tdelad mobilitet",
                "english only\t-\tbara svenska",
            ]
        )
    )
    assert glossary.neighbour_words("Vem ska utvärdera delad mobilitet?", "sv") == (
        "evaluere evaluering delemobilitet"
    )
    assert glossary.neighbour_words("Hvem skal evaluere delemobilitet?", "da") == (
        "utvärdera utvärdering delad mobilitet"
    )
    assert glossary.neighbour_words("bara svenska", "sv") == ""  # no Danish side
    assert glossary.neighbour_words("shared mobility", "en") == ""


@pytest.mark.integration
def test_a_swedish_word_finds_the_danish_word_in_bm25(demo_core):
    query = "buller från konstgräsplaner"  # Danish: støj fra kunstgræsbaner
    found = demo_core.retriever.search(query, STAFF, k=3, mode="bm25", language="sv", expand=False)
    assert found and all("Støj" in p.chunk.text for p in found)
    # near-spellings off too: "konstgräsplaner" is a near-spelling of "kunstgræsbaner"
    plain = retriever_with(demo_core, glossary=False, cognates=False)
    assert not plain.search(query, STAFF, k=3, mode="bm25", language="sv", expand=False)
