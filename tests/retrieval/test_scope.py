"""A question naming an organisation is answered from that organisation's documents only."""

from __future__ import annotations

import pytest

from assistant.contract import Message
from assistant.retrieval.scope import name_keys, named_organisations, refers_to_an_organisation
from vectorstore.filters import SearchFilter
from vectorstore.records import StoredDocument

STAFF = SearchFilter(audience="staff")
PUBLIC = SearchFilter(audience="public")


def doc(organisation: str) -> StoredDocument:
    return StoredDocument(
        doc_id=organisation.split()[0].casefold(),
        title="Plan",
        source="plan.txt",
        organisation=organisation,
        country="",
        language="da",
        kind="strategy",
        audience="public",
        version="v1",
        chunk_count=1,
        ingested_at="2026-11-29T00:00:00Z",
    )


DOCS = [doc("Lyngby-Taarbæk Kommune"), doc("Borlänge kommun"), doc("Länsstyrelserna")]


@pytest.mark.unit
def test_name_keys_drop_generic_words():
    assert name_keys("Lyngby-Taarbæk Kommune") == {"lyngby-taarbæk", "lyngby"}
    assert name_keys("Borlänge kommun") == {"borlänge"}


@pytest.mark.unit
@pytest.mark.parametrize(
    "question,named",
    [
        ("Vad säger Borlänges miljöstrategi om avfall?", ("Borlänge kommun",)),
        ("What is Lyngby-Taarbæk's goal for 2030?", ("Lyngby-Taarbæk Kommune",)),
        ("Hvornår kører letbanen i Lyngby?", ("Lyngby-Taarbæk Kommune",)),
        ("Vad innehåller länsstyrelsernas vägledning?", ("Länsstyrelserna",)),
        ("Jämför Borlänge och Lyngby", ("Borlänge kommun", "Lyngby-Taarbæk Kommune")),
        ("Hvad er en kommuneplan?", ()),  # "kommune" names no one
        ("Hvad sker der i Lyngbyvej-projektet?", ()),  # part of another word
    ],
)
def test_named_organisations(question, named):
    assert named_organisations(question, DOCS) == named


@pytest.mark.integration
@pytest.mark.parametrize("flt", [STAFF, PUBLIC], ids=["staff", "public"])
def test_an_answer_about_one_municipality_is_never_quoted_from_another(demo_core, flt):
    """Geothermal heating is a Lyngby-Taarbæk matter; asked about Haninge, the answer may come
    only from Haninge's document, or not at all."""
    question = "Hvad gør Haninge for at få fjernvarme fra et geotermisk anlæg?"
    answer = demo_core.answers.answer([Message(role="user", content=question)], flt)
    assert all(c.organisation == "Haninge kommun" for c in answer.citations), answer.answer
    assert all(p.organisation == "Haninge kommun" for p in answer.passages)


@pytest.mark.integration
def test_the_abstain_view_is_the_whole_audience_whatever_the_filter_narrows(demo_core):
    retriever = demo_core.retriever
    whole = retriever.corpus_view(STAFF)
    retriever._view = None
    narrowed_first = retriever.corpus_view(
        SearchFilter(audience="staff", organisations=("Haninge kommun",))
    )
    assert narrowed_first.periods == whole.periods
    assert retriever.corpus_view(STAFF).periods == whole.periods


@pytest.mark.unit
@pytest.mark.parametrize(
    "question,refers",
    [
        ("What will it take to succeed, according to the municipality?", True),
        ("Hvad vil kommunen opnå?", True),
        ("Vad gör kommunen för cyklisterna?", True),
        ("Hvad er en kommuneplan?", False),
        ("What is Agenda 2030?", False),
    ],
)
def test_refers_to_an_organisation(question, refers):
    assert refers_to_an_organisation(question) == refers


@pytest.mark.integration
def test_in_a_conversation_the_municipality_is_the_one_named_last(demo_core):
    history = [
        Message(role="user", content="Har Borlänge börjat genomföra sin miljöstrategi?"),
        Message(role="assistant", content="Ja, strategin beslutades 2021."),
    ]
    question = Message(role="user", content="Vad vill kommunen uppnå med energin?")
    answer = demo_core.answers.answer([*history, question], PUBLIC)
    assert answer.passages
    assert all(p.organisation == "Borlänge kommun" for p in answer.passages)
    alone = demo_core.answers.answer([question], PUBLIC)
    assert any(p.organisation != "Borlänge kommun" for p in alone.passages)
