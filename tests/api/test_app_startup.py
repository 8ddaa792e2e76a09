"""Start-up: the model, the index and the BM25 index are ready before the first request."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.vectorstore.test_store import put

pytestmark = pytest.mark.unit


def test_the_bm25_index_is_built_before_the_first_request(fake_core):
    from api.main import create_app

    put(fake_core, "doc-a", ["cykelstier ved skolen"], "v1")
    app = create_app(core=fake_core)
    assert fake_core.retriever.lexical.signature is None
    with TestClient(app) as client:
        assert fake_core.retriever.lexical.signature == ("doc-a@v1",)
        assert client.get("/readyz").status_code == 200
