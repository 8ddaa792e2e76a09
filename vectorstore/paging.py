"""Reading many records from Chroma in pages.

Chroma fetches the records of a ``get`` with one SQL statement that binds every matching id;
past ~32,000 records SQLite refuses it ("too many SQL variables"), which at 1000x the demo corpus
(162,656 chunks) broke every read of the whole chunk collection. Reading in pages keeps each
statement small. Pages are taken by offset, so a write landing between two pages can shift
records across them; the callers read derived data (the BM25 index, garbage collection, a
rebuild) that a registry change rebuilds or a re-run repeats anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

PAGE = 5000


def get_all(
    collection, *, where: dict | None = None, include: Sequence[str] = (), page: int = PAGE
) -> dict:
    """``collection.get(where=where, include=include)`` for any number of records."""
    out: dict[str, list] = {"ids": [], **{name: [] for name in include}}
    offset = 0
    while True:
        got = collection.get(where=where, include=list(include), limit=page, offset=offset)
        out["ids"].extend(got["ids"])
        for name in include:
            values = got.get(name)
            out[name].extend(list(values) if values is not None else [])
        if len(got["ids"]) < page:
            return out
        offset += page
