"""What counts as web boilerplate: site furniture that is not document content.

One data-driven list, Danish, Swedish and English, used by :mod:`ingestion.cleaning`. Extend the
patterns here, nowhere else.
"""

from __future__ import annotations


def word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Whole lines that are site furniture, not document content (matched case-insensitively against
#: the whitespace-normalised line). Danish, Swedish and English; extend here, nowhere else.
BOILERPLATE_LINES: tuple[str, ...] = (
    # skip links and navigation
    r"(?:gå|spring) (?:direkte )?(?:til|over) "
    r"(?:hoved)?(?:indhold(?:et)?|navigation(?:en)?|menu(?:en)?)",
    r"(?:hoppa|gå) (?:direkt )?till (?:huvud)?(?:innehåll(?:et)?|navigering(?:en)?|menyn?)",
    r"skip (?:to (?:the )?(?:main )?content|navigation)",
    r"(?:tilbage |gå |tillbaka |back )?(?:til|till|to) (?:toppen|top)",
    r"menu|meny|søg|sök|search|luk|stäng|close|log ind|logga in|content editor|web ?part",
    # print, share, read more
    r"print|udskriv(?: siden)?|skriv ut(?: sidan)?|print this page",
    r"(?:del|dela|share)(?: (?:siden|sidan|this page))?(?: (?:på|on|via) \w+(?:[ -]\w+)?)?",
    r"facebook|twitter|linkedin|instagram|youtube",
    r"(?:læs|läs|read) (?:mere|mer|more)(?: her| här| here)?\s*[»›→>]?",
    r"(?:lyt|lyssna|læs op)(?: til siden| på sidan)?",
    # cookie banners
    r"(?:vi bruger|denne (?:hjemme|web)side bruger|vi använder|den här webbplatsen använder|"
    r"webbplatsen använder|we use|this (?:web)?site uses) (?:cookies|kakor)\b.*",
    r"(?:accepter|acceptér|acceptera|godkänn|godkend|accept|afvis|neka|reject)"
    r"(?: alle| alla| all)?(?: nødvendige| nödvändiga| necessary)?(?: cookies| kakor)?",
    r"(?:cookie|kak)(?:-| )?(?:indstillinger|inställningar|settings|politik|policy|erklæring)"
    r"|inställningar för kakor|om cookies|om kakor",
    # outdated browser warnings
    r"(?:hej! )?du använder en (?:gammal|föråldrad) webbläsare",
    r"du bruger en (?:gammel|forældet) browser|you are using an (?:old|outdated) browser",
    # media furniture
    r"klicka på bilden för att se filmen.*|klik på billedet for at se (?:filmen|videoen).*",
    r"skärmdump (?:på|av|från) .{1,120}|skærmbillede (?:af|fra) .{1,120}",
    r"(?:länk|link) til{1,2} [\w-]+(?: [\w-]+){0,2}",
    r"[^\s/\\]{1,80}\.(?:png|jpe?g|gif|svg|webp|bmp|tiff?)",
)
#: Lines containing both patterns are boilerplate paragraphs (e.g. the text under "Hej! Du använder
#: en gammal webbläsare"). Only applied to lines shorter than ``_MAX_PARAGRAPH_RULE_CHARS``.
BOILERPLATE_PARAGRAPHS: tuple[tuple[str, str], ...] = (
    (r"\bwebbläsaren?\b", r"\b(?:Firefox|Chrome|Edge|Safari)\b"),
    (r"\bbrowser(?:en)?\b", r"\b(?:Firefox|Chrome|Edge|Safari)\b"),
    (r"\b(?:cookies|kakor)\b", r"\b(?:accepter|acceptera|godkänn|samtykke|samtycke|consent)"),
)
#: Link labels at the end of a line ("Pdf, 2.1 MB, öppnas i nytt fönster.").
LINK_LABEL = (
    r"(?:(?:pdf|word|excel|powerpoint|docx?|xlsx?|pptx?|odt|zip)\s*,\s*"
    r"\d+(?:[.,]\d+)?\s*(?:[kmg]i?b|bytes?)\b\.?"
    r"(?:\s*,\s*öppnas i (?:ett )?nytt fönster\.?)?"
    r"|länk till (?:en )?annan webbplats(?:\s*,\s*öppnas i (?:ett )?nytt fönster)?\.?"
    r"|,?\s*öppnas i (?:ett )?nytt fönster\.?"
    r"|\(?(?:åbner|opens) i(?:n)? (?:et |a )?(?:nyt|new) (?:vindue|window|tab|fane)\)?\.?"
    r"|ekstern(?:t)? link\.?|extern länk\.?|external link\.?)"
)
