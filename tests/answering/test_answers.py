"""Answers from the extractive backend over the demo index: exact citations, consistent markers,
abstaining, follow-ups, the asker's language, streaming, the audience rule and bad input.

Everything goes through ``demo_core.answers`` (the ``AnswerService`` the CLI and the API use).
"""

from __future__ import annotations

import re

import pytest

from assistant.answering.phrases import language_name, phrase
from assistant.contract import AnswerOut, Message
from assistant.errors import BadRequest
from tests.conftest import STAFF_DOC
from vectorstore.filters import SearchFilter

pytestmark = pytest.mark.integration

STAFF = SearchFilter(audience="staff")
PUBLIC = SearchFilter(audience="public")
MARKER = re.compile(r"\[(\d+)\]")
LEAD_IN = {"da": "Ifølge ", "sv": "Enligt ", "en": "According to "}

#: (question, expected doc id of the first citation, language)
ANSWERABLE = [
    ("Hvad sker der i 3. kvartal under grøn mobilitet?", STAFF_DOC, "da"),
    ("Hvad sker der med fjernvarmeudrulning Etape 2?", STAFF_DOC, "da"),
    ("Hvor mange årsværk bruger CTMB på trafik og mobilitet?", STAFF_DOC, "da"),
    ("projekt 308 Vintappervej", STAFF_DOC, "da"),
    ("Hvad er Lyngby-Taarbæks bæredygtighedsstrategi?", "lyngby-taarbaek-baeredygtighedsstrategi", "da"),
    ("Hvad sker der i 4. kvartal under Varme og Energi?", STAFF_DOC, "da"),
    ("När ska Borlänge vara klimatneutralt?", "borlange-miljostrategi", "sv"),
    ("Vilka fokusområden har Borlänges miljöstrategi?", "borlange-miljostrategi", "sv"),
    ("Vad är Agenda 2030?", "lansstyrelserna-vagledning-miljomal-agenda2030", "sv"),
    ("Vem ansvarar för KMPP?", "haninge-uppfoljning-klimat-miljopolitiska-programmet", "sv"),
    ("Vad händer under tredje kvartalet med grön mobilitet?", STAFF_DOC, "sv"),
    ("When must Borlänge be climate neutral?", "borlange-miljostrategi", "en"),
    ("What happens in the third quarter under green mobility?", STAFF_DOC, "en"),
    ("Who is responsible for KMPP?", "haninge-uppfoljning-klimat-miljopolitiska-programmet", "en"),
    ("Who is responsible for KMPP in Haninge Municipality?", "haninge-uppfoljning-klimat-miljopolitiska-programmet", "en"),
    ("How many full-time equivalents does CTMB use for traffic and mobility?", STAFF_DOC, "en"),
]  # fmt: skip
UNANSWERABLE = [
    ("Hvad koster en busbillet i Aarhus?", "da"),
    ("What is Malmö's target year for climate neutrality?", "en"),
    # an English organisation name without non-English letters: a name before "Municipality"
    ("What does Odense Municipality's climate plan say about district heating?", "en"),
    ("Hur mycket kostar ett busskort i Uppsala?", "sv"),
    # The topic is in the documents, the time or number asked for is not.
    ("How many tonnes of CO2 did Borlänge emit last year?", "en"),
    ("Hvornår blev bæredygtighedsstrategien vedtaget af kommunalbestyrelsen?", "da"),
]
STAFF_QUESTIONS = [
    "Hvad sker der med fjernvarmeudrulning Etape 2?",
    "projekt 308 Vintappervej",
    "Hvor mange årsværk bruger CTMB?",
    "Hvad sker der i 3. kvartal under grøn mobilitet?",
    "What happens in Q3 under green mobility?",
    "Hvad er programmet for flådestyring?",
]
STAFF_ONLY = [
    STAFF_DOC,
    "Center for Trafik, Miljø og Bæredygtighed",
    "Vintappervej",
    "Etape 2",
    "årsværk i CTMB",
    "flådestyring",
    "ladeinfrastruktur",
]


def conversation(*turns: str) -> list[Message]:
    """Alternating user/assistant turns, starting and ending with the user."""
    return [
        Message(role="user" if i % 2 == 0 else "assistant", content=t) for i, t in enumerate(turns)
    ]


def ask(core, *turns: str, flt: SearchFilter = STAFF) -> AnswerOut:
    return core.answers.answer(conversation(*turns), flt)


@pytest.fixture(scope="module")
def texts(demo_core) -> dict[str, str]:
    """Every stored document's text, by id."""
    return {
        d.doc_id: demo_core.store.get_document(d.doc_id).text for d in demo_core.store.documents()
    }


