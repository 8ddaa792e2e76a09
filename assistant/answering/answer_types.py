"""What kind of answer a question wants, and whether a sentence can be that answer.

"When …?" wants a time, "how many / how much …?" a quantity. A multilingual embedding ranks
sentences by topic, not by whether they state the time or number asked for: for "Når blev
strategien vedtaget?" the sentence restating the strategy's purpose outranks the one with the
date. So the extractive answerer prefers, among the sentences that answer the topic, those of
the wanted type, and when none of the retrieved sentences states a time (or quantity) at all,
it abstains instead of answering a "when" question with a sentence that contains no time.
"""

from __future__ import annotations

import re
from typing import Literal

AnswerType = Literal["time", "quantity", "amount"]

TIME_QUESTION = re.compile(
    r"\bhvornår\b|\bwhen\b|hvilket år|vilket år|what year|which year|"
    r"hvilken dato|vilket datum|what date|hur länge|hvor længe|how long|since when|siden hvornår|"
    r"sedan när",
    re.I,
)
#: Danish "når" and Swedish "när" ask "when?" where a question or a coordinated question starts
#: ("Når blev …?", "…, och när kommer det första numret?") or where a verb follows at once (a
#: question's word order: "når skal …"); elsewhere they join a clause ("…, når strategien skal
#: føres ud i livet", "… när det gäller parkering") and ask nothing. Swedish "når" is "reaches".
_WHEN_VERBS = (
    r"skal|skulle|kan|kunne|vil|ville|bliver|blev|er|var|kommer|sker|går|får|starter|begynder|"
    r"ska|skall|kunde|blir|är|händer|börjar|startar"
)
WHEN_ASKED = {
    language: re.compile(
        rf"(?:^|\b(?:{conjunctions})\s+){word}\b|\b{word}\s+(?:{_WHEN_VERBS})\b", re.I
    )
    for language, word, conjunctions in (("da", "når", "og|men"), ("sv", "när", "och|men"))
}
QUANTITY_QUESTION = re.compile(
    r"\bhvor mange\b|\bhvor meget\b|\bhvor stor|\bhur många\b|\bhur mycket\b|\bhur stor|"
    r"\bhow many\b|\bhow much\b|\bhow large\b|\bhow big\b",
    re.I,
)
#: Questions about money want an amount of money, not just any number ("10 nye ladepladser").
AMOUNT_QUESTION = re.compile(
    r"\bhvad koster\b|\bvad kostar\b|\bwhat does .{1,40} cost\b|\bhow much .{0,40}\bcost|"
    r"\bhvad (?:skal|vil|kommer)\b.{1,40}\bbetale\b|\bvad (?:ska|kommer)\b.{1,40}\bbetala\b|"
    r"\bwhat (?:will|does|must)\b.{1,40}\bpay\b|\bhow much money\b|\bhvor mange penge\b|"
    r"\bhur mycket pengar\b|\b(?:hvad|vad|what)\s+(?:er|är|is|was|var)\s+(?:the\s+)?"
    r"(?:budget|pris|price|omkostning|kostnad|cost)",
    re.I,
)
MONEY = re.compile(
    r"\d[\d.,\s]*\s*(?:kr\.?|kroner|kronor|mio\.?|mia\.?|mill?ion(?:er)?|miljon(?:er)?|"
    r"miljard(?:er)?|milliard(?:er)?|dkk|sek|eur|euro|€|\$|tkr\.?|mkr\.?)(?!\w)|"
    r"(?:kr\.?|dkk|sek|€|\$)\s*\d",
    re.I,
)
MONTHS = (
    r"januar[iy]?|februar[iy]?|mar(?:ts|s|ch)|april|maj|may|juni?|june|juli?|july|august[i]?|"
    r"september|o[ck]tober|november|december|jan\.|feb\.|aug\.|sept?\.|okt\.|oct\.|nov\.|dec\."
)
SEASONS = (
    r"for[åa]r(?:et)?|sommer(?:en)?|efter[åa]r(?:et)?|vinter(?:en)?|v[åa]r(?:en)?|sommar(?:en)?|"
    r"h[öo]st(?:en)?|spring|summer|autumn|fall|winter"
)
TIME = re.compile(
    rf"\b(?:19|20)\d\d\b|\b(?:{MONTHS})\b|\b(?:{SEASONS})\b|\b(?:medio|primo|ultimo|midten af|"
    r"början av|slutet av|mitten av|end of|beginning of|halvår|årsskiftet|kvartal|quarter|q[1-4])\b|"
    r"\b\d{1,2}[./]\d{1,2}\b",
    re.I,
)
NUMBER_WORDS = (
    r"to|tre|fire|fem|seks|syv|otte|ni|ti|tolv|tyve|hundrede|tusind|"
    r"två|fyra|sex|sju|åtta|nio|tio|tjugo|hundra|tusen|"
    r"two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|thousand|"
    r"halvdelen|hälften|half|dobbelt|dubbelt|double"
)
# Digits that name things rather than count them: years, "Etape 2", "projekt 308", "§ 17".
NAMING = re.compile(
    r"(?:etape|etapp|stage|fase|phase|nr\.?|no\.?|projekt|project|§|kapitel|chapter|afsnit|"
    r"punkt|stk\.?)\s*$",
    re.I,
)
NUMBER = re.compile(r"(?<!\w)\d+(?:[.,]\d+)?")
QUANTITY_WORD = re.compile(rf"\b(?:{NUMBER_WORDS})\b|%|\bprocent\b|\bpct\b|\bpercent\b", re.I)
YEAR = re.compile(r"(?:19|20)\d\d")
#: A phone number ("08-606 81 02", "+45 45 97 30 00"): digits that count nothing.
PHONE = r"(?:\+\d{2}\s?)?\b\d{2,4}[- ]\d{2,3}(?:\s?\d{2}){2,3}\b"
NOT_COUNTS = re.compile(
    rf"^\s*\d{{1,2}}[.)]\s|\S+@\S+|{PHONE}|\b\d{{1,2}}\.?\s+(?:{MONTHS})\b",
    re.I,
)


