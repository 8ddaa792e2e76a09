"""Answer types: what a question wants (a time, a quantity) and which sentences can give it."""

from __future__ import annotations

import pytest

from assistant.answering.answer_types import satisfies, states_quantity, states_time, wanted_type

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "question,kind",
    [
        ("Hvornår sættes letbanen i drift?", "time"),
        ("När beslutades miljöstrategin?", "time"),
        ("When was the strategy adopted?", "time"),
        ("Hur länge har gruppen funnits?", "time"),
        ("Hvor mange årsværk bruger CTMB?", "quantity"),
        ("Hur mycket har utsläppen minskat?", "quantity"),
        ("How many focus areas are there?", "quantity"),
        ("What does the plant cost?", "amount"),
        ("Hvad skal kommunen betale for værktøjet?", "amount"),
        ("What will the municipality pay for the tool?", "amount"),
        ("Hvem skal betale for værktøjet?", None),
        ("Vad ansvarar CTMB för när det gäller parkering?", None),  # "as regards", not "when"
        ("Hvem har ansvaret, når det gælder cykelstier?", None),
        ("Hvad sker der i 3. kvartal under grøn mobilitet?", None),
        ("Who is responsible for KMPP?", None),
        # the first question word decides; a later one belongs to what is asked about
        ("Hvornår går man i gang med at gøre op, hvor meget areal der passes?", "time"),
        ("Hvor mange årsværk bruges, og hvornår?", "quantity"),
        # "når"/"när" ask "when" where a (coordinated) question starts or a verb follows;
        # elsewhere they join a clause
        ("Når blev strategien vedtaget?", "time"),
        ("Och när ska handlingsplanen vara klar?", "time"),
        ("Hvordan hænger målene sammen, når strategien skal føres ud i livet?", None),
        ("Vad händer när pilotprojektet är klart?", None),
        ("Ger kommunen ut ett nyhetsbrev, och när kommer det första numret?", "time"),
        ("Hvad er planen, og hvornår skal den vedtages?", "time"),
        ("Projektet – når skal det være færdigt?", "time"),
    ],
)
def test_wanted_type(question, kind):
    assert wanted_type(question) == kind


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Miljöstrategin beslutades av kommunfullmäktige i september 2021.", True),
        ("Sedan hösten 2019 finns en grupp.", True),
        ("Medio 2026 vil letbanen sættes i drift", True),
        ("Planen vedtages i foråret.", True),
        ("Den talar om hur Borlänge kommun ska arbeta.", False),
        ("Der udarbejdes en evaluering af arbejdsgruppen.", False),
    ],
)
def test_states_time(text, expected):
    assert states_time(text) is expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Der anvendes ca. 7 årsværk i CTMB.", True),
        ("har nio fokusområden utarbetats", True),
        ("Utsläppen har minskat med 12 procent.", True),
        ("Borlänge ska vara klimatneutralt 2030.", False),  # a year is no quantity
        ("Godkendelse af projektforslag til fjernvarmeudrulning Etape 2.", False),  # a name
        ("Status på projekt 308 Vintappervej.", False),
        ("Kommunalbestyrelsen beslutter løbende.", False),
        ("Rejsning af ca. 600 m2 skov.", True),
        # Numbers that count nothing: phone numbers, e-mail, dates, list numbering, names.
        ("08-606 81 02 petronella.troselius@haninge.se", False),
        ("Senast uppdaterad: 23 juli 2020", False),
        ("1. Energieffektivisera", False),
        ("Dokumentationsmodel for CO2 effekten.", False),
        ("DK2020 Klimaplanens indsatser", False),
    ],
)
def test_states_quantity(text, expected):
    assert states_quantity(text) is expected


def test_a_milestone_is_placed_in_time_by_its_quarter_heading():
    item = "Udkast til plejeplan i offentlig høring."
    assert not satisfies("time", item)
    assert satisfies("time", item, "3.1.3 Natur og biodiversitet 2. Kvartal 2025")
    assert not satisfies("quantity", item, "2. Kvartal 2025")


@pytest.mark.parametrize(
    "question,language,kind",
    [
        ("Hvad er budgettet for den nye genbrugsstation?", "da", "amount"),
        ("How much will the plant cost?", "en", "amount"),
        ("Hvor mange årsværk bruger CTMB?", "da", "quantity"),
        ("Hur når jag henne?", "sv", None),  # Swedish "når" is "reaches"
        ("Hvornår når vi målet?", "da", "time"),
    ],
)
def test_wanted_type_knows_money_and_the_language(question, language, kind):
    assert wanted_type(question, language) == kind


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Der er afsat 2,5 mio. kr. til projektet.", True),
        ("Budget: 300.000 kr.", True),
        ("Anlægget koster 5 mia. kroner.", True),
        ("Der etableres en ladestation med 10 nye ladepladser.", False),  # a count, not money
        ("Der anvendes ca. 7 årsværk.", False),
    ],
)
def test_an_amount_is_money(text, expected):
    assert satisfies("amount", text) is expected
