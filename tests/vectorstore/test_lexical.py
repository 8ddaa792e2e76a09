"""The BM25 index: a public search is analysed with what the public may see."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.reliability.test_citation_properties import make_chunk
from vectorstore.lexical import LexicalIndex

pytestmark = pytest.mark.unit


def chunk(text: str, index: int, audience: str):
    return replace(make_chunk(text, index, 0, len(text), doc_id=audience), audience=audience)


def test_a_public_query_is_not_split_by_words_only_staff_documents_have():
    """ "geotermiboring" splits into "geotermi" + "boring" only because a staff document has
    "geotermi": a citizen's search must not find the public "boring" passage through it (nor
    rank anything by it), a staff search may."""
    chunks = [
        chunk("Geotermi anlægget udbygges i 2026 efter politisk behandling.", 0, "staff"),
        chunk("Kommunen laver en boring efter grundvand ved skolen.", 1, "public"),
    ]
    index = LexicalIndex(("da", "sv", "en"))
    index.ensure(("v1",), lambda: chunks)
    everything = np.ones(2, dtype=bool)
    public_only = np.array([False, True])
    query = "geotermiboring"
    found = {c.chunk_id for c, _ in index.search(query, 2, everything, "staff")}
    assert found == {chunks[0].chunk_id, chunks[1].chunk_id}
    assert index.search(query, 2, public_only, "public") == []
    assert index.search(query, 2, public_only, "staff")  # the same words, split with staff's
