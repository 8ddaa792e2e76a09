"""Property-based tests of what a citation points at, for arbitrary unicode.

tests/ingestion covers cleaning and chunking spans; these cover the rest of the way to the
caller: sentence/item units, the Chroma round trip, ``passage_out`` and ``check_markers`` with
whatever marker garbage a model writes. The promise: every quote is ``text[start:end]`` of the
stored document, and the answer text keeps only markers that name a citation, numbered from 1
in order of use.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.answering.base import Draft
from assistant.answering.citations import check_markers, passage_out
from assistant.retrieval.passage import Passage
from ingestion.units import split_units
from vectorstore.records import StoredChunk

ANY_MARKER = re.compile(r"\[(\d+)\]")

# --- strategies ------------------------------------------------------------------------------
# Words of the scripts a municipal text or a model's answer may contain, and the characters
# that tend to break offsets: combining marks, astral characters, zero-width and bidi controls,
# no-break spaces, Unicode line separators.
WORDS = st.sampled_from(
    [
        "Kommunen",
        "fjernvarme",
        "Växjö",
        "Ærø",
        "Åtgärder",
        "e\u0301tape",
        "Ωμέγα",
        "深圳",
        "🌍🚲",
        "👩‍👩‍👧",
        "שלום",
        "مرحبا",
        "ﬁnans",
        "ß",
        "İstanbul",
        "a\u200bb",
        "\u202eevil",
        "2030.",
        "3.",
        "bl.a.",
        "Hr.",
        "ca.",
    ]
)
SEPARATORS = st.sampled_from(
    [" ", " ", "  ", "\n", "\n\n", "\n• ", "\n- ", "\n1. ", "\n# ", "\t", "\xa0", "\u2028", ". "]
)
TEXT = st.lists(st.one_of(WORDS, SEPARATORS, st.text(max_size=6)), max_size=80).map("".join)
GARBAGE_MARKERS = st.sampled_from(
    [
        "[0]",
        "[999]",
        "[1000]",
        "[0001]",
        "[01]",
        "[1,2]",
        "[1, 2, 99]",
        "[2;1]",
        "[1,]",
        "[,1]",
        "[a]",
        "[]",
        "[-1]",
        "[ 2 ]",
        "[[1]]",
        "[[999]]",
        "[2[999]]",
        "[[2]1]",
        "[1][1]",
        "[١]",
        "[１]",
        "【1】",
        "[^1]",
        "(1)",
        "[",
        "]",
    ]
)


@st.composite
def chunked_documents(draw) -> tuple[str, list[StoredChunk]]:
    """A document text and 1–6 chunks over consecutive non-empty slices of it."""
    text = draw(st.text(min_size=1, max_size=400))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=6)) | {0, len(text)})
    spans = [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if a < b][:6]
    chunks = [make_chunk(text, i, a, b) for i, (a, b) in enumerate(spans)]
    return text, chunks


def make_chunk(text: str, index: int, start: int, end: int, doc_id: str = "doc") -> StoredChunk:
    return StoredChunk(
        chunk_id=f"{doc_id}::v1::{index:05d}",
        doc_id=doc_id,
        version="v1",
        index=index,
        text=text[start:end],
        start=start,
        end=end,
        section_path=("Afsnit",),
        page=None,
        quarters=(),
        year=None,
        kind="text",
        title="Titel",
        organisation="",
        language="da",
        audience="public",
        source=f"{doc_id}.txt",
        header="",
    )


@st.composite
def drafts(draw, passages: int, garbage: bool = True) -> Draft:
    """Answer text mixing words, markers in and out of range, and (with ``garbage``) marker
    garbage; spans that may or may not lie inside their passage."""
    parts = [
        WORDS,
        st.integers(0, 99).map(lambda n: f"[{n}]"),
        st.integers(1, max(passages, 1)).map(lambda n: f"[{n}]"),
        st.sampled_from([".", ",", "!", "\n"]),
    ]
    if garbage:
        parts += [st.integers(0, 1200).map(lambda n: f"[{n}]"), GARBAGE_MARKERS]
    tokens = draw(st.lists(st.one_of(*parts), max_size=40))
    spans = draw(
        st.dictionaries(
            st.integers(-2, passages + 2),
            st.tuples(st.integers(-50, 500), st.integers(-50, 500)),
            max_size=4,
        )
    )
    return Draft(text=" ".join(tokens), spans=spans)


# --- split_units -----------------------------------------------------------------------------
@pytest.mark.unit
@settings(max_examples=400, deadline=None)
@given(st.one_of(TEXT, st.text(max_size=300)), st.integers(0, 10_000))
def test_unit_spans_are_exact(text, offset):
    units = split_units(text, offset)
    previous_end = offset
    for unit in units:
        assert text[unit.start - offset : unit.end - offset] == unit.text
        assert unit.text and unit.text == unit.text.strip()
        assert unit.start >= previous_end  # in order, not overlapping
        previous_end = unit.end
    assert "".join(text.split()) == "".join("".join(u.text for u in units).split())


# --- check_markers and passage_out -----------------------------------------------------------
def assert_checked(text: str, passages: list[Passage], draft: Draft) -> None:
    checked = check_markers(draft, passages)
    ids = [c.id for c in checked.citations]
    assert ids == list(range(1, len(ids) + 1))
    left = [int(n) for n in ANY_MARKER.findall(checked.text)]
    assert set(left) == set(ids), (draft.text, checked.text)  # only markers that cite something
    assert list(dict.fromkeys(left)) == ids  # numbered in order of first use
    for removed in checked.removed:
        number = int(ANY_MARKER.fullmatch(removed).group(1))
        assert not 1 <= number <= len(passages), removed
    for c in checked.citations:
        chunk = passages[checked.renumbered and _old(checked.renumbered, c.id) - 1].chunk
        assert chunk.start <= c.start < c.end <= chunk.end
        assert text[c.start : c.end] == c.quote
    cited = {passages[old - 1].chunk.chunk_id for old in checked.renumbered}
    for token in draft.text.split(" "):
        plain = re.fullmatch(r"\[([1-9]\d{0,2})\]", token)
        if plain and int(plain.group(1)) <= len(passages):
            assert passages[int(plain.group(1)) - 1].chunk.chunk_id in cited  # none lost


def _old(renumbered: dict[int, int], new: int) -> int:
    return next(old for old, n in renumbered.items() if n == new)


@pytest.mark.unit
@settings(max_examples=500, deadline=None)
@given(st.data())
def test_check_markers_keeps_valid_markers_only_and_quotes_exactly(data):
    text, chunks = data.draw(chunked_documents())
    passages = [Passage(chunk, score=1.0 / (i + 1)) for i, chunk in enumerate(chunks)]
    draft = data.draw(drafts(len(passages)))
    assert_checked(text, passages, draft)
    for rank, p in enumerate(passages, start=1):
        out = passage_out(p, rank)
        assert out.quote == text[out.start : out.end] == out.text == p.chunk.text


@pytest.mark.unit
@pytest.mark.parametrize(
    "answer",
    [
        "Svar [1000] her [1].",  # four digits: neither kept as a citation nor removed
        "Svar [2[999]] her [1].",  # removing [999] joins "[2" and "]" into a new marker
    ],
)
def test_check_markers_leaves_no_dangling_marker(answer):
    text = "Kommunen planter træer. Borgerne cykler mere."
    passages = [
        Passage(make_chunk(text, 0, 0, 23), 1.0),
        Passage(make_chunk(text, 1, 24, len(text)), 0.5),
    ]
    checked = check_markers(Draft(text=answer), passages)
    ids = {c.id for c in checked.citations}
    assert {int(n) for n in ANY_MARKER.findall(checked.text)} == ids, checked.text


@pytest.mark.unit
def test_check_markers_without_passages_removes_every_marker():
    checked = check_markers(Draft(text="Svar [1] og [2,3] samt [0]."), [])
    assert checked.citations == [] and checked.removed == ["[1]", "[2]", "[3]", "[0]"]
    assert not ANY_MARKER.search(checked.text)


# --- through the index -----------------------------------------------------------------------
DOCUMENTS = st.lists(
    st.one_of(WORDS, SEPARATORS, st.text(max_size=8), st.sampled_from(["\n\n3. Kvartal 2025\n"])),
    min_size=1,
    max_size=120,
).map("".join)


@pytest.mark.integration
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=DOCUMENTS, data=st.data())
def test_stored_documents_cite_exactly(fake_core, tmp_path, document, data):
    """Arbitrary text through loader, cleaning, chunking, Chroma and back: every passage and
    citation quotes the stored text exactly, and so do the stored units."""
    from assistant.errors import IngestionError
    from assistant.indexer import ingest_one
    from ingestion.manifest import ManifestEntry
    from vectorstore.filters import SearchFilter

    path = tmp_path / "egenskab.txt"
    path.write_text(document, encoding="utf-8")
    entry = ManifestEntry(file=path.name, title="Egenskab", language="da", audience="public")
    store = fake_core.store
    try:
        ingest_one(
            path, entry, settings=fake_core.settings, store=store, embedder=fake_core.embedder
        )
    except IngestionError:
        return  # nothing indexable (all whitespace, control characters): refused, not stored
    stored = store.get_document("egenskab").text
    chunks = store.chunks_where(SearchFilter(audience="public"))
    assert chunks and all(c.version == store.version_of("egenskab") for c in chunks)
    passages = [Passage(c, score=1.0) for c in chunks]
    for rank, p in enumerate(passages, start=1):
        out = passage_out(p, rank)
        assert out.quote == stored[out.start : out.end] == p.chunk.text
    assert_checked(stored, passages, data.draw(drafts(len(passages), garbage=False)))
    units = store.unit_vectors([c.chunk_id for c in chunks])
    for chunk in chunks:
        for unit in units.get(chunk.chunk_id, []):
            assert chunk.start <= unit.start < unit.end <= chunk.end
            piece = stored[unit.start : unit.end]
            assert piece and piece == piece.strip()
