"""A full disk and a read-only data directory: clear one-line CLI errors, 503 from the API (never
500), no corruption, and service again once the disk is writable — without a restart.

How the faults are made: tests run as root, so permissions (chmod 0500) would not stop anything.
Instead each scenario runs in a private mount namespace (``unshare --mount --map-root-user``,
see disk_scenarios.py) with a small tmpfs as data directory, which the scenario fills up or
remounts read-only. The kernel's real ENOSPC/EROFS reach Chroma's Rust/SQLite core, which no
in-process monkeypatching could; the mount is private to the scenario's processes and vanishes
with them. A data directory that is a file needs no namespace and is tested in-process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import app_settings
from tests.conftest import ROOT, make_settings
from tests.reliability.helpers import (
    assert_one_line_error,
    cli_env,
    copy_cache,
    demo_copy,
    run_cli,
)
from vectorstore.filters import SearchFilter

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEMO_DOCS = 5
SMALL_DOC = "Solceller paa raadhuset\n\nTestby saetter solceller paa raadhusets tag i 2027.\n"


def make_workdir(tmp_path_factory, name: str) -> Path:
    """Inputs of a scenario: the demo corpus, its first document alone, a small new document
    and a copy of the embedding cache (``demo_core`` has filled it with the demo corpus)."""
    work = tmp_path_factory.mktemp(name)
    corpus = demo_copy(work / "corpus")
    first = work / "first"
    first.mkdir()
    for file in ("borlange-miljostrategi.txt", "corpus.toml"):
        shutil.copy(corpus / file, first / file)
    small = work / "small"
    small.mkdir()
    (small / "solceller.txt").write_text(SMALL_DOC, encoding="utf-8")
    copy_cache(work / "cache.sqlite")
    return work


def run_scenario(name: str, work: Path) -> dict:
    command = [
        "unshare",
        "--mount",
        "--map-root-user",
        "--propagation",
        "private",
        sys.executable,
        "-m",
        "tests.reliability.disk_scenarios",
        name,
        str(work),
    ]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=cli_env(work / "unused"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"cannot run a mount namespace here:\n{result.stderr[-3000:]}"
    obs = json.loads(result.stdout.strip().splitlines()[-1])
    assert "crashed" not in obs, obs.get("crashed")
    return obs


def completed(obs: dict) -> SimpleNamespace:
    return SimpleNamespace(returncode=obs["rc"], stdout=obs["stdout"], stderr=obs["stderr"])


def assert_cli_ok(obs: dict) -> None:
    assert obs["rc"] == 0, obs["stderr"][-2000:]


def assert_never_500(calls: dict) -> None:
    for name, call in calls.items():
        assert call["status"] not in (None, 500), (name, call)
        if call["status"] >= 400:
            error = json.loads(call["body"]).get("error") or json.loads(call["body"])
            assert error.get("message") or error.get("checks"), (name, call)


def assert_serving(calls: dict) -> None:
    assert calls["readyz"]["status"] == 200, calls["readyz"]
    assert calls["documents"]["status"] == 200, calls["documents"]
    assert calls["chat"]["status"] == 200 and json.loads(calls["chat"]["body"])["found"]
    assert calls["upload"]["status"] == 201, calls["upload"]


def assert_consistent(state: dict) -> None:
    assert "error" not in state, state.get("error")
    chunks, units = Counter(state["chunks"]), Counter(state["units"])
    registered = {f"{d}@{md['version']}" for d, md in state["registry"].items()}
    for doc_id, md in state["registry"].items():
        assert chunks[f"{doc_id}@{md['version']}"] == md["chunk_count"], doc_id
        assert units[f"{doc_id}@{md['version']}"] > 0, doc_id
    assert set(chunks) <= registered and set(units) <= registered, "orphans left"
    assert len(state["chunk_ids"]) == len(set(state["chunk_ids"]))


# --- disk full -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def full(tmp_path_factory, demo_core) -> dict:
    return run_scenario("disk_full", make_workdir(tmp_path_factory, "disk-full"))


def test_disk_full_in_the_middle_of_an_ingest_stops_it_with_one_line(full):
    """Later files cannot succeed either: one clear line and a non-zero exit, not every later
    file reported as failed (each after being embedded for nothing) and exit 0."""
    assert_cli_ok(full["first"])
    assert_one_line_error(completed(full["ingest"]), "Chroma at")


def test_disk_full_cli_commands_fail_with_one_line(full):
    assert_one_line_error(completed(full["ingest_full"]), "disk is full")
    if full["documents"]["rc"]:
        assert_one_line_error(completed(full["documents"]), "disk is full")
    assert_one_line_error(completed(full["keys"]), "keys.json")


def test_disk_full_api_answers_503_never_500(full):
    assert_never_500(full["api_full"])
    assert full["api_full"]["readyz"]["status"] == 503
    assert full["api_full"]["upload"]["status"] in (503, 507)


def test_disk_full_api_serves_again_once_space_is_freed(full):
    assert_serving(full["api_freed"])  # the same app object: no restart


def test_disk_full_leaves_a_consistent_index(full, demo_core):
    assert_cli_ok(full["ingest_after"])
    after, before = full["after"], full["before"]["registry"]
    assert_consistent(after)
    assert after["registry"]["borlange-miljostrategi"] == before["borlange-miljostrategi"]
    assert len([d for d in after["registry"] if not d.startswith("ny-")]) == DEMO_DOCS
    assert_other_index_unharmed(demo_core)


# --- read-only -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def read_only(tmp_path_factory, demo_core) -> dict:
    return run_scenario("read_only", make_workdir(tmp_path_factory, "read-only"))


@pytest.mark.parametrize("command", ["ingest", "documents", "search", "keys"])
def test_read_only_cli_commands_fail_with_one_line(read_only, command):
    assert_cli_ok(read_only["first"])
    line = assert_one_line_error(completed(read_only["cli"][command]))
    assert "read" in line.casefold() and "only" in line.casefold(), line


def test_read_only_api_answers_503_never_500(read_only):
    assert_never_500(read_only["api_ro"])
    for name in ("readyz", "documents", "chat", "upload"):
        assert read_only["api_ro"][name]["status"] == 503, (name, read_only["api_ro"][name])


def test_read_only_api_serves_again_once_writable(read_only):
    assert_serving(read_only["api_rw"])  # the same app object: no restart


def test_read_only_leaves_the_index_intact(read_only, demo_core):
    after = read_only["after"]
    assert_consistent(after)
    stored = {k: v for k, v in after["registry"].items() if not k.startswith("ny-")}
    assert stored == read_only["before"]["registry"]
    assert_other_index_unharmed(demo_core)


# --- the embedding cache, a data directory that is a file -------------------------------------
def test_full_embedding_cache_degrades_to_no_cache(tmp_path_factory, demo_core):
    obs = run_scenario("cache_full", make_workdir(tmp_path_factory, "cache-full"))
    ingest = obs["ingest"]
    assert_cli_ok(ingest)
    assert json.loads(ingest["stdout"])["summary"]["added"] == 1
    assert "embedding cache" in ingest["stderr"] and "Traceback" not in ingest["stderr"]
    assert_consistent(obs["after"])
    assert list(obs["after"]["registry"]) == ["solceller"]


def test_data_directory_that_is_a_file(tmp_path, demo_corpus, demo_core):
    from api.main import create_app
    from assistant.core import Core

    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("not a directory\n")
    env = cli_env(not_a_dir)
    for args in (
        ("ingest", str(demo_corpus)),
        ("documents",),
        ("search", "klimat"),
        ("keys", "create", "--role", "staff"),
    ):
        assert_one_line_error(run_cli(*args, env=env), str(not_a_dir))
    core = Core(make_settings(not_a_dir))
    with TestClient(create_app(core=core, settings=app_settings(core))) as c:
        for r in (
            c.get("/readyz"),
            c.get("/api/documents"),
            c.post("/api/chat", json={"messages": [{"role": "user", "content": "klimat"}]}),
        ):
            assert r.status_code == 503, r.text
            assert str(tmp_path) not in r.text
    assert not_a_dir.read_text() == "not a directory\n"
    assert_other_index_unharmed(demo_core)


def assert_other_index_unharmed(demo_core) -> None:
    """An index in another directory (the session's demo index) still opens and answers."""
    assert len(demo_core.store.documents()) == DEMO_DOCS
    hits = demo_core.retriever.search("klimatneutralt 2030", SearchFilter(audience="public"))
    assert hits