def assert_exact(answer: AnswerOut, texts: dict[str, str]) -> None:
    for c in answer.citations:
        assert texts[c.doc_id][c.start : c.end] == c.quote, c
        assert c.quote.strip() and c.link.endswith(f"start={c.start}&end={c.end}")
    for p in answer.passages:
        assert texts[p.doc_id][p.start : p.end] == p.quote == p.text, p.chunk_id


# --- citations ---------------------------------------------------------------------------------
@pytest.mark.parametrize("question,doc_id,language", ANSWERABLE, ids=[q for q, _, _ in ANSWERABLE])
def test_answers_cite_exact_passages_with_consistent_markers(
    demo_core, texts, question, doc_id, language
):
    answer = ask(demo_core, question)
    assert answer.found is True and answer.generator == "extractive"
    assert answer.language == language
    assert answer.citations and answer.citations[0].doc_id == doc_id
    assert_exact(answer, texts)
    markers = {int(n) for n in MARKER.findall(answer.answer)}
    ids = [c.id for c in answer.citations]
    assert ids == list(range(1, len(ids) + 1))
    assert markers == set(ids)
    assert [p.rank for p in answer.passages] == list(range(1, len(answer.passages) + 1))
    # every cited quote lies inside one of the retrieved passages
    for c in answer.citations:
        assert any(
            p.doc_id == c.doc_id and p.start <= c.start and c.end <= p.end for p in answer.passages
        )
    # the answer quotes its sources verbatim: every cited line is in a cited quote
    quotes = " ".join(c.quote for c in answer.citations)
    for line in answer.answer.splitlines():
        if MARKER.search(line):
            body = MARKER.sub("", line).strip().removeprefix("• ").strip()
            assert body in quotes, line


def test_a_milestone_question_gets_the_whole_quarter_list(demo_core, texts):
    answer = ask(demo_core, "Hvad sker der i 3. kvartal under grøn mobilitet?")
    cited = answer.citations[0]
    assert cited.section_path[-2:] == ["3.1.2 Grøn Mobilitet", "3. Kvartal 2025"]
    for item in ("ladeinfrastrukturen", "Chr. X Allé", "grønne transportvaner"):
        assert item in answer.answer and item in cited.quote


@pytest.mark.parametrize(
    "question,items",
    [
        (
            "Vilka prioriteringar utgår Borlänges miljöstrategi från?",
            ("Hejda klimatförändringarna", "Stärk den biologiska mångfalden", "cirkulär ekonomi"),
        ),
        ("Hvilke områder har CTMB ansvaret for?", ("Støjhandleplaner", "Selskabsbetjening")),
    ],
)
def test_a_sentence_announcing_a_list_is_answered_with_the_list(demo_core, question, items):
    answer = ask(demo_core, question)
    assert answer.found, answer.answer
    for item in items:
        assert item in answer.answer
        assert any(item in c.quote for c in answer.citations), item


@pytest.mark.parametrize(
    "question",
    [
        "Hvad sker der med revisionen af praksis for jordvarme i løbet af året?",
        # Swedish spelling: found through the Danish near-spelling
        "Vad händer med revisionen av praxis för jordvärme under året?",
    ],
)
def test_a_project_through_the_year_gets_its_step_in_each_quarter(demo_core, question):
    answer = ask(demo_core, question)
    quarters = [c.section_path[-1] for c in answer.citations]
    assert len(quarters) >= 3 and quarters == sorted(quarters), quarters
    assert all("praksis for jordvarme" in c.quote for c in answer.citations)


# --- abstaining --------------------------------------------------------------------------------
@pytest.mark.parametrize("flt", [STAFF, PUBLIC], ids=["staff", "public"])
@pytest.mark.parametrize("question,language", UNANSWERABLE)
def test_unanswerable_questions_abstain(demo_core, question, language, flt):
    answer = ask(demo_core, question, flt=flt)
    assert answer.found is False
    assert answer.language == language
    assert answer.citations == []
    assert answer.answer.startswith(phrase("not_found", language))
    assert not MARKER.search(answer.answer)
    assert answer.suggestions
    for s in answer.suggestions:
        assert s.title in answer.answer
        if flt is PUBLIC:
            assert s.doc_id != STAFF_DOC


