"""Disk faults for test_disk_faults.py, run inside a private mount namespace.

``unshare --mount --map-root-user python -m tests.reliability.disk_scenarios SCENARIO WORKDIR``
mounts a small tmpfs at ``WORKDIR/mnt``, visible to this process and its children only and gone
when they exit (nothing to unmount, nothing left behind after a crash). The kernel then gives
real ``ENOSPC`` (the tmpfs filled up) and ``EROFS`` (remounted read-only) to Chroma's SQLite, the
embedding cache, key files and uploads alike — which no in-process monkeypatching can do for
Chroma's Rust core.

Each scenario records what it observes (exit codes, output, HTTP statuses and bodies) and
prints it as one JSON line; the test asserts on it. Nothing here asserts.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

from tests.reliability.helpers import CLI, cli_env, close_store, read_state

TMPFS_SIZE = "32m"
# Free bytes left on the tmpfs before the full ingest: enough to open the index and store the
# small documents, not the large CTMB document (126 chunks, 688 units).
HEADROOM = 1_000_000
QUESTION = {"messages": [{"role": "user", "content": "När ska Borlänge vara klimatneutralt?"}]}


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, text=True)


def mount_tmpfs(path: Path, size: str = TMPFS_SIZE) -> None:
    path.mkdir(parents=True, exist_ok=True)
    sh("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))


def fill(path: Path, headroom: int = 0) -> None:
    """Take all free space of the file system at ``path`` but ``headroom`` bytes (one more
    ``filler-N`` file each call; :func:`free` removes them)."""
    n = len(list(path.glob("filler-*")))
    with (path / f"filler-{n}").open("wb") as out:
        st = os.statvfs(path)
        remaining = max(st.f_bavail * st.f_frsize - headroom, 0)
        block = b"\0" * (1 << 20)
        with contextlib.suppress(OSError):  # full already
            while remaining > 0:
                remaining -= out.write(block[: min(len(block), remaining)])
            out.flush()


def free(path: Path) -> None:
    for filler in path.glob("filler-*"):
        filler.unlink()


def cli(env: dict[str, str], *args: str) -> dict:
    result = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=300)
    return {"rc": result.returncode, "stdout": result.stdout, "stderr": result.stderr}


def inspect(env: dict[str, str]) -> dict:
    """The raw index state, read by a fresh process (this one may hold a broken Chroma)."""
    code = "from tests.reliability.disk_scenarios import _inspect_main; _inspect_main()"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode:
        return {"error": result.stderr[-2000:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def _inspect_main() -> None:
    from assistant.core import Core

    core = Core()
    state = read_state(core.store)
    close_store(core.store)
    print(
        json.dumps(
            {
                "registry": state.registry,
                "chunks": state.chunk_vkeys,
                "units": state.unit_vkeys,
                "chunk_ids": state.chunk_ids,
            }
        )
    )


def http(call) -> dict:
    try:
        r = call()
        return {"status": r.status_code, "body": r.text}
    except Exception as exc:  # the test client re-raises server errors; record them
        return {"status": None, "body": f"{type(exc).__name__}: {exc}"}


def api_calls(c, admin: str, label: str) -> dict:
    headers = {"Authorization": f"Bearer {admin}"}
    upload = [("files", (f"ny-{label}.txt", b"Ny plan for klima i Testby.", "text/plain"))]
    return {
        "readyz": http(lambda: c.get("/readyz")),
        "documents": http(lambda: c.get("/api/documents")),
        "chat": http(lambda: c.post("/api/chat", json=QUESTION)),
        "upload": http(lambda: c.post("/api/documents", files=upload, headers=headers)),
    }


def open_api():
    """The API over the settings in the environment, as ``serve`` would build it."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from assistant.core import Core
    from assistant.settings import get_settings

    get_settings.cache_clear()
    core = Core()
    return core, TestClient(create_app(core=core), raise_server_exceptions=False)


# --- scenarios -------------------------------------------------------------------------------
def disk_full(work: Path) -> dict:
    """Build a small index, fill the disk, ingest the rest, use the API, free the disk."""
    from assistant.auth import KeyFile

    mnt = work / "mnt"
    mount_tmpfs(mnt)
    data = mnt / "data"
    env = cli_env(data, work / "cache.sqlite", SA_RATE_LIMIT_PER_MINUTE="0")
    os.environ.update(env)
    obs: dict = {"first": cli(env, "ingest", str(work / "first"))}
    _, admin = KeyFile(data / "keys.json").create("admin", "ops")
    obs["before"] = inspect(env)
    fill(mnt, HEADROOM)
    obs["ingest"] = cli(env, "ingest", str(work / "corpus"))
    fill(mnt)
    obs["ingest_full"] = cli(env, "ingest", str(work / "corpus"))
    obs["documents"] = cli(env, "documents", "--json")
    obs["keys"] = cli(env, "keys", "create", "--role", "staff")
    core, client = open_api()
    with client as c:
        obs["api_full"] = api_calls(c, admin, "full")
        free(mnt)
        obs["api_freed"] = api_calls(c, admin, "freed")
    close_store_quietly(core)
    obs["ingest_after"] = cli(env, "ingest", str(work / "corpus"), "--json")
    obs["after"] = inspect(env)
    return obs


def read_only(work: Path) -> dict:
    """Build the index, remount the data directory read-only, use CLI and API, remount rw."""
    from assistant.auth import KeyFile

    mnt = work / "mnt"
    mount_tmpfs(mnt)
    data = mnt / "data"
    env = cli_env(data, work / "cache.sqlite", SA_RATE_LIMIT_PER_MINUTE="0")
    os.environ.update(env)
    obs: dict = {"first": cli(env, "ingest", str(work / "corpus"))}
    _, admin = KeyFile(data / "keys.json").create("admin", "ops")
    obs["before"] = inspect(env)
    sh("mount", "-o", "remount,ro", str(mnt))
    obs["cli"] = {
        "ingest": cli(env, "ingest", str(work / "corpus")),
        "documents": cli(env, "documents"),
        "search": cli(env, "search", "klimat"),
        "keys": cli(env, "keys", "create", "--role", "staff"),
    }
    core, client = open_api()
    with client as c:
        obs["api_ro"] = api_calls(c, admin, "ro")
        sh("mount", "-o", "remount,rw", str(mnt))
        obs["api_rw"] = api_calls(c, admin, "rw")
    close_store_quietly(core)
    obs["after"] = inspect(env)
    return obs


def cache_full(work: Path) -> dict:
    """The embedding cache lives on a full disk; the index does not."""
    mnt = work / "mnt"
    mount_tmpfs(mnt, "1m")
    fill(mnt)
    env = cli_env(work / "data", mnt / "embeddings.sqlite")
    return {"ingest": cli(env, "ingest", str(work / "small"), "--json"), "after": inspect(env)}


def close_store_quietly(core) -> None:
    """Release the API's Chroma before other processes use the directory."""
    store = core.__dict__.get("store")
    if store is not None:
        with contextlib.suppress(Exception):
            close_store(store)


SCENARIOS = {"disk_full": disk_full, "read_only": read_only, "cache_full": cache_full}


def main() -> None:
    scenario, work = sys.argv[1], Path(sys.argv[2])
    try:
        obs = SCENARIOS[scenario](work)
    except Exception:
        obs = {"crashed": traceback.format_exc()}
    print(json.dumps(obs, ensure_ascii=False))


if __name__ == "__main__":
    main()
