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
