"""How the extractive answerer chooses sentences, on a hand-made passage (no model)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.answering.base import GenerationRequest
from assistant.answering.extractive import ExtractiveGenerator, label_key
from assistant.contract import Message
from assistant.retrieval.passage import Passage
from tests.reliability.test_citation_properties import make_chunk

pytestmark = pytest.mark.unit

TEXT = (
    "KONTAKT\n"
    "Haninges klimatprogram\n"
    "Haninges klimatprogram ger en samlad bild av kommunens ambitioner.\n"
    "Sedan hösten 2019 finns en förvaltningsövergripande miljögrupp i Haninge."
)


def made_passage(
    text: str,
    section_path: tuple[str, ...],
    *,
    language: str = "da",
    title: str = "Indsatser 2025",
    number: int = 0,
    **fields,
) -> Passage:
    """A retrieved passage made by hand (no index): one chunk holding ``text``."""
    chunk = replace(
        make_chunk(text, number, 0, len(text), doc_id=fields.pop("doc_id", "plan")),
        section_path=section_path,
        title=title,
        language=language,
        header=section_path[-1],
        **fields,
    )
    return Passage(chunk, 1.0, 0.9)


def passage(text: str = TEXT) -> Passage:
    return made_passage(
        text,
        ("Haninges klimatprogram",),
        language="sv",
        title="Haninges klimatprogram",
        doc_id="haninge",
    )


def test_title_and_label_lines_are_never_the_answer():
    generator = ExtractiveGenerator()
    request = GenerationRequest("Vem är kontakt för Haninges klimatprogram?", "", "sv", [passage()])
    scored, _, _ = generator.scored_units(request)
    texts = [s.unit.text for s in scored]
    assert "KONTAKT" not in texts and "Haninges klimatprogram" not in texts
    assert len(texts) == 2


def test_rare_question_words_decide_between_sentences_on_the_same_topic():
    """Both sentences share "Haninge" and the programme with the question; only one has the
    rare word that the question is about."""
    generator = ExtractiveGenerator()
    request = GenerationRequest(
        "Finns det en förvaltningsövergripande miljögrupp i Haninges klimatprogram?",
        "",
        "sv",
        [passage()],
    )
    scored, _, _ = generator.scored_units(request)
    assert scored[0].unit.text.startswith("Sedan hösten 2019")


@pytest.mark.parametrize(
    "line,key",
    [
        ("• Bæredygtighedsstrategi", "bæredygtighedsstrategi"),
        ("3.1.2 Grøn Mobilitet:", "grøn mobilitet"),
    ],
)
def test_label_key(line, key):
    assert label_key(line) == key


LIST_TEXT = (
    "Miljöstrategin har tre prioriteringar som allt utgår från:\n"
    " • Hejda klimatförändringarna.\n"
    " • Stärk den biologiska mångfalden.\n"
    " • Skapa en cirkulär ekonomi.\n"
    "Strategin beslutades av kommunfullmäktige."
)


def test_a_sentence_announcing_a_list_brings_the_list():
    """A lead-in ending in a colon says nothing by itself: the items after it are the answer."""
    generator = ExtractiveGenerator()
    request = GenerationRequest(
        "Vilka prioriteringar har miljöstrategin?", "", "sv", [passage(LIST_TEXT)]
    )
    texts = [u.text for p in generator.pick(request) for u in p.units]
    assert texts[0].startswith("Miljöstrategin har tre prioriteringar")
    assert [t.strip("• ") for t in texts[1:4]] == [
        "Hejda klimatförändringarna.",
        "Stärk den biologiska mångfalden.",
        "Skapa en cirkulär ekonomi.",
    ]


@pytest.mark.parametrize(
    "lead,announces",
    [
        ("Primære eksterne parter:", True),
        ("Vägledning är indelad i tre olika delar enligt nedan, och innehåller exempel.", True),
        ("CTMB har ansvaret for følgende områder", True),
        ("The plan has the following parts", True),
        ("Strategin beslutades av kommunfullmäktige.", False),
    ],
)
def test_which_sentences_announce_a_list(lead, announces):
    from assistant.answering.extractive import ANNOUNCES_LIST

    assert bool(ANNOUNCES_LIST.search(lead)) is announces


FOLLOW_TEXT = (
    "Udkast til miljøkonsekvensrapport for geotermianlæg forelægges politisk med henblik på "
    "offentlig høring.\n"
    "Miljøkonsekvensrapport for geotermisk anlæg sendes i høring i 3. kvartal."
)


def _follow_up(history: list[Message]) -> GenerationRequest:
    chunk_passage = passage(FOLLOW_TEXT)
    return GenerationRequest(
        "Hvornår kommer den i høring – miljøkonsekvensrapport geotermianlæg forelægges politisk?",
        "Hvornår kommer den i høring?",
        "da",
        [chunk_passage],
        history,
    )


def test_a_follow_up_is_not_answered_with_what_the_last_answer_said():
    generator = ExtractiveGenerator()
    history = [
        Message(role="user", content="Hvornår forelægges miljøkonsekvensrapporten politisk?"),
        Message(
            role="assistant",
            content="Udkast til miljøkonsekvensrapport for geotermianlægget forelægges politisk "
            "med henblik på offentlig høring.",
        ),
    ]
    scored, _, _ = generator.scored_units(_follow_up(history))
    assert scored[0].unit.text.startswith("Miljøkonsekvensrapport for geotermisk anlæg sendes")
    # Without that history the carried-over words make the first sentence the better match.
    scored, _, _ = generator.scored_units(_follow_up([]))
    assert scored[0].unit.text.startswith("Udkast til")


def _in_section(text: str, section: str, number: int) -> Passage:
    return made_passage(
        text, ("3.1 Program for bæredygtighed", section, "4. Kvartal 2025"), number=number
    )


def test_the_section_that_names_the_theme_beats_a_rare_word_elsewhere(monkeypatch):
    """Every unit of a section shares its path's words, so per unit they weigh little; a
    passage whose path names the question's theme still wins over one sentence elsewhere that
    shares a rarer word (here the municipality's name)."""
    import assistant.answering.extractive as extractive

    request = GenerationRequest(
        "Hvad sker der under Natur og biodiversitet i Lyngby i 4. kvartal?",
        "",
        "da",
        [
            _in_section(
                "Indkøbspolitikken for Lyngby Kommune implementeres.", "3.1.5 Ansvarligt Forbrug", 0
            ),
            _in_section(
                "Plejeplanen færdiggøres.\nNetværket udvides med to organisationer.",
                "3.1.3 Natur og biodiversitet",
                1,
            ),
        ],
    )
    scored, _, _ = ExtractiveGenerator().scored_units(request)
    assert scored[0].number == 2
    monkeypatch.setattr(extractive, "SECTION_WEIGHT", 0.0)
    scored, _, _ = ExtractiveGenerator().scored_units(request)
    assert scored[0].number == 1


CONTACT_TEXT = (
    "Årets uppföljning visar att arbetet med att nå målen pågår brett i kommunen.\n"
    "KONTAKT\n"
    "Petronella Troselius\n"
    "Klimat- och miljöstrateg\n"
    "08-606 81 02\n"
    "petronella.troselius@haninge.se"
)


def test_a_contact_question_gets_the_whole_contact_block():
    request = GenerationRequest(
        "Vem kan jag kontakta om uppföljningen?", "", "sv", [passage(CONTACT_TEXT)]
    )
    texts = [u.text.strip() for p in ExtractiveGenerator().pick(request) for u in p.units]
    for line in ("Petronella Troselius", "Klimat- och miljöstrateg", "haninge.se"):
        assert any(line in t for t in texts), texts
    assert "KONTAKT" not in texts


def test_the_contact_block_stops_at_a_sentence():
    from assistant.answering.extractive import ExtractiveGenerator as G
    from ingestion.units import split_units

    units = split_units(CONTACT_TEXT, 0)
    email = [u for u in units if "@" in u.text]
    block = [u.text for u in G._contact_block(email, units)]
    assert not any("uppföljning" in t for t in block)


def test_an_english_question_matches_swedish_sentences_through_the_glossary(monkeypatch):
    import assistant.answering.concepts as concepts
    from vectorstore.glossary import Glossary

    text = (
        "Strategin ska bidra till en hållbar stad.\n"
        "Strategin beslutades av kommunfullmäktige i september 2021."
    )
    request = GenerationRequest("Which council adopted the strategy?", "", "en", [passage(text)])
    scored, _, _ = ExtractiveGenerator().scored_units(request)
    assert scored[0].unit.text.startswith("Strategin beslutades")
    assert scored[0].score > scored[1].score
    monkeypatch.setattr(concepts, "english_glossary", lambda: Glossary([]))
    scored, _, _ = ExtractiveGenerator().scored_units(request)
    assert scored[0].score == scored[1].score


DEFINITION_TEXT = (
    "Bæredygtighedsstrategien skal fungere som en understøttelse for kommunens mål.\n"
    "Strategien ledsages af et handlekatalog, der er et samlet overblik over indsatserne."
)


@pytest.mark.parametrize(
    "question,language,focus",
    [
        ("Hvad er handlekataloget i strategien?", "da", "handlekatalog"),
        ("Vad är Agenda 2030?", "sv", None),
        ("What is the action catalogue?", "en", "handlekatalog"),
        ("Hvem er ansvarlig?", "da", None),
    ],
)
def test_what_a_definition_question_asks_about(question, language, focus):
    concept = ExtractiveGenerator().questions.focus(question, language)
    if focus is None:
        assert concept == ()
    else:
        assert any(focus in alternative for alternative in concept)


def test_a_what_is_question_gets_the_sentence_naming_its_subject(monkeypatch):
    """The embedding rates the introduction closer to the question (0.90 against 0.82, as
    multilingual-e5 does); the sentence naming the thing asked about still wins."""
    import assistant.answering.extractive as extractive
    from ingestion.units import split_units
    from vectorstore.store import UnitVector

    p = passage(DEFINITION_TEXT)
    intro, naming = split_units(DEFINITION_TEXT, 0)
    vectors = [
        UnitVector(intro.start, intro.end, False, [0.90, (1 - 0.90**2) ** 0.5]),
        UnitVector(naming.start, naming.end, False, [0.82, -((1 - 0.82**2) ** 0.5)]),
    ]
    request = GenerationRequest(
        "Hvad er handlekataloget i strategien?",
        "",
        "da",
        [p],
        query_vector=[1.0, 0.0],
        unit_vectors={p.chunk.chunk_id: vectors},
    )
    scored, _, _ = ExtractiveGenerator().scored_units(request)
    assert scored[0].unit.text.startswith("Strategien ledsages af et handlekatalog")
    monkeypatch.setattr(extractive, "FOCUS_BONUS", 0.0)
    scored, _, _ = ExtractiveGenerator().scored_units(request)
    assert scored[0].unit.text.startswith("Bæredygtighedsstrategien")


def test_an_english_question_is_also_compared_by_its_translated_words():
    """e5 rates a Danish sentence against the question's Danish words more sharply than
    against the English question: the translated words' vector decides between sentences the
    English vector cannot tell apart."""
    from ingestion.units import split_units
    from vectorstore.store import UnitVector

    text = "Plejeplanen færdiggøres.\nUdkast til plejeplan i offentlig høring."
    p = passage(text)
    final, draft = split_units(text, 0)
    vectors = {
        p.chunk.chunk_id: [
            UnitVector(final.start, final.end, False, [0.95, 0.0, 0.312]),
            UnitVector(draft.start, draft.end, False, [0.78, 0.626, 0.0]),
        ]
    }
    base = dict(query_vector=[1.0, 0.0, 0.0], unit_vectors=vectors)
    question = "When does the draft go to consultation?"
    plain = GenerationRequest(question, "", "en", [p], **base)
    assert ExtractiveGenerator().scored_units(plain)[0][0].unit.text.startswith("Plejeplanen")
    translated = GenerationRequest(
        question, "", "en", [p], translated_vector=[0.6, 0.8, 0.0], **base
    )
    assert ExtractiveGenerator().scored_units(translated)[0][0].unit.text.startswith("Udkast")


GROUPED_LIST = (
    "• Letbanen\n"
    "o De afsluttende arbejder med letbanen udføres.\n"
    "• Cykelhandlingsplanen\n"
    "o Projekt 308 på Vintappervej er udført.\n"
    "• Trafiksikkerhedsplanen\n"
    "o Politisk behandling af prioriteret liste for 2026.\n"
    "o Overdragelse af projekter til CAE."
)


def _milestones(question: str) -> list[str]:
    p = made_passage(
        GROUPED_LIST, ("5.1 Indsatser Trafik og Mobilitet", "4. Kvartal 2025"), quarters=(4,)
    )
    request = GenerationRequest(question, "", "da", [p])
    return [u.text.strip() for p in ExtractiveGenerator().pick(request) for u in p.units]


def test_a_milestone_list_grouped_by_project_answers_the_project_asked_about():
    texts = _milestones("Hvad sker der med trafiksikkerhedsplanen i 4. kvartal?")
    assert texts == [
        "• Trafiksikkerhedsplanen",
        "o Politisk behandling af prioriteret liste for 2026.",
        "o Overdragelse af projekter til CAE.",
    ]


def test_a_milestone_question_naming_no_project_gets_the_whole_list():
    texts = _milestones("Hvad sker der i 4. kvartal?")
    assert len(texts) == 7


def test_the_organisation_a_question_names_is_no_evidence_for_a_sentence(monkeypatch):
    """Every passage is the named municipality's; a sentence repeating its name is not
    closer to the answer for it."""
    import assistant.answering.extractive as extractive

    text = (
        "Indkøbspolitikken for Lyngby-Taarbæk Kommune implementeres.\n"
        "Cyklister får lov at dreje til højre i udpegede kryds."
    )
    p = made_passage(text, ("5.1 Trafik",), organisation="Lyngby-Taarbæk Kommune")
    request = GenerationRequest("Må cyklister dreje til højre i Lyngby-Taarbæk?", "", "da", [p])
    scored, _, _ = ExtractiveGenerator().scored_units(request)
    assert scored[0].unit.text.startswith("Cyklister")
    assert scored[0].score > scored[1].score
    monkeypatch.setattr(extractive, "DROP_ORGANISATION_NAMES", False)
    scored, _, _ = ExtractiveGenerator().scored_units(request)
    by_text = {s.unit.text[:10]: s.score for s in scored}
    assert by_text["Indkøbspol"] == pytest.approx(by_text["Cyklister "])  # the name pulled even


def test_a_swedish_word_matches_its_danish_spelling_when_near_spellings_are_given():
    text = (
        "Revision af praksis for jordvarme – politisk sag udarbejdet\n"
        "Øget tilsyn med jordtransporter – procedure for tilsyn fastlagt"
    )
    plain = GenerationRequest("Vad händer med jordvärme?", "", "sv", [passage(text)])
    scored, _, _ = ExtractiveGenerator().scored_units(plain)
    assert scored[0].score == scored[1].score  # no word in common with either line
    near = replace(plain, near_spellings={"jordvärme": ["jordvarme"]})
    scored, _, _ = ExtractiveGenerator().scored_units(near)
    assert "jordvarme" in scored[0].unit.text
    assert scored[0].score > scored[1].score


QUARTER_LISTS = [
    (
        "1. Kvartal 2025",
        "• Revision af praksis for jordvarme – læring fra klagesager\n"
        "• Grøn trepart – politisk medlem udpeget",
    ),
    (
        "2. Kvartal 2025",
        "• Revision af praksis for jordvarme – politisk sag udarbejdet\n"
        "• Grøn trepart – opstart i VOS Øresund",
    ),
    ("3. Kvartal 2025", "• Revision af praksis for jordvarme, ny praksis udmeldt"),
]


def quarter_passages() -> list[Passage]:
    return [
        made_passage(text, ("7.1 Indsatser Natur og Miljø", heading), number=i, quarters=(i + 1,))
        for i, (heading, text) in enumerate(QUARTER_LISTS)
    ]


@pytest.mark.parametrize(
    "item,key",
    [
        (
            "• Revision af praksis for jordvarme – læring fra klagesager",
            "revision af praksis for jordvarme",
        ),
        (
            "• Revision af praksis for jordvarme, ny praksis udmeldt",
            "revision af praksis for jordvarme",
        ),
        ("• Grøn trepart – opstart i VOS Øresund", "grøn trepart"),
        ("• Trafiksikkerhedsplanen", None),
    ],
)
def test_project_key(item, key):
    from assistant.answering.extractive import project_key
    from ingestion.units import Unit

    assert project_key(Unit(0, len(item), item, True)) == key


def test_a_project_through_the_year_gets_its_step_in_every_quarter():
    # the passages come best first: the 2nd quarter's list ranks above the others
    first, second, third = quarter_passages()
    request = GenerationRequest(
        "Hvad sker der med revisionen af praksis for jordvarme i løbet af året?",
        "",
        "da",
        [second, first, third],
    )
    picked = ExtractiveGenerator().pick(request)
    assert [p.passage.chunk.quarters for p in picked] == [(1,), (2,), (3,)]
    for p in picked:
        assert [u.text.split(" – ")[0].split(",")[0] for u in p.units] == [
            "• Revision af praksis for jordvarme"
        ]


def test_a_question_naming_a_quarter_still_gets_that_quarters_list():
    first, second, third = quarter_passages()
    request = GenerationRequest(
        "Hvad sker der med jordvarme i 2. kvartal?", "", "da", [second, first, third]
    )
    picked = ExtractiveGenerator().pick(request)
    assert [p.passage.chunk.quarters for p in picked] == [(2,)]
    assert len(picked[0].units) == 2  # the whole list of that quarter
