"""Where broker sessions live between runs.

:class:`SessionStore` is the protocol; :class:`MemorySessionStore` keeps
sessions in the process; :class:`SQLiteSessionStore` keeps them in a SQLite
file with every token encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256).
The key comes from ``OPENALGO_SECRET_KEY`` or from a generated key file
created with mode 0600. Stores return sessions as saved, expired or not; the
:class:`~openalgo_core.gateway.Gateway` refuses to use an expired one. A key file
or database that cannot be used raises
:class:`~openalgo_core.errors.ConfigurationError` saying what to do.
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

from .config import writable_dir
from .errors import ConfigurationError
from .models import Session

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

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
    """Read the Fernet key at ``path``, creating it (mode 0600) if absent.

    Raises:
        ConfigurationError: the file cannot be created or read, is readable by
            others, or holds no valid key; the message says what to do.
    """
    from cryptography.fernet import Fernet

    file = Path(path)
    writable_dir(file.parent)
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(file)
    except OSError as exc:
        raise ConfigurationError(f"cannot create the session key file {file} ({exc.strerror})"
                                 ) from None
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def _read_key(file: Path) -> bytes:
    from cryptography.fernet import Fernet

    try:
        key = file.read_bytes().strip()
        mode = file.stat().st_mode
    except OSError as exc:
        raise ConfigurationError(f"cannot read the session key file {file} ({exc.strerror})"
                                 ) from None
    if mode & 0o077:
        raise ConfigurationError(f"{file} must not be readable by others (chmod 600)")
    try:
        Fernet(key)
    except ValueError:  # empty, truncated or not base64
        raise ConfigurationError(
            f"{file} holds no valid session key (empty or corrupt): delete it and log in"
            " again (sessions saved with the old key are lost), or set OPENALGO_SECRET_KEY"
        ) from None
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
        writable_dir(self.path.parent)
        if secret_key:
            self._fernet = _fernet_from_secret(secret_key)
        else:
            key_path = Path(key_file) if key_file else self.path.with_suffix(".key")
            self._fernet = Fernet(load_or_create_key(key_path))
        self._local = threading.local()
        self._memo: dict[str, tuple[bytes, Session]] = {}
        try:
            with closing(self._connect()) as db, db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("CREATE TABLE IF NOT EXISTS sessions (broker TEXT PRIMARY KEY,"
                           " payload BLOB NOT NULL, expires_at TEXT NOT NULL)")
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None
        os.chmod(self.path, 0o600)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def _unusable(self, exc: sqlite3.Error) -> ConfigurationError:
        """The one-line error for a database SQLite cannot use (``exc`` says why)."""
        if isinstance(exc, sqlite3.OperationalError):  # cannot open, read-only, locked
            return ConfigurationError(f"cannot use the session database {self.path}: {exc}"
                                      " (are the file and its directory writable?)")
        return ConfigurationError(
            f"{self.path} is not a usable session database ({exc}): move it aside and log"
            " in again")

    def _db(self) -> sqlite3.Connection:
        """This thread's connection (opening one per call costs more than the query)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    def get(self, broker: str) -> Session | None:
        """The stored session; decrypted again only when the stored bytes changed
        (another process may have logged in since)."""
        try:
            row = self._db().execute("SELECT payload FROM sessions WHERE broker = ?",
                                     (broker,)).fetchone()
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None
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
        try:
            self._db().execute("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?)",
                               (session.broker, payload, session.expires_at.isoformat()))
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None

    def delete(self, broker: str) -> None:
        try:
            self._db().execute("DELETE FROM sessions WHERE broker = ?", (broker,))
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None
