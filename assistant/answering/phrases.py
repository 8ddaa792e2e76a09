"""Fixed phrases of the answers, per language (da, sv, en)."""

from __future__ import annotations

LANGUAGE_NAMES = {
    "da": {"da": "dansk", "sv": "svensk", "en": "engelsk"},
    "sv": {"da": "danska", "sv": "svenska", "en": "engelska"},
    "en": {"da": "Danish", "sv": "Swedish", "en": "English"},
}

PHRASES = {
    "according_to": {
        "da": "Ifølge {source}:",
        "sv": "Enligt {source}:",
        "en": "According to {source}:",
    },
    "source_language": {
        "da": "(Kilden er på {language} og citeres ordret.)",
        "sv": "(Källan är på {language} och citeras ordagrant.)",
        "en": "(The source is in {language} and is quoted verbatim.)",
    },
    "not_found": {
        "da": "Det kan jeg ikke finde i strategidokumenterne.",
        "sv": "Det kan jag inte hitta i strategidokumenten.",
        "en": "I cannot find that in the strategy documents.",
    },
    "suggest": {
        "da": "Måske kan disse dokumenter hjælpe: {titles}.",
        "sv": "De här dokumenten kan kanske hjälpa: {titles}.",
        "en": "These documents may help: {titles}.",
    },
}


def phrase(key: str, lang: str, **values: str) -> str:
    table = PHRASES[key]
    return table.get(lang, table["en"]).format(**values)


def language_name(of: str, in_language: str) -> str:
    return LANGUAGE_NAMES.get(in_language, LANGUAGE_NAMES["en"]).get(of, of)
