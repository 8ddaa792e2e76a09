"""Drafting a dataset from stored documents, for a person to review — no LLM needed.

For each document we pick informative chunks (milestone lists, sentences with years, numbers or
responsibility words) and turn them into template questions in the document's language, with the
sentence as gold quote and its distinctive words as keywords. The drafts are deliberately plain:
a reviewer rewrites the wording (paraphrase!) and deletes weak rows.
"""

from __future__ import annotations

import re

from ingestion.units import split_units, strip_marker
from vectorstore.analysis import STOPWORDS, words
from vectorstore.filters import SearchFilter

TEMPLATES = {
    "milestone": {
        "da": "Hvad sker der i {quarter}. kvartal {year} under {section}?",
        "sv": "Vad händer under kvartal {quarter} {year} inom {section}?",
        "en": "What happens in Q{quarter} {year} under {section}?",
    },
    "fact": {
        "da": "Hvad står der om {topic} i {title}?",
        "sv": "Vad står det om {topic} i {title}?",
        "en": "What does {title} say about {topic}?",
    },
}
INFORMATIVE = re.compile(r"\d|ansvar|mål|skal|ska\b|årsværk|projekt", re.I)


def _topic(text: str, n: int = 3) -> str:
    content = [w for w in words(text) if w not in STOPWORDS and len(w) > 4 and not w.isdigit()]
    return " ".join(list(dict.fromkeys(content))[:n])


def draft_dataset(store, doc_ids: list[str] | None, per_document: int) -> list[dict]:
    rows: list[dict] = []
    chunks = store.chunks_where(SearchFilter(audience="staff"))
    for doc in store.documents():
        if doc_ids and doc.doc_id not in doc_ids:
            continue
        lang = doc.language if doc.language in ("da", "sv", "en") else "en"
        made = 0
        for chunk in (c for c in chunks if c.doc_id == doc.doc_id):
            if made >= per_document:
                break
            units = [
                u
                for u in split_units(chunk.text, chunk.start)
                if INFORMATIVE.search(u.text) and len(u.text.split()) >= 5
            ]
            if not units:
                continue
            unit = units[0]
            quote = strip_marker(unit.text)
            if chunk.quarters and chunk.year:
                kind = "milestone"
                section = next(
                    (p for p in reversed(chunk.section_path) if "kvartal" not in p.lower()),
                    doc.title,
                )
                question = TEMPLATES[kind][lang].format(
                    quarter=chunk.quarters[0],
                    year=chunk.year,
                    section=re.sub(r"^[\d.]+\s*", "", section),
                )
            else:
                kind = "fact"
                question = TEMPLATES[kind][lang].format(topic=_topic(quote), title=doc.title)
            made += 1
            rows.append(
                {
                    "id": f"draft-{doc.doc_id}-{made:03d}",
                    "question": question,
                    "language": lang,
                    "type": kind,
                    "history": [],
                    "audience": doc.audience,
                    "answerable": True,
                    "gold": [{"doc": doc.doc_id, "quote": " ".join(quote.split()[:20])}],
                    "keywords": _topic(quote, 2).split()[:2] or [quote.split()[0]],
                    "notes": f"DRAFT from {chunk.section or doc.title}: review and paraphrase",
                }
            )
    return rows
