"""Who may do what: no key, a wrong key, staff and admin on every protected route; key storage."""

from __future__ import annotations

import json
import stat

import pytest
from fastapi.testclient import TestClient

from assistant.auth import PUBLIC, InvalidApiKey, KeyFile, KeyRing, new_key

WRONG = {"Authorization": "Bearer sa_00000000_" + "x" * 43}


@pytest.mark.integration
class TestRoutes:
    READ_ROUTES = [
        ("get", "/api/documents", {}),
        ("get", "/api/documents/borlange-miljostrategi", {}),
        (
            "get",
            "/api/documents/borlange-miljostrategi/passage",
            {"params": {"start": 0, "end": 10}},
        ),
        ("get", "/api/search", {"params": {"q": "klimat"}}),
        ("post", "/api/chat", {"json": {"messages": [{"role": "user", "content": "klimat"}]}}),
        ("get", "/v1/models", {}),
        (
            "post",
            "/v1/chat/completions",
            {
                "json": {
                    "model": "strategy-assistant",
                    "messages": [{"role": "user", "content": "hej"}],
                }
            },
        ),
    ]

    @pytest.mark.parametrize("method,path,kwargs", READ_ROUTES)
    def test_read_routes(self, client, api_keys, method, path, kwargs):
        call = getattr(client, method)
        assert call(path, **kwargs).status_code == 200
        assert call(path, headers={"Authorization": "Bearer public"}, **kwargs).status_code == 200
        assert call(path, headers=api_keys.staff_headers, **kwargs).status_code == 200
        assert call(path, headers=api_keys.admin_headers, **kwargs).status_code == 200
        for bad in (
            WRONG,
            {"Authorization": "Bearer nonsense"},
            {"Authorization": f"Basic {api_keys.staff}"},
        ):
            r = call(path, headers=bad, **kwargs)
            assert r.status_code == 401, (path, bad)
            assert r.json()["error"]["code"] == "invalid_api_key"
            assert r.headers["www-authenticate"] == "Bearer"

    def test_upload_needs_admin(self, client, api_keys):
        files = {"files": ("note.txt", b"En kort note om klima.", "text/plain")}
        assert client.post("/api/documents", files=files).status_code == 401
        assert client.post("/api/documents", files=files, headers=WRONG).status_code == 401
        r = client.post("/api/documents", files=files, headers=api_keys.staff_headers)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"

    def test_delete_needs_admin(self, client, api_keys):
        path = "/api/documents/borlange-miljostrategi"
        anonymous = client.delete(path)
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "authentication_required"
        assert client.delete(path, headers=WRONG).status_code == 401
        assert client.delete(path, headers=api_keys.staff_headers).status_code == 403
        assert client.get(path).status_code == 200  # still there
        # admin on a missing document: the route is allowed, the document is not there
        r = client.delete("/api/documents/no-such-doc", headers=api_keys.admin_headers)
        assert r.status_code == 404

    def test_health_and_metrics_need_no_key(self, client):
        for path in ("/healthz", "/readyz", "/metrics"):
            assert client.get(path).status_code == 200

    def test_revoked_key_is_refused_at_once(self, demo_core, client):
        key_file = KeyFile(demo_core.settings.data_dir / "keys.json")
        _, key = key_file.create("staff", "short-lived")
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/api/documents", headers=headers).status_code == 200
        key_file.revoke("short-lived")
        r = client.get("/api/documents", headers=headers)
        assert r.status_code == 401


