"""A sliding-window rate limiter for public pages (certificate verification).

``memory`` keeps the hits of each client in this process: right for development and a
single worker.  With several workers each would count separately (a client gets up to
workers × limit), so production with more than one worker sets ``RATELIMIT_STORAGE`` to a
``redis://`` URL; that backend needs the ``redis`` package, which is not a requirement of the
app: install it where it is used (``pip install redis``) or the app refuses to start.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Callable, Protocol

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class RateLimitConfigError(ValueError):
    pass


def parse_limit(spec: str) -> tuple[int, int]:
    """"30/minute" → (30, 60)."""
    count, _, unit = (spec or "").partition("/")
    unit = unit.strip().rstrip("s")
    if not count.strip().isdigit() or unit not in UNITS or int(count) < 1:
        raise RateLimitConfigError(f"rate limit must look like 30/minute, not {spec!r}")
    return int(count), UNITS[unit]


class Limiter(Protocol):
    def hit(self, key: str) -> tuple[bool, int]:
        """Count one request; (allowed, seconds until the next one would be allowed)."""


class MemoryLimiter:
    """Per-key timestamps of the hits inside the window, in this process."""

    #: forget idle clients once this many keys are held, so memory stays bounded
    MAX_KEYS = 50_000

    def __init__(self, limit: int, window: int, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> tuple[bool, int]:
        now = self.clock()
        with self._lock:
            if len(self._hits) > self.MAX_KEYS:
                self._forget_idle(now)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False, max(1, int(hits[0] + self.window - now) + 1)
            hits.append(now)
            return True, 0

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window]:
            del self._hits[key]


class RedisLimiter:
    """The same window in a sorted set per key, shared by every worker."""

    def __init__(self, client: Any, limit: int, window: int, prefix: str = "ratelimit:"
                 ) -> None:
        self.client, self.limit, self.window, self.prefix = client, limit, window, prefix

    def hit(self, key: str) -> tuple[bool, int]:
        now = time.time()
        name = self.prefix + key
        pipe = self.client.pipeline()
        pipe.zremrangebyscore(name, 0, now - self.window)
        pipe.zcard(name)
        _, count = pipe.execute()
        if count >= self.limit:
            oldest = self.client.zrange(name, 0, 0, withscores=True)
            wait = int(oldest[0][1] + self.window - now) + 1 if oldest else self.window
            return False, max(1, wait)
        pipe = self.client.pipeline()
        pipe.zadd(name, {f"{now:.6f}": now})
        pipe.expire(name, self.window)
        pipe.execute()
        return True, 0


def make_limiter(spec: str, storage: str) -> Limiter:
    limit, window = parse_limit(spec)
    if storage in ("", "memory"):
        return MemoryLimiter(limit, window)
    if storage.startswith(("redis://", "rediss://", "unix://")):
        try:
            import redis  # noqa: PLC0415  optional dependency, only for this backend
        except ImportError:
            raise RateLimitConfigError(
                "RATELIMIT_STORAGE is a redis URL but the redis package is not installed "
                "(pip install redis), or set RATELIMIT_STORAGE=memory") from None
        return RedisLimiter(redis.Redis.from_url(storage), limit, window)
    raise RateLimitConfigError(f"RATELIMIT_STORAGE must be 'memory' or a redis:// URL, "
                               f"not {storage!r}")
