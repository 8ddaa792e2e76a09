"""API keys: creating, storing, listing, revoking and checking them. Knows nothing about HTTP.

A key looks like ``sa_<id>_<secret>``. The 8-hex-digit ``id`` is not secret: it names the record
so that checking a key costs one scrypt, not one per stored key. Records keep only
``scrypt(secret, per-key salt)``; a key that passed is remembered by its SHA-256 for as long as
its record is unchanged, so steady traffic costs a dictionary lookup.

Keys come from two places:

- ``data_dir/keys.json``, written by ``strategy-assistant keys create|revoke`` (atomically, mode
  0600, under a lock file) and re-read whenever it changes, so every worker honours a revocation
  at its next request;
- ``settings.api_keys`` (``SA_API_KEYS``, a JSON list), each ``role:name:scrypt.<id>.<salt>.<hash>``
  as printed by ``keys create --for-settings``, or ``role:name:SECRET`` with a plain secret of at
  least 20 characters (compared as SHA-256 digests in constant time).

Who a caller is follows from the key alone. No token, or the literal token ``public`` (for
OpenAI clients that refuse to run without a key), is the public; any other token must match a
key or it is refused — a mistyped key never silently becomes a public caller.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from assistant.errors import AssistantError
from assistant.models import Audience

Role = Literal["staff", "admin"]
ROLES: tuple[Role, ...] = ("staff", "admin")
PUBLIC_TOKEN = "public"
KEY_PREFIX = "sa_"
ALGORITHM = "scrypt"  # n=2**14, r=8, p=1, 32-byte output: ~16 MB and a few tens of ms per check
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_TOKEN = re.compile(r"^sa_([0-9a-f]{8})_([A-Za-z0-9_-]{32,})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PLAIN_SECRET = 20
_VERIFIED_MAX = 4096


class InvalidApiKey(AssistantError):
    """The caller sent a key that matches no active key (unknown, mistyped or revoked)."""

    status = 401
    code = "invalid_api_key"


class NotAllowed(AssistantError):
    """The caller is known but its role may not do this."""

    status = 403
    code = "forbidden"


class AuthenticationRequired(AssistantError):
    """The operation needs a key and none was sent."""

    status = 401
    code = "authentication_required"


class KeyStoreError(AssistantError):
    """The key file or a configured key is unreadable or invalid; nothing is let in."""

    status = 500
    code = "key_store_error"


class KeyConflict(AssistantError):
    status = 409
    code = "key_exists"


class UnknownKey(AssistantError):
    status = 404
    code = "unknown_key"


@dataclass(frozen=True)
class Caller:
    """Who is asking. ``role`` decides everything; ``name`` names the key (None for public)."""

    role: Literal["public", "staff", "admin"] = "public"
    name: str | None = None

    @property
    def audience(self) -> Audience:
        return "public" if self.role == "public" else "staff"

    @property
    def is_staff(self) -> bool:
        return self.role != "public"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


PUBLIC = Caller()


@dataclass(frozen=True)
class KeyRecord:
    """A stored key: its hash, never the key. ``source`` is ``file`` or ``settings``."""

    name: str
    role: Role
    key_id: str
    salt: str
    hash: str
    created: str = ""
    source: str = "file"

    def check(self, secret: str) -> bool:
        return hmac.compare_digest(_scrypt(secret, self.salt), self.hash)

    def hash_string(self) -> str:
        """The ``scrypt.<id>.<salt>.<hash>`` form that ``SA_API_KEYS`` accepts."""
        return f"{ALGORITHM}.{self.key_id}.{self.salt}.{self.hash}"

    def to_json(self) -> dict[str, str]:
        data = asdict(self)
        data.pop("source")
        data["algorithm"] = ALGORITHM
        return data


@dataclass(frozen=True)
class PlainKey:
    """A plain secret from the settings, kept as its SHA-256 digest."""

    name: str
    role: Role
    digest: bytes
    source: str = "settings"
    created: str = ""


def _scrypt(secret: str, salt_hex: str) -> str:
    return hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt_hex), **_SCRYPT).hex()


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise KeyStoreError(
            f"invalid key name {name!r}: use up to 64 letters, digits, '.', '_', '@' or '-'"
        )
    return name


def _check_role(role: str) -> Role:
    if role not in ROLES:
        raise KeyStoreError(f"invalid role {role!r}: use one of {', '.join(ROLES)}")
    return role  # type: ignore[return-value]


def new_key(role: str, name: str | None = None) -> tuple[KeyRecord, str]:
    """A fresh key: the record to store and the key to hand out (shown once, stored nowhere)."""
    role = _check_role(role)
    key_id = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    record = KeyRecord(
        name=_check_name(name or f"{role}-{key_id}"),
        role=role,
        key_id=key_id,
        salt=salt,
        hash=_scrypt(secret, salt),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return record, f"{KEY_PREFIX}{key_id}_{secret}"


def parse_settings_key(entry: str) -> KeyRecord | PlainKey:
    """Parse one ``SA_API_KEYS`` entry: ``role:name:scrypt.<id>.<salt>.<hash>`` (a hash printed
    by ``keys create --for-settings``) or ``role:name:SECRET`` (a plain secret)."""
    role, _, rest = entry.partition(":")
    name, _, value = rest.partition(":")
    if not value:
        raise KeyStoreError("an api_keys entry must look like role:name:secret-or-hash")
    role, name = _check_role(role.strip()), _check_name(name.strip())
    parts = value.split(".")
    if parts[0] == ALGORITHM and len(parts) == 4:
        _, key_id, salt, digest = parts
        if not (re.fullmatch(r"[0-9a-f]{8}", key_id) and re.fullmatch(r"[0-9a-f]{64}", digest)):
            raise KeyStoreError(f"api_keys entry {name!r}: malformed scrypt hash")
        try:
            bytes.fromhex(salt)
        except ValueError as exc:
            raise KeyStoreError(f"api_keys entry {name!r}: malformed salt") from exc
        return KeyRecord(name, role, key_id, salt, digest, source="settings")
    if len(value) < MIN_PLAIN_SECRET:
        raise KeyStoreError(
            f"api_keys entry {name!r}: a plain secret needs {MIN_PLAIN_SECRET}+ characters"
        )
    return PlainKey(name, role, hashlib.sha256(value.encode()).digest())


class KeyFile:
    """``keys.json``: the keys made by the CLI. Writes are atomic and serialised by a lock."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def load(self) -> list[KeyRecord]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"cannot read the key file {self.path}: {exc}") from exc
        try:
            return [
                KeyRecord(
                    name=k["name"],
                    role=_check_role(k["role"]),
                    key_id=k["key_id"],
                    salt=k["salt"],
                    hash=k["hash"],
                    created=k.get("created", ""),
                )
                for k in data["keys"]
            ]
        except (KeyError, TypeError) as exc:
            raise KeyStoreError(f"the key file {self.path} is malformed: {exc}") from exc

    def create(self, role: str, name: str | None = None) -> tuple[KeyRecord, str]:
        """Store a new key; returns its record and the key (the only time it exists in clear)."""
        with self._locked():
            records = self.load()
            record, token = new_key(role, name)
            if any(r.name == record.name for r in records):
                raise KeyConflict(f"a key named {record.name!r} exists already", name=record.name)
            self._write([*records, record])
        return record, token

    def revoke(self, name: str) -> KeyRecord:
        with self._locked():
            records = self.load()
            gone = [r for r in records if r.name == name]
            if not gone:
                raise UnknownKey(f"no key named {name!r} in {self.path}", name=name)
            self._write([r for r in records if r.name != name])
        return gone[0]

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self.path.with_name(self.path.name + ".lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise KeyStoreError(f"cannot lock the key file {lock}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, records: Sequence[KeyRecord]) -> None:
        payload = json.dumps({"version": 1, "keys": [r.to_json() for r in records]}, indent=2)
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys.", suffix=".tmp")
        except OSError as exc:
            raise KeyStoreError(
                f"cannot write the key file {self.path}: {exc.strerror or exc}"
            ) from exc
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(payload + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise KeyStoreError(
                f"cannot write the key file {self.path}: {exc.strerror or exc}"
            ) from exc
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class KeyRing:
    """Checks bearer tokens against the key file and the configured keys. Thread-safe."""

    def __init__(self, key_file: Path, settings_keys: Sequence[str] = ()) -> None:
        self.file = KeyFile(key_file)
        parsed = [parse_settings_key(k) for k in settings_keys]
        self._settings_records = [k for k in parsed if isinstance(k, KeyRecord)]
        self._plain = [k for k in parsed if isinstance(k, PlainKey)]
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._file_records: list[KeyRecord] = []
        self._verified: dict[bytes, KeyRecord] = {}

    @classmethod
    def from_settings(cls, settings) -> KeyRing:
        return cls(
            settings.data_dir / "keys.json", [k.get_secret_value() for k in settings.api_keys]
        )

    def records(self) -> list[KeyRecord | PlainKey]:
        """Every active key (file first), for listing. Holds hashes: never print them."""
        return [*self._current_file_records(), *self._settings_records, *self._plain]

    def _current_file_records(self) -> list[KeyRecord]:
        stamp = self.file.stamp()
        with self._lock:
            if stamp != self._stamp:
                self._file_records = self.file.load()
                self._stamp = stamp
                self._verified.clear()
            return self._file_records

    def authenticate(self, token: str | None) -> Caller:
        """The caller a bearer token stands for.

        :raises InvalidApiKey: the token is neither empty, ``public``, nor an active key.
        """
        token = (token or "").strip()
        if not token or token == PUBLIC_TOKEN:
            return PUBLIC
        record = self._match_hashed(token) or self._match_plain(token)
        if record is None:
            raise InvalidApiKey("the API key is not valid (unknown, mistyped or revoked)")
        return Caller(role=record.role, name=record.name)

    def _match_hashed(self, token: str) -> KeyRecord | None:
        parsed = _TOKEN.match(token)
        if parsed is None:
            return None
        key_id, secret = parsed.groups()
        candidates = [
            r
            for r in [*self._current_file_records(), *self._settings_records]
            if r.key_id == key_id
        ]
        fingerprint = hashlib.sha256(token.encode()).digest()
        with self._lock:
            known = self._verified.get(fingerprint)
        if known is not None and known in candidates:
            return known
        for record in candidates:
            if record.check(secret):
                with self._lock:
                    if len(self._verified) >= _VERIFIED_MAX:
                        self._verified.clear()
                    self._verified[fingerprint] = record
                return record
        return None

    def _match_plain(self, token: str) -> PlainKey | None:
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        for key in self._plain:  # no early exit: the time taken does not depend on which matched
            if hmac.compare_digest(digest, key.digest):
                found = key
        return found


__all__ = [
    "Caller",
    "PUBLIC",
    "KeyFile",
    "KeyRing",
    "KeyRecord",
    "InvalidApiKey",
    "NotAllowed",
    "AuthenticationRequired",
    "new_key",
]
