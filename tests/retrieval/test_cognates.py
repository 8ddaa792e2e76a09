"""Danish-Swedish near-spellings: a Swedish question's words that the corpus lacks also search
the Danish words spelt nearly like them, so BM25 finds the Danish passage."""

from __future__ import annotations

import pytest

from tests.conftest import retriever_with
from vectorstore.analysis import NearSpellings
from vectorstore.filters import SearchFilter

STAFF = SearchFilter(audience="staff")


@pytest.mark.unit
def test_a_missing_word_finds_its_near_spelling_and_known_words_are_left_alone():
    spellings = NearSpellings(
        {"jordvarme", "tilgængelighedsstrategien", "årsværk", "ligger", "praksis", "handler"}
    )
    found = spellings.in_text("Hur går det med tillgänglighetsstrategin och jordvärme?")
    assert found == {
        "tillgänglighetsstrategin": ["tilgængelighedsstrategien"],
        "jordvärme": ["jordvarme"],
    }
    assert spellings.in_text("Hur många årsverk?") == {"årsverk": ["årsværk"]}
    # in the corpus already: matches as it is, no near-spellings added
    assert spellings.in_text("jordvarme praksis") == {}
    # short words and spellings too far apart stay out ("lägger" is not "ligger")
    assert spellings.in_text("Vem lägger fram det?") == {}


@pytest.mark.unit
def test_long_words_may_differ_in_more_letters():
    spellings = NearSpellings({"affaldstilsyn", "grundvandsstand", "ligger"})
    assert spellings.of("avfallstillsynen") == ["affaldstilsyn"]  # ratio 76, 16 letters
    assert spellings.of("grundvattenstånd") == ["grundvandsstand"]  # 84
    assert spellings.of("lägger") == []  # 83 for a 6-letter word: another word


@pytest.mark.integration
def test_a_swedish_word_finds_the_danish_passage_in_bm25(demo_core):
    query = "översyn av praxis för jordvärme"

    def search(**settings) -> list:
        # the glossary off in both: it knows "jordvärme" too, as a Swedish word of an entry
        retriever = retriever_with(demo_core, **{"glossary": False, **settings})
        return retriever.search(query, STAFF, k=3, mode="bm25", language="sv", expand=False)

    with_cognates = search()
    assert with_cognates and "jordvarme" in with_cognates[0].chunk.text
    assert not any("jordvarme" in p.chunk.text for p in search(cognates=False))


@pytest.mark.integration
def test_only_danish_and_swedish_questions_get_near_spellings(demo_core):
    retriever = demo_core.retriever
    assert "jordvarme" in retriever._lexical_query("Vad händer med jordvärme?", "sv", "staff")
    # glossary off, so that only near-spellings could add words to the English question
    no_glossary = retriever_with(demo_core, glossary=False)
    english = "What happens with jordvärme?"
    assert no_glossary._lexical_query(english, "en", "staff") == english
    swedish = "Vad händer med jordvärme?"
    assert "jordvarme" in no_glossary._lexical_query(swedish, "sv", "staff")


@pytest.mark.integration
def test_a_public_question_gets_no_near_spelling_from_a_staff_only_document(demo_core):
    """ "jordvarme" is only in the staff-only action plan: what a citizen's question is matched
    with must not depend on what staff documents contain."""
    retriever = retriever_with(demo_core, glossary=False)
    assert "jordvarme" in retriever.cognates("praxis för jordvärme", "staff")["jordvärme"]
    public = retriever.cognates("praxis för jordvärme", "public")
    assert "jordvarme" not in public.get("jordvärme", [])
    staff_words = demo_core.retriever.lexical.vocabulary["staff"]
    public_words = demo_core.retriever.lexical.vocabulary["public"]
    for question in ("Hur går det med avfallstillsynen?", "Vad händer med jordvärme?"):
        for near in retriever.cognates(question, "public").values():
            assert set(near) <= public_words, set(near) & (staff_words - public_words)


@pytest.mark.integration
def test_a_counted_thing_may_be_a_near_spelling_but_a_name_may_not(demo_core):
    """ "årsverk" is the Danish documents' "årsværk"; "Västerås" is not "västra"."""
    from assistant.answering.evidence import measure

    retriever = demo_core.retriever
    languages = demo_core.settings.languages
    view = retriever.corpus_view(STAFF)
    assert view.spelt_nearly("västerås")  # the near-spelling exists ...

    def unknown(question: str) -> tuple[str, ...]:
        passages = retriever.search(question, STAFF, language="sv")
        return measure(question, "sv", passages, languages, view).unknown_names

    assert unknown("Hur många årsverk används i CTMB?") == ()
    assert unknown("Vilka klimatmål har Västerås stad?") == ("västerås",)  # ... and is not used
