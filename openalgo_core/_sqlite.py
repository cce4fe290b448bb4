"""Opening the SQLite files that threads and processes share (private to the core).

The session store and the order journal open their databases the same way:
:func:`prepare` once per process (WAL, schema, mode 0600), then :func:`connect`
for each thread. Both are safe when many processes start together on a new
``OPENALGO_HOME``: setting WAL on a brand-new file can fail with "database is
locked" however long the busy timeout (SQLite does not wait for that lock), so
it is retried a bounded number of times.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from .errors import ConfigurationError

__all__ = ["BUSY_TIMEOUT", "connect", "contended", "prepare", "unusable"]

BUSY_TIMEOUT = 30.0  # seconds a statement waits for another connection's lock
WAL_ATTEMPTS = 40  # at most ~7 s of back-off before the error is raised


def connect(path: Path, *, factory: type[sqlite3.Connection] = sqlite3.Connection,
            check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) that waits
    :data:`BUSY_TIMEOUT` seconds for locks."""
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None,
                           factory=factory, check_same_thread=check_same_thread)


def contended(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` is SQLITE_BUSY or SQLITE_LOCKED (another connection holds a lock)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def prepare(path: Path, setup: Callable[[sqlite3.Connection], None], *,
            sleep: Callable[[float], None] = time.sleep) -> None:
    """Make ``path`` a WAL database, run ``setup`` on it in one write transaction
    (``BEGIN IMMEDIATE``: processes run it one at a time, so it may read the schema
    and migrate it), then make the file private (mode 0600).

    ``setup`` must be idempotent: every process that opens the file runs it.

    Raises:
        sqlite3.Error: the database cannot be opened or set up (callers turn it
            into a :class:`ConfigurationError` with :func:`unusable`).
        ConfigurationError: the file's mode cannot be changed.
    """
    with closing(connect(path)) as db:
        for attempt in range(WAL_ATTEMPTS):
            try:
                db.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if attempt == WAL_ATTEMPTS - 1 or not contended(exc):
                    raise
                sleep(min(0.01 * 2 ** attempt, 0.2))
        db.execute("BEGIN IMMEDIATE")
        with db:  # COMMIT, or ROLLBACK if setup raises
            setup(db)
    try:
        os.chmod(path, 0o600)
    except OSError as exc:
        raise ConfigurationError(f"cannot make {path} private (chmod 600): {exc.strerror}"
                                 ) from None


def unusable(path: Path, what: str, exc: sqlite3.Error, remedy: str) -> ConfigurationError:
    """The one-line error for database ``path`` (a ``what``, e.g. "session database")
    that SQLite cannot use; ``remedy`` says what to do when the file is not a database."""
    if isinstance(exc, sqlite3.OperationalError):  # cannot open, read-only, locked
        hint = ("another process held it locked too long" if contended(exc)
                else "are the file and its directory writable?")
        return ConfigurationError(f"cannot use the {what} {path}: {exc} ({hint})")
    return ConfigurationError(f"{path} is not a usable {what} ({exc}): {remedy}")
