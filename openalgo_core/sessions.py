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
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

from . import _sqlite
from .config import writable_dir
from .errors import ConfigurationError
from .models import Session

__all__ = ["MemorySessionStore", "SQLiteSessionStore", "SessionStore", "load_or_create_key"]


@runtime_checkable
class SessionStore(Protocol):
    """Sessions by broker id. Implementations must be safe to share between threads."""

    def get(self, broker: str) -> Session | None: ...

    def put(self, session: Session) -> None: ...

    def delete(self, broker: str) -> None: ...

    def discard(self, session: Session) -> None:
        """Delete the stored session only if it is ``session`` (same ``created_at`` and
        access token): a stale "session expired" reply never deletes a newer login."""
        ...


def _same(a: Session, b: Session) -> bool:
    """Whether ``a`` and ``b`` are one login (what :meth:`SessionStore.discard` compares)."""
    return (a.broker == b.broker and a.created_at == b.created_at
            and hmac.compare_digest(a.access_token.get_secret_value().encode(),
                                    b.access_token.get_secret_value().encode()))


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

    def discard(self, session: Session) -> None:
        with self._lock:
            stored = self._sessions.get(session.broker)
            if stored is not None and _same(stored, session):
                del self._sessions[session.broker]


def load_or_create_key(path: str | os.PathLike[str]) -> bytes:
    """Read the Fernet key at ``path``, creating it (mode 0600) if absent.

    Safe when many processes start together: the key is written whole to a
    private temporary file which is then hard-linked to ``path``, so a reader
    never sees a partial file, and the first link wins (the others read it).

    Raises:
        ConfigurationError: the file cannot be created or read, is readable by
            others, or holds no valid key; the message says what to do.
    """
    file = Path(path)
    writable_dir(file.parent)
    if not os.path.lexists(file):
        _create_key(file)
    return _read_key(file)


def _create_key(file: Path) -> None:
    """Write a new key to ``file`` unless another process does first."""
    from cryptography.fernet import Fernet

    temp = None
    try:
        fd, temp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")  # mode 0600
        with os.fdopen(fd, "wb") as out:
            out.write(Fernet.generate_key())
            out.flush()
            os.fsync(out.fileno())
        os.link(temp, file)
    except FileExistsError:
        pass  # another process created it: read that one
    except OSError as exc:
        raise ConfigurationError(f"cannot create the session key file {file} ({exc.strerror})"
                                 ) from None
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):  # a stray temporary file is harmless
                os.unlink(temp)


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


def _key_from_secret(secret: str) -> bytes:
    digest = hashlib.sha256(b"openalgo-session-store-v1\x00" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


class SQLiteSessionStore:
    """Sessions in SQLite, encrypted at rest; safe across threads and processes.

    Beside each encrypted session the table keeps a fingerprint (an HMAC, keyed
    from the encryption key, of its ``created_at`` and access token) so that
    :meth:`discard` compares and deletes in one statement.

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
            key = _key_from_secret(secret_key)
        else:
            key = load_or_create_key(Path(key_file) if key_file
                                     else self.path.with_suffix(".key"))
        self._fernet = Fernet(key)
        self._mac_key = hashlib.sha256(b"openalgo-session-fingerprint-v1\x00" + key).digest()
        self._local = threading.local()
        self._memo: dict[str, tuple[bytes, Session]] = {}
        try:
            _sqlite.prepare(self.path, self._setup)
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None

    def _setup(self, db: sqlite3.Connection) -> None:
        """Create the table; add the fingerprint column to a database made before it
        existed, filling it for every session this key can decrypt."""
        db.execute("CREATE TABLE IF NOT EXISTS sessions (broker TEXT PRIMARY KEY,"
                   " payload BLOB NOT NULL, expires_at TEXT NOT NULL, fingerprint TEXT)")
        if "fingerprint" in {row[1] for row in db.execute("PRAGMA table_info(sessions)")}:
            return
        db.execute("ALTER TABLE sessions ADD COLUMN fingerprint TEXT")
        for broker, payload in db.execute("SELECT broker, payload FROM sessions").fetchall():
            session = self._decrypt(payload)
            if session is not None:  # else unreadable anyway: get() says why
                db.execute("UPDATE sessions SET fingerprint = ? WHERE broker = ?",
                           (self._fingerprint(session), broker))

    def _fingerprint(self, session: Session) -> str:
        when = session.created_at.astimezone(dt.UTC).isoformat()
        message = f"{session.broker}\x00{when}\x00{session.access_token.get_secret_value()}"
        return hmac.new(self._mac_key, message.encode(), "sha256").hexdigest()

    def _decrypt(self, payload: bytes) -> Session | None:
        """The session in ``payload``; None if this key cannot decrypt it."""
        from cryptography.fernet import InvalidToken

        try:
            plain = self._fernet.decrypt(payload)
        except InvalidToken:
            return None
        return Session.model_validate_json(plain)

    def _unusable(self, exc: sqlite3.Error) -> ConfigurationError:
        """The one-line error for a database SQLite cannot use (``exc`` says why)."""
        return _sqlite.unusable(self.path, "session database", exc,
                                "move it aside and log in again")

    def _db(self) -> sqlite3.Connection:
        """This thread's connection (opening one per call costs more than the query)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = _sqlite.connect(self.path)
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
        session = self._decrypt(row[0])
        if session is None:
            raise ConfigurationError(
                f"cannot decrypt the stored {broker} session: the secret key changed;"
                f" log in again after `openalgo logout {broker}`")
        self._memo[broker] = (row[0], session)
        return session

    def put(self, session: Session) -> None:
        data = session.model_dump(mode="json")
        for name in ("access_token", "refresh_token", "feed_token"):
            value = getattr(session, name)
            data[name] = value.get_secret_value() if value is not None else None
        data["extra"] = {k: v.get_secret_value() for k, v in session.extra.items()}
        payload = self._fernet.encrypt(json.dumps(data).encode())
        self._execute("INSERT OR REPLACE INTO sessions (broker, payload, expires_at,"
                      " fingerprint) VALUES (?, ?, ?, ?)",
                      (session.broker, payload, session.expires_at.isoformat(),
                       self._fingerprint(session)))

    def delete(self, broker: str) -> None:
        self._execute("DELETE FROM sessions WHERE broker = ?", (broker,))

    def discard(self, session: Session) -> None:
        self._execute("DELETE FROM sessions WHERE broker = ? AND fingerprint = ?",
                      (session.broker, self._fingerprint(session)))

    def _execute(self, sql: str, params: tuple[str | bytes, ...]) -> None:
        try:
            self._db().execute(sql, params)
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None
