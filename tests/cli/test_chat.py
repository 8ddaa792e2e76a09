"""The interactive ``chat`` command: answers with citations below, follow-ups, /clear, errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from assistant.cli import app

pytestmark = pytest.mark.integration


@pytest.fixture
def demo_env(demo_core, monkeypatch):
    """Point the CLI at the session's demo index."""
    from assistant.settings import get_settings

    monkeypatch.setenv("SA_DATA_DIR", str(demo_core.settings.data_dir))
    monkeypatch.setenv("SA_EMBEDDING_CACHE_PATH", str(demo_core.settings.cache_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_chat_answers_follow_ups_and_shows_citations(demo_env):
    session = "\n".join(
        [
            "Hvad sker der i 2. kvartal under grøn mobilitet?",
            "Og i tredje kvartal?",
            "/clear",
            "x" * 5000,
            "När ska Borlänge vara klimatneutralt?",
            "",
        ]
    )
    result = CliRunner().invoke(app, ["chat", "--audience", "staff"], input=session + "\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("Ifølge") >= 2  # two Danish answers
    assert "3.1.2 Grøn Mobilitet > 2. Kvartal 2025" in out
    assert "3.1.2 Grøn Mobilitet > 3. Kvartal 2025" in out  # the follow-up kept its subject
    assert "[1]" in out and "Center for Trafik" in out  # citation list under the answer
    assert "error:" in out and "too long" in out  # a bad question is reported, chat goes on
    assert "Enligt" in out and "2030" in out


def test_chat_as_public_never_shows_staff_text(demo_env):
    result = CliRunner().invoke(
        app,
        ["chat", "--audience", "public"],
        input="Hvornår er projekt 308 på Vintappervej udført?\n\n",
    )
    assert result.exit_code == 0, result.output
    assert "Vintappervej" not in result.output
    assert "Center for Trafik" not in result.output
