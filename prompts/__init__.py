"""Prompt files of the LLM backend, one folder per language (``da``, ``sv``, ``en``).

Each folder holds ``system.txt`` (the rules), ``answer.txt`` (numbered passages and the question)
and ``rewrite.txt`` (conversation and follow-up → standalone question). Placeholders are
``{name}`` fields filled by LangChain; literal braces must be doubled. Keeping the text in files
lets people who write Danish or Swedish better than Python improve the wording without touching
code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from langchain_core.prompts import ChatPromptTemplate

NOT_FOUND = "NOT_FOUND"
"""The exact reply the model gives when the passages do not answer the question."""

PROMPT_NAMES = ("system", "answer", "rewrite")
LANGUAGES = ("da", "sv", "en")
DEFAULT_LANGUAGE = "en"
TASKS = ("answer", "rewrite")

# A passage could contain text that looks like our own delimiters and "close" its passage early;
# such look-alikes are defused so that everything inside a passage stays data.
_DELIMITER = re.compile(r"<(/?)(passage)", re.I)


@lru_cache(maxsize=32)
def load_prompt(name: str, language: str) -> str:
    """The text of prompt ``name`` in ``language`` (English when the language has no prompts).

    :raises ValueError: ``name`` is not one of :data:`PROMPT_NAMES`.
    """
    if name not in PROMPT_NAMES:
        raise ValueError(f"unknown prompt {name!r}; expected one of {', '.join(PROMPT_NAMES)}")
    folder = language if language in LANGUAGES else DEFAULT_LANGUAGE
    return (
        resources.files(__name__)
        .joinpath(folder, f"{name}.txt")
        .read_text(encoding="utf-8")
        .strip()
    )


def chat_prompt(task: str, language: str) -> ChatPromptTemplate:
    """The chat prompt for ``task`` in ``language``.

    ``answer`` is the system rules plus the answer message and expects ``passages`` (see
    :func:`format_passages`) and ``question``; ``rewrite`` is a single user message expecting
    ``conversation`` and ``question``. :data:`NOT_FOUND` is filled in already.

    :raises ValueError: unknown task.
    """
    if task == "answer":
        messages = [
            ("system", load_prompt("system", language)),
            ("human", load_prompt("answer", language)),
        ]
    elif task == "rewrite":
        messages = [("human", load_prompt("rewrite", language))]
    else:
        raise ValueError(f"unknown prompt task {task!r}; expected one of {', '.join(TASKS)}")
    prompt = ChatPromptTemplate.from_messages(messages)
    if "not_found" in prompt.input_variables:
        prompt = prompt.partial(not_found=NOT_FOUND)
    return prompt


def format_passage(number: int, title: str, section_path: Sequence[str], text: str) -> str:
    """One passage as the model sees it: number, title, section path and text, delimited."""
    section = " > ".join(section_path) or "-"
    body = _DELIMITER.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text.strip())
    return f'<passage number="{number}">\nTitle: {title}\nSection: {section}\n\n{body}\n</passage>'


def format_passages(passages: Sequence[tuple[str, Sequence[str], str]]) -> str:
    """``(title, section_path, text)`` triples numbered from 1, separated by blank lines."""
    return "\n\n".join(
        format_passage(n, title, section, text)
        for n, (title, section, text) in enumerate(passages, start=1)
    )
