"""Where broker sessions live between runs.

:class:`SessionStore` is the protocol; :class:`MemorySessionStore` keeps
sessions in the process; :class:`SQLiteSessionStore` keeps them in a SQLite
file with every token encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256).
The key comes from ``OPENALGO_SECRET_KEY`` or from a generated key file
created with mode 0600. Stores return sessions as saved, expired or not; the
:class:`~openalgo_core.gateway.Gateway` refuses to use an expired one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .errors import ConfigurationError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet
from .models import Session

__all__ = ["MemorySessionStore", "SQLiteSessionStore", "SessionStore", "load_or_create_key"]


@runtime_checkable
class SessionStore(Protocol):
    """Sessions by broker id. Implementations must be safe to share between threads."""

    def get(self, broker: str) -> Session | None: ...

    def put(self, session: Session) -> None: ...

    def delete(self, broker: str) -> None: ...


class MemorySessionStore:
    """Sessions held in this process only."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, broker: str) -> Session | None:
        with self._lock:
            return self._sessions.get(broker)

    def put(self, session: Session) -> None:
        with self._lock:
            self._sessions[session.broker] = session

    def delete(self, broker: str) -> None:
        with self._lock:
            self._sessions.pop(broker, None)


def load_or_create_key(path: str | os.PathLike[str]) -> bytes:
    """Read the Fernet key at ``path``, creating it (mode 0600) if absent."""
    from cryptography.fernet import Fernet

    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = file.read_bytes().strip()
        mode = file.stat().st_mode
        if mode & 0o077:
            raise ConfigurationError(f"{file} must not be readable by others (chmod 600)"
                                     ) from None
        return key
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def _fernet_from_secret(secret: str) -> Fernet:
    from cryptography.fernet import Fernet

    digest = hashlib.sha256(b"openalgo-session-store-v1\x00" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class SQLiteSessionStore:
    """Sessions in SQLite, encrypted at rest; safe across threads and processes.

    Args:
        path: the database file.
        secret_key: a high-entropy passphrase (``OPENALGO_SECRET_KEY``); if None,
            ``key_file`` is used (created with mode 0600 when missing).
    """

    def __init__(self, path: str | os.PathLike[str], *, secret_key: str | None = None,
                 key_file: str | os.PathLike[str] | None = None) -> None:
        from cryptography.fernet import Fernet  # imported on use: keeps start-up fast

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if secret_key:
            self._fernet = _fernet_from_secret(secret_key)
        else:
            key_path = Path(key_file) if key_file else self.path.with_suffix(".key")
            self._fernet = Fernet(load_or_create_key(key_path))
        self._local = threading.local()
        self._memo: dict[str, tuple[bytes, Session]] = {}
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS sessions (broker TEXT PRIMARY KEY,"
                       " payload BLOB NOT NULL, expires_at TEXT NOT NULL)")
        os.chmod(self.path, 0o600)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def _db(self) -> sqlite3.Connection:
        """This thread's connection (opening one per call costs more than the query)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    def get(self, broker: str) -> Session | None:
        """The stored session; decrypted again only when the stored bytes changed
        (another process may have logged in since)."""
        row = self._db().execute("SELECT payload FROM sessions WHERE broker = ?",
                                 (broker,)).fetchone()
        if row is None:
            return None
        memo = self._memo.get(broker)
        if memo is not None and memo[0] == row[0]:
            return memo[1]
        from cryptography.fernet import InvalidToken

        try:
            plain = self._fernet.decrypt(row[0])
        except InvalidToken:
            raise ConfigurationError(
                f"cannot decrypt the stored {broker} session: the secret key changed;"
                f" log in again after `openalgo logout {broker}`") from None
        session = Session.model_validate_json(plain)
        self._memo[broker] = (row[0], session)
        return session

    def put(self, session: Session) -> None:
        data = session.model_dump(mode="json")
        for name in ("access_token", "refresh_token", "feed_token"):
            value = getattr(session, name)
            data[name] = value.get_secret_value() if value is not None else None
        data["extra"] = {k: v.get_secret_value() for k, v in session.extra.items()}
        payload = self._fernet.encrypt(json.dumps(data).encode())
        self._db().execute("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?)",
                           (session.broker, payload, session.expires_at.isoformat()))

    def delete(self, broker: str) -> None:
        self._db().execute("DELETE FROM sessions WHERE broker = ?", (broker,))