@pytest.mark.parametrize(
    "question,flt,needle",
    [
        ("Hvor mange årsværk bruger CTMB på trafik og mobilitet?", STAFF, "årsværk"),
        # Swedish spelling of the Danish word: a near-spelling, so the thing is in the documents
        ("Hur många årsverk används i CTMB för trafik och mobilitet?", STAFF, "årsværk"),
        ("När ska Borlänge vara klimatneutralt?", PUBLIC, "2030"),
        ("When was Haninge's climate and environment programme adopted?", PUBLIC, "2017"),
    ],
)
def test_time_and_quantity_questions_get_a_sentence_stating_one(demo_core, question, flt, needle):
    from assistant.answering.answer_types import satisfies, wanted_type

    answer = ask(demo_core, question, flt=flt)
    assert answer.found, answer.answer
    kind = wanted_type(question)
    assert kind is not None
    assert any(satisfies(kind, c.quote, " ".join(c.section_path)) for c in answer.citations), (
        answer.answer
    )
    assert needle in answer.answer


# --- follow-ups and language ---------------------------------------------------------------------
def test_follow_up_about_another_quarter_keeps_the_subject(demo_core):
    answer = ask(
        demo_core, "Hvad sker der i 2. kvartal under grøn mobilitet?", "…", "Og i tredje kvartal?"
    )
    standalone = answer.standalone_question.casefold()
    assert "grøn mobilitet" in standalone and "tredje kvartal" in standalone
    assert "2. kvartal" not in standalone
    assert answer.found and answer.citations[0].section_path[-1] == "3. Kvartal 2025"
    assert "3.1.2 Grøn Mobilitet" in answer.citations[0].section_path


def test_follow_up_with_a_pronoun_gets_the_previous_subject(demo_core):
    answer = ask(demo_core, "Vad är KMPP?", "KMPP är Haninges program …", "Vem ansvarar för det?")
    assert "kmpp" in answer.standalone_question.casefold()
    assert answer.found and answer.language == "sv"
    assert answer.citations[0].doc_id == "haninge-uppfoljning-klimat-miljopolitiska-programmet"
    assert "ansvar" in answer.answer


def test_a_question_that_stands_alone_is_not_rewritten(demo_core):
    question = "När ska Borlänge vara klimatneutralt?"
    answer = ask(demo_core, "Hvad sker der i 2. kvartal under grøn mobilitet?", "…", question)
    assert answer.standalone_question == question


@pytest.mark.parametrize(
    "turns,language,section",
    [
        (("Hvad sker der i 3. kvartal under grøn mobilitet?",), "da", "3. Kvartal 2025"),
        (("Hvad sker der i 2. kvartal under grøn mobilitet?", "…", "Og i Q3?"), "da", "3. Kvartal 2025"),
        (("Hvad sker der i 2. kvartal under grøn mobilitet?", "…", "Og i 4. kvartal?"), "da", "4. kvartal 2025"),
        (("När ska Borlänge vara klimatneutralt?",), "sv", None),
        (("Vad är KMPP?", "…", "Vem ansvarar för det?"), "sv", None),
        (("What happens in Q3 under green mobility?",), "en", "3. Kvartal 2025"),
        (("What happens in Q3 under green mobility?", "…", "What about Q4?"), "en", "4. kvartal 2025"),
    ],
    ids=["da", "da-short-q3", "da-short-4", "sv", "sv-pronoun", "en", "en-short-q4"],
)  # fmt: skip
def test_answers_come_in_the_askers_language(demo_core, turns, language, section):
    answer = ask(demo_core, *turns)
    assert answer.found and answer.language == language
    assert answer.answer.startswith(LEAD_IN[language])
    for other, lead_in in LEAD_IN.items():
        if other != language:
            assert lead_in not in answer.answer
    if section:
        assert answer.citations[0].section_path[-1] == section


@pytest.mark.parametrize(
    "question,language,source",
    [
        ("What happens in the third quarter under green mobility?", "en", "da"),
        ("When must Borlänge be climate neutral?", "en", "sv"),
        ("Vad händer under tredje kvartalet med grön mobilitet?", "sv", "da"),
    ],
)
def test_a_source_in_another_language_is_noted(demo_core, question, language, source):
    answer = ask(demo_core, question)
    assert answer.found and answer.language == language
    note = phrase("source_language", language, language=language_name(source, language))
    assert note in answer.answer
    if (language, source) == ("en", "da"):
        assert "(The source is in Danish and is quoted verbatim.)" in answer.answer


def test_no_language_note_when_the_source_is_in_the_askers_language(demo_core):
    answer = ask(demo_core, "Hvad sker der i 3. kvartal under grøn mobilitet?")
    assert answer.found and "(Kilden er på" not in answer.answer