@pytest.mark.unit
class TestKeyStore:
    def test_file_holds_hashes_only_and_is_private(self, tmp_path):
        key_file = KeyFile(tmp_path / "keys.json")
        record, key = key_file.create("admin", "ops")
        raw = (tmp_path / "keys.json").read_text()
        secret = key.split("_", 2)[2]
        assert secret not in raw and key not in raw
        assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600
        stored = json.loads(raw)["keys"][0]
        assert stored["name"] == "ops" and stored["role"] == "admin" and stored["salt"]
        assert not list(tmp_path.glob(".keys.*.tmp"))

    def test_authenticate(self, tmp_path):
        ring = KeyRing(tmp_path / "keys.json")
        _, staff = KeyFile(tmp_path / "keys.json").create("staff", "a")
        _, admin = KeyFile(tmp_path / "keys.json").create("admin", "b")
        assert ring.authenticate(None) is PUBLIC
        assert ring.authenticate("") is PUBLIC
        assert ring.authenticate("public") is PUBLIC
        assert ring.authenticate(staff).role == "staff"
        assert ring.authenticate(admin).is_admin
        for wrong in (
            staff[:-1] + ("A" if staff[-1] != "A" else "B"),
            "sa_",
            "Public",
            admin + "x",
        ):
            with pytest.raises(InvalidApiKey):
                ring.authenticate(wrong)

    def test_same_secret_different_salt(self):
        a, _ = new_key("staff", "a")
        b, _ = new_key("staff", "b")
        assert a.salt != b.salt and a.hash != b.hash

    def test_duplicate_names_and_unknown_revoke(self, tmp_path):
        from assistant.auth import KeyConflict, UnknownKey

        key_file = KeyFile(tmp_path / "keys.json")
        key_file.create("staff", "x")
        with pytest.raises(KeyConflict):
            key_file.create("admin", "x")
        with pytest.raises(UnknownKey):
            key_file.revoke("y")

    def test_settings_keys_hashed_and_plain(self, tmp_path):
        record, key = new_key("admin", "deploy")
        ring = KeyRing(
            tmp_path / "keys.json",
            [f"admin:deploy:{record.hash_string()}", "staff:bot:a-long-plain-secret-of-30-chars"],
        )
        assert ring.authenticate(key).role == "admin"
        assert ring.authenticate("a-long-plain-secret-of-30-chars").role == "staff"
        with pytest.raises(InvalidApiKey):
            ring.authenticate("a-long-plain-secret-of-30-charS")

    @pytest.mark.parametrize(
        "entry",
        [
            "staff:x",
            "boss:x:a-long-plain-secret-of-30-chars",
            "staff:x:short",
            "staff:x:scrypt.1.2.3",
        ],
    )
    def test_bad_settings_keys_are_refused(self, tmp_path, entry):
        from assistant.auth import KeyStoreError

        with pytest.raises(KeyStoreError):
            KeyRing(tmp_path / "keys.json", [entry])

    def test_corrupt_key_file_lets_nobody_in(self, tmp_path):
        from assistant.auth import KeyStoreError

        (tmp_path / "keys.json").write_text("{not json")
        ring = KeyRing(tmp_path / "keys.json")
        assert ring.authenticate(None) is PUBLIC
        with pytest.raises(KeyStoreError):
            ring.authenticate("sa_00000000_" + "x" * 43)


@pytest.mark.integration
def test_settings_key_works_over_http(demo_core):
    from pydantic import SecretStr

    from api.main import create_app
    from tests.api.conftest import app_settings

    entry = SecretStr("admin:env-admin:an-admin-secret-from-the-env")
    settings = app_settings(demo_core, api_keys=[entry])
    with TestClient(create_app(core=demo_core, settings=settings)) as c:
        headers = {"Authorization": "Bearer an-admin-secret-from-the-env"}
        r = c.delete("/api/documents/no-such-doc", headers=headers)
        assert r.status_code == 404  # past authorisation


@pytest.mark.unit
def test_keys_cli(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.setenv("SA_DATA_DIR", str(tmp_path))
    from assistant.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--role", "admin", "--name", "ops"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    assert key.startswith("sa_")
    listed = runner.invoke(app, ["keys", "list", "--json"])
    rows = json.loads(listed.stdout)
    assert rows == [
        {"name": "ops", "role": "admin", "created": rows[0]["created"], "source": "file"}
    ]
    assert key not in listed.stdout and "hash" not in listed.stdout
    assert KeyRing(tmp_path / "keys.json").authenticate(key).is_admin
    assert runner.invoke(app, ["keys", "revoke", "ops"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout) == []
    settings_line = runner.invoke(app, ["keys", "create", "--role", "staff", "--for-settings"])
    assert settings_line.exit_code == 0
    assert not (tmp_path / "keys.json").read_text().count("staff")
