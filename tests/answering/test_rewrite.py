"""Rule-based follow-up detection and rewriting (no model)."""

from __future__ import annotations

import pytest

from assistant.answering.rewrite import is_follow_up, rewrite
from assistant.contract import Message

pytestmark = pytest.mark.unit

HISTORY = [
    Message(
        role="user", content="What are the three priorities of Borlänge's environmental strategy?"
    ),
    Message(role="assistant", content="Halting climate change and a circular economy."),
]


@pytest.mark.parametrize(
    "question,follow_up",
    [
        ("Can the municipality achieve this on its own?", True),  # "the municipality" names nothing
        ("Kan kommunen klara det själv?", True),
        ("Og i tredje kvartal?", True),
        ("Hvad gør kommunen for at nå målet om klimaneutralitet?", False),
        ("Which committee approved the cycling action plan in Lyngby?", False),
    ],
)
def test_which_questions_lean_on_the_history(question, follow_up):
    assert is_follow_up(question) is follow_up


def test_a_follow_up_naming_only_the_municipality_gets_the_previous_subject():
    standalone = rewrite("Can the municipality achieve this on its own?", HISTORY)
    assert "borlänge" in standalone.casefold()
    assert "environmental strategy" in standalone
