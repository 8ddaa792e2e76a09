"""The abstain check's reading of a question: which of its words are names."""

from __future__ import annotations

import pytest

from assistant.answering.evidence import name_like


@pytest.mark.unit
@pytest.mark.parametrize(
    "question,language,names",
    [
        ("What does Odense Municipality's plan say?", "en", ["odense"]),
        ("Is Gentofte County working on it?", "en", ["gentofte"]),
        ("What does the Sustainability Strategy say?", "en", []),
        ("Vad säger Uppsala kommuns program?", "sv", ["uppsala"]),
        ("What is Malmö's target year?", "en", ["malmö"]),
    ],
)
def test_names_an_english_question_gives(question, language, names):
    assert name_like(question, language) == names


def quarter_passage(text: str, quarter: int, index: int):
    from dataclasses import replace

    from assistant.retrieval.passage import Passage
    from tests.reliability.test_citation_properties import make_chunk

    chunk = replace(make_chunk(text, index, 0, len(text)), quarters=(quarter,))
    return Passage(chunk, 1.0, 0.9)


@pytest.mark.unit
def test_a_topic_found_only_in_another_quarter_is_a_wrong_period():
    """Two of the topic's three words in another quarter's list is two thirds (0.666…), and
    that is enough: the topic is there, the quarter asked about is not."""
    from assistant.answering.evidence import measure

    passages = [
        quarter_passage("Dataejerskabsprojekt – evaluering og evt. justering", 4, 0),
        quarter_passage("Justering af busnettet – forslag sendt i høring", 2, 1),
    ]
    question = "Hvilke milepæle er der for justeringen af busnettet i fjerde kvartal?"
    evidence = measure(question, "da", passages, ("da", "sv", "en"))
    assert evidence.wrong_period
    asked_right = measure(question.replace("fjerde", "andet"), "da", passages, ("da", "sv", "en"))
    assert not asked_right.wrong_period
