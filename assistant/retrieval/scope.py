"""Which organisations a question names, so that an answer about one municipality is never
quoted from another's document.

"Is Lyngby-Taarbæk going to close roads near schools?" found a Haninge sentence about fossil-free
transport: topically close, and wrong, since it is about another municipality. When a question
names the organisation of some visible document ("Borlänges miljöstrategi", "Lyngby", "Haninge",
"länsstyrelsernas vägledning"), the answer is looked for in that organisation's documents only;
if they do not answer, the question goes unanswered rather than answered from elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from vectorstore.records import StoredDocument

#: Words of an organisation's name that do not tell organisations apart.
GENERIC = {
    "kommune", "kommun", "kommunen", "municipality", "region", "regionen", "county", "city",
    "council", "the", "of", "og", "och", "and", "i", "in",
}  # fmt: skip
MIN_NAME = 4


def name_keys(organisation: str) -> set[str]:
    """The distinctive names of ``organisation`` as they may appear in a question:
    "Lyngby-Taarbæk Kommune" → {"lyngby-taarbæk", "lyngby"}."""
    keys: set[str] = set()
    for word in re.findall(r"[^\W\d_][\w\-]*", organisation.casefold()):
        if word in GENERIC or len(word) < MIN_NAME:
            continue
        keys.add(word)
        first = word.split("-")[0]
        if len(first) >= MIN_NAME:
            keys.add(first)
    return keys


def named_organisations(question: str, documents: Iterable[StoredDocument]) -> tuple[str, ...]:
    """Organisations of ``documents`` that ``question`` names (genitive forms included:
    "Borlänges", "Lyngby-Taarbæk's"), in sorted order; () when it names none."""
    text = question.casefold()
    found = set()
    for doc in documents:
        if not doc.organisation:
            continue
        for key in name_keys(doc.organisation):
            if re.search(rf"(?<![\w-]){re.escape(key)}(?:s|'s|’s|ernas|erna)?(?![\w])", text):
                found.add(doc.organisation)
                break
    return tuple(sorted(found))


#: "the municipality", "kommunen", "kommunens", "kommunen's": an organisation referred to,
#: not named.
ORGANISATION_REFERENCE = re.compile(
    r"\bthe (?:municipality|council|county|region)\b|\bkommunen(?:s)?\b|\bregionen(?:s)?\b",
    re.I,
)


def refers_to_an_organisation(question: str) -> bool:
    """Whether ``question`` speaks of an organisation without naming it."""
    return bool(ORGANISATION_REFERENCE.search(question))
