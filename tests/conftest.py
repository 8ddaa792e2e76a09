"""Shared fixtures.

The demo corpus is ingested once per test run with the real default embedder into a temporary
data directory (``demo_core``); its passage embeddings are cached by content hash in
``.pytest_cache`` so repeated local runs skip the model. Tests never touch ``./data``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
DEMO_CORPUS = ROOT / "examples" / "corpus"
EMBEDDING_CACHE = ROOT / ".pytest_cache" / "sa-embeddings.sqlite"
STAFF_DOC = "lyngby-taarbaek-ctmb-indsatser-2025"


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch, tmp_path):
    """No test reads the developer's environment or ./data by accident."""
    for key in list(os.environ):
        if key.startswith("SA_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SA_CONFIG_FILE", str(tmp_path / "absent.toml"))
    from assistant.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def make_settings(data_dir: Path, **overrides):
    from assistant.settings import Settings

    overrides.setdefault("embedding_cache_path", EMBEDDING_CACHE)
    return Settings(data_dir=data_dir, **overrides)


def retriever_with(core, **settings):
    """A retriever over ``core``'s index with some settings changed (e.g. ``glossary=False``),
    its BM25 index built."""
    from assistant.retrieval.retriever import HybridRetriever

    retriever = HybridRetriever(
        core.store, core.embedder, core.settings.model_copy(update=settings)
    )
    retriever.warm_up()
    return retriever


@pytest.fixture(scope="session")
def demo_corpus(tmp_path_factory) -> Path:
    """A private copy of the demo corpus (tests may not modify the checked-in one)."""
    target = tmp_path_factory.mktemp("corpus") / "corpus"
    shutil.copytree(DEMO_CORPUS, target)
    return target


@pytest.fixture(scope="session")
def demo_core(tmp_path_factory, demo_corpus):
    """A Core with the demo corpus ingested by the real default embedder into embedded Chroma."""
    from assistant.core import Core
    from assistant.indexer import ingest_paths

    data_dir = tmp_path_factory.mktemp("demo-data")
    core = Core(make_settings(data_dir))
    report = ingest_paths(
        [demo_corpus], settings=core.settings, store=core.store, embedder=core.embedder
    )
    assert report.count("failed") == 0, report.as_dict()
    core.ingest_report = report
    return core


@pytest.fixture
def fake_core(tmp_path):
    """A Core with a fresh empty index and the deterministic fake embedder."""
    from assistant.core import Core
    from tests.fakes import FakeEmbedder

    core = Core(make_settings(tmp_path / "fake-data", embedding_cache=False))
    core.__dict__["embedder"] = FakeEmbedder()
    return core