def wanted_type(question: str, language: str | None = None) -> AnswerType | None:
    """The kind of answer ``question`` asks for, if it is one we can check: the question word
    that comes first decides ("Hvornår går man i gang med at gøre op, hvor meget …?" asks when;
    the "hvor meget" is part of what is asked about). ``language`` is the question's, for
    "når"/"när" (see ``WHEN_ASKED``); without one both are read."""
    text = question.lstrip(" ¿¡\"'")
    when = [WHEN_ASKED[language]] if language in WHEN_ASKED else list(WHEN_ASKED.values())
    found: list[tuple[int, int, AnswerType]] = []
    for order, (kind, patterns) in enumerate(
        (
            ("amount", [AMOUNT_QUESTION]),
            ("quantity", [QUANTITY_QUESTION]),
            ("time", [TIME_QUESTION, *when]),
        )
    ):
        for pattern in patterns:
            if m := pattern.search(text):
                found.append((m.start(), order, kind))
    return min(found)[2] if found else None


def states_time(text: str) -> bool:
    return bool(TIME.search(text))


def states_quantity(text: str) -> bool:
    """A count or amount: a number that is not a year and not part of a name, a number word,
    or a percentage. Phone numbers, e-mail addresses and dates ("23 juli 2020") count nothing."""
    text = NOT_COUNTS.sub(" ", text)
    if QUANTITY_WORD.search(text):
        return True
    for m in NUMBER.finditer(text):
        if YEAR.fullmatch(m.group()) or NAMING.search(text[max(0, m.start() - 12) : m.start()]):
            continue
        return True
    return False


def satisfies(kind: AnswerType, text: str, context: str = "") -> bool:
    """Whether ``text`` can answer a question wanting ``kind``. ``context`` is what places the
    sentence in time (a milestone's quarter heading) and counts for times only."""
    if kind == "time":
        return states_time(text) or states_time(context)
    if kind == "amount":
        return bool(MONEY.search(text))
    return states_quantity(text)
