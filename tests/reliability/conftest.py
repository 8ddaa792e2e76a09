"""Fixtures of the reliability tests (helpers live in ``helpers.py``)."""

from __future__ import annotations

import pytest

from tests.conftest import make_settings


@pytest.fixture(scope="module")
def writable_core(tmp_path_factory, demo_corpus):
    """A Core over its own index of the demo corpus (real embedder, cached), for tests that
    upload or delete."""
    from assistant.core import Core
    from assistant.indexer import ingest_paths

    core = Core(make_settings(tmp_path_factory.mktemp("writable-data")))
    report = ingest_paths(
        [demo_corpus], settings=core.settings, store=core.store, embedder=core.embedder
    )
    assert report.count("failed") == 0, report.as_dict()
    return core
