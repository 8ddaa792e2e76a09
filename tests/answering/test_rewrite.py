"""Follow-up detection and rewriting by rules (no model), and a follow-up answered end to end."""

from __future__ import annotations

import pytest

from assistant.answering.rewrite import is_follow_up, rewrite
from assistant.contract import Message

HISTORY = [
    Message(
        role="user", content="What are the three priorities of Borlänge's environmental strategy?"
    ),
    Message(role="assistant", content="Halting climate change and a circular economy."),
]


@pytest.mark.unit
@pytest.mark.parametrize(
    "question,follow_up",
    [
        ("Can the municipality achieve this on its own?", True),  # "the municipality" names nothing
        ("Kan kommunen klara det själv?", True),
        ("Og i tredje kvartal?", True),
        ("Hvad gør kommunen for at nå målet om klimaneutralitet?", False),
        ("Which committee approved the cycling action plan in Lyngby?", False),
        # words that continue a conversation, however many words of its own the question has
        ("Hvornår skal cykelstien så anlægges langs åen?", True),
        ("Har det där programmet också en budget för cykelvägar?", True),
        ("Is there any deadline attached to that new climate target?", True),
        ("Hvor mange af dem bliver færdige i de nordlige bydele?", True),
        ("Which centre carries out the road projects that CTMB hands over?", False),
        ("Hvorfor er der så mange elbiler i kommunens bilpark i 2025?", False),
    ],
)
def test_which_questions_lean_on_the_history(question, follow_up):
    assert is_follow_up(question) is follow_up


@pytest.mark.unit
def test_a_follow_up_naming_only_the_municipality_gets_the_previous_subject():
    standalone = rewrite("Can the municipality achieve this on its own?", HISTORY)
    assert "borlänge" in standalone.casefold()
    assert "environmental strategy" in standalone


@pytest.mark.unit
@pytest.mark.parametrize(
    "question",
    [
        "Hur når jag henne?",
        "Who is he?",
        "And which of the earlier initiatives are still being carried out?",
        "Og hvad med de tidligere indsatser for cyklister i kommunen?",
    ],
)
def test_a_person_or_an_earlier_thing_points_back(question):
    assert is_follow_up(question)


@pytest.mark.integration
def test_a_contact_follow_up_gets_the_contact_line(demo_core):
    from vectorstore.filters import SearchFilter

    history = [
        Message(role="user", content="Vem är kontaktperson för uppföljningen av KMPP i Haninge?"),
        Message(role="assistant", content="Petronella Troselius, klimat- och miljöstrateg."),
    ]
    answer = demo_core.answers.answer(
        [*history, Message(role="user", content="Hur når jag henne?")],
        SearchFilter(audience="public"),
    )
    assert answer.found, answer.answer
    assert "haninge.se" in answer.answer
