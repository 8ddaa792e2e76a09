"""Per-client request limits: a sliding one-minute window per key, in memory, per process.

With several workers each keeps its own window, so the effective limit is up to ``workers`` times
the setting; that is acceptable for its purpose (keeping one client from monopolising the
service), and it keeps the API stateless. Behind a reverse proxy, start uvicorn with proxy headers
trusted for the proxy's address so the client IP is the real one.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

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
