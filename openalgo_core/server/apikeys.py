"""The gateway's API key: from ``OPENALGO_API_KEY`` or a stored hash, checked in
constant time; and per-key rate limits that refuse (429) rather than queue."""

from __future__ import annotations

import collections
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ..config import writable_dir
from ..errors import ConfigurationError

__all__ = ["ApiKeys", "KeyRateLimiter", "create_api_key"]

HASH_FILE = "apikey.sha256"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def create_api_key(home: Path) -> str:
    """Generate a key, store only its SHA-256 (mode 0600) in ``home``; return the key.

    Raises:
        ConfigurationError: ``home`` (``OPENALGO_HOME``) or the file cannot be written.
    """
    key = secrets.token_hex(32)
    path = writable_dir(home, "OPENALGO_HOME") / HASH_FILE
    tmp = path.with_suffix(".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(_digest(key).hex() + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigurationError(f"cannot write the API key file {path} ({exc.strerror})"
                                 ) from None
    return key


class ApiKeys:
    """Accepts ``OPENALGO_API_KEY`` and the key whose hash ``openalgo apikey`` stored.

    Raises:
        ConfigurationError: ``home`` (``OPENALGO_HOME``) is not a directory, or the
            stored hash cannot be read; the message says what to do.
    """

    def __init__(self, environ: Mapping[str, str], home: Path) -> None:
        self._digests: list[bytes] = []
        if environ.get("OPENALGO_API_KEY"):
            self._digests.append(_digest(environ["OPENALGO_API_KEY"]))
        if home.exists() and not home.is_dir():
            raise ConfigurationError(f"{home} (from OPENALGO_HOME) is not a directory")
        stored = home / HASH_FILE
        if stored.exists():
            self._digests.append(_read_digest(stored))

    @property
    def configured(self) -> bool:
        return bool(self._digests)

    def check(self, key: object) -> bool:
        """Constant-time comparison against every accepted key."""
        if not isinstance(key, str) or not key:
            return False
        candidate = _digest(key)
        ok = False
        for digest in self._digests:
            ok |= hmac.compare_digest(candidate, digest)
        return ok


def _read_digest(path: Path) -> bytes:
    try:
        digest = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except OSError as exc:
        raise ConfigurationError(f"cannot read the API key file {path} ({exc.strerror})"
                                 ) from None
    except ValueError:  # not ASCII, not hex
        digest = b""
    if len(digest) != hashlib.sha256().digest_size:
        raise ConfigurationError(f"{path} is corrupt: run `openalgo apikey` to make a new key")
    return digest


class KeyRateLimiter:
    """At most ``limit`` calls per rolling ``window`` seconds per key; returns seconds to
    wait."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic, *,
                 window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._calls: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _wait(self, key: str, now: float) -> float:
        calls = self._calls.get(key)
        if calls is None:
            return 0.0
        while calls and calls[0] <= now - self.window:
            calls.popleft()
        if not calls:
            del self._calls[key]  # memory stays bounded by the keys active in a window
            return 0.0
        return max(calls[0] + self.window - now, 0.001) if len(calls) >= self.limit else 0.0

    def hit(self, key: str) -> float:
        """Record a call; 0.0 if allowed, else how long until one would be."""
        now = self._clock()
        with self._lock:
            wait = self._wait(key, now)
            if not wait:
                self._calls.setdefault(key, collections.deque()).append(now)
            return wait

    def peek(self, key: str) -> float:
        """How long until a call would be allowed (0.0: now), recording nothing."""
        with self._lock:
            return self._wait(key, self._clock())