# --- streaming ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "turns",
    [
        ("Hvad sker der i 3. kvartal under grøn mobilitet?",),
        ("Vad är Agenda 2030?",),
        ("What happens in Q3 under green mobility?", "…", "What about Q4?"),
        ("Hvad koster en busbillet i Aarhus?",),
    ],
    ids=["da", "sv-two-sources", "en-follow-up", "abstain"],
)
def test_stream_yields_meta_deltas_and_the_same_final_answer(demo_core, turns):
    messages = conversation(*turns)
    events = list(demo_core.answers.stream(messages, STAFF))
    names = [name for name, _ in events]
    assert names[0] == "meta" and names[-1] == "answer"
    assert set(names[1:-1]) == {"delta"}
    final = events[-1][1]
    assert isinstance(final, AnswerOut)
    assert final.model_dump() == demo_core.answers.answer(messages, STAFF).model_dump()
    assert events[0][1] == {
        "language": final.language,
        "standalone_question": final.standalone_question,
    }
    deltas = [data for name, data in events if name == "delta"]
    assert deltas and all(isinstance(d, str) and d for d in deltas)

    def plain(text: str) -> str:
        return " ".join(MARKER.sub("", text).split())

    assert plain("".join(deltas)) == plain(final.answer)  # markers may be renumbered


# --- the audience rule ----------------------------------------------------------------------------
def assert_nothing_from_the_staff_document(answer: AnswerOut, asked: str) -> None:
    assert STAFF_DOC not in {c.doc_id for c in answer.citations}
    assert STAFF_DOC not in {p.doc_id for p in answer.passages}
    assert STAFF_DOC not in {s.doc_id for s in answer.suggestions}
    dumped = answer.model_dump_json()
    for secret in STAFF_ONLY:
        if secret.casefold() not in asked.casefold():
            assert secret not in answer.answer and secret not in dumped, secret


@pytest.mark.parametrize("question", STAFF_QUESTIONS)
def test_public_question_aimed_at_the_staff_document_gets_nothing_from_it(demo_core, question):
    for flt in (PUBLIC, SearchFilter(audience="public", doc_ids=(STAFF_DOC,))):
        answer = ask(demo_core, question, flt=flt)
        assert_nothing_from_the_staff_document(answer, question)
        for name, data in demo_core.answers.stream(conversation(question), flt):
            if name == "answer":
                assert_nothing_from_the_staff_document(data, question)
            elif name == "delta":
                assert not any(s in data for s in STAFF_ONLY if s not in question)
    only_staff_doc = ask(demo_core, question, flt=SearchFilter("public", (STAFF_DOC,)))
    assert only_staff_doc.found is False and not only_staff_doc.passages
    assert not only_staff_doc.suggestions
    assert STAFF_DOC in {c.doc_id for c in ask(demo_core, question).citations}


def test_public_follow_up_after_staff_history_gets_nothing(demo_core):
    staff_reply = ask(demo_core, "Hvad sker der med fjernvarmeudrulning Etape 2?").answer
    assert "Etape 2" in staff_reply
    answer = ask(
        demo_core,
        "Hvad sker der med fjernvarmeudrulning Etape 2?",
        staff_reply,
        "Og i 3. kvartal?",
        flt=PUBLIC,
    )
    assert_nothing_from_the_staff_document(answer, "Hvad sker der med fjernvarmeudrulning Etape 2?")


# --- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "messages,problem",
    [
        ([], "empty"),
        ([Message(role="assistant", content="Hej")], "user"),
        (conversation("Hvad er KMPP?", "KMPP er …"), "user"),
        ([Message(role="user", content="Hej"), Message(role="system", content="x")], "user"),
        ([Message(role="user", content="")], "empty"),
        ([Message(role="user", content="   \n\t ")], "empty"),
        ([Message(role="user", content="x" * 2001)], "too long"),
    ],
    ids=[
        "no-messages",
        "assistant-only",
        "assistant-last",
        "system-last",
        "empty",
        "blank",
        "long",
    ],
)
def test_bad_input_is_a_bad_request(demo_core, messages, problem):
    with pytest.raises(BadRequest, match=problem) as raised:
        demo_core.answers.answer(messages, STAFF)
    assert raised.value.status == 400
    with pytest.raises(BadRequest, match=problem):
        next(iter(demo_core.answers.stream(messages, STAFF)))


def test_the_longest_allowed_question_is_accepted(demo_core):
    limit = demo_core.settings.max_question_chars
    question = ("Hvad sker der i 3. kvartal under grøn mobilitet? " * 60)[:limit]
    assert len(question) == limit
    answer = ask(demo_core, question)
    assert answer.language == "da"
