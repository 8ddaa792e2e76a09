"""Per-client request limits: a sliding one-minute window per key.

One worker counts in memory; several workers on one machine count in a shared SQLite file in the
data directory, so the limit holds for the service, not per process. Behind a reverse proxy,
start uvicorn with proxy headers trusted for the proxy's address so the client IP is the real one.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from assistant.errors import AssistantError

WINDOW_S = 60.0
_PRUNE_EVERY = 1024


class RateLimited(AssistantError):
    """Too many requests from one client; ``retry_after`` seconds until the next is accepted."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many requests; try again in {retry_after} s", retry_after=retry_after
        )
        self.retry_after = retry_after


class SlidingWindowLimiter:
    """At most ``limit`` hits per key in any ``window_s`` seconds (``limit`` 0: no limit)."""

    def __init__(
        self,
        limit: int,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._since_prune = 0

    def hit(self, key: str) -> None:
        """Count one request for ``key``.

        :raises RateLimited: the key used up its window; the hit is not counted.
        """
        if self.limit <= 0:
            return
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                raise RateLimited(max(1, math.ceil(hits[0] + self.window_s - now)))
            hits.append(now)
            self._since_prune += 1
            if self._since_prune >= _PRUNE_EVERY:
                self._prune(now)

    def _prune(self, now: float) -> None:
        """Forget keys idle for a whole window, so memory follows active clients only."""
        self._since_prune = 0
        idle = [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window_s]
        for key in idle:
            del self._hits[key]

    def __len__(self) -> int:
        return len(self._hits)


class SharedWindowLimiter:
    """The same limit, counted in one SQLite file that every worker process on this machine
    shares (``serve --workers N`` puts it in the data directory), so N workers enforce the
    configured limit rather than N times it.

    A hit is one short write transaction (~0.3 ms). The counts are disposable: the file is not
    synced to disk, and losing it on a crash only forgets the last minute's hits.
    """

    def __init__(
        self,
        limit: int,
        path: Path,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.path = path
        self.window_s = window_s
        self.clock = clock
        self._local = threading.local()
        self._since_prune = 0
        if limit > 0:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._conn() as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, t REAL NOT NULL)")
                conn.execute("CREATE INDEX IF NOT EXISTS hits_key_t ON hits (key, t)")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            self._local.conn = conn
        return conn

    def hit(self, key: str) -> None:
        """Count one request for ``key``.

        :raises RateLimited: the key used up its window; the hit is not counted.
        """
        if self.limit <= 0:
            return
        now = self.clock()
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            count, first = conn.execute(
                "SELECT count(*), min(t) FROM hits WHERE key = ? AND t > ?",
                (key, now - self.window_s),
            ).fetchone()
            if count >= self.limit:
                conn.execute("ROLLBACK")
                raise RateLimited(max(1, math.ceil(first + self.window_s - now)))
            conn.execute("INSERT INTO hits (key, t) VALUES (?, ?)", (key, now))
            self._since_prune += 1
            if self._since_prune >= _PRUNE_EVERY:
                self._since_prune = 0
                conn.execute("DELETE FROM hits WHERE t <= ?", (now - self.window_s,))
            conn.execute("COMMIT")
        except sqlite3.Error:
            conn.execute("ROLLBACK")
            raise


def build_limiter(limit: int, workers: int, data_dir: Path, name: str):
    """In memory for one worker; shared through ``data_dir`` when several workers serve."""
    if workers > 1 and limit > 0:
        return SharedWindowLimiter(limit, data_dir / f"ratelimit-{name}.sqlite")
    return SlidingWindowLimiter(limit)
