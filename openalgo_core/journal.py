"""The order journal: every order on disk before it is sent, and its outcome after.

One SQLite file (WAL) shared safely by threads and processes. An order's tag is
its key: :meth:`OrderJournal.claim` decides, in one transaction, whether the
caller sends the order now or returns (or settles) the outcome of an earlier
attempt, so no retry by anyone hands the same order to the broker twice::

    claim (new tag) ──► SENT ──► ACKNOWLEDGED | REJECTED | NOT_PLACED | UNKNOWN
                        ▲  │ resend (proven not accepted: the session had expired)
                        └──┘
    UNKNOWN ──► ACKNOWLEDGED | REJECTED | NOT_PLACED | UNKNOWN (settled from the book)
    NOT_PLACED ──claim──► SENT (provably not at the broker: may be sent again)

Outcomes never go backwards: the first resolved outcome (ACKNOWLEDGED, REJECTED,
NOT_PLACED) is final, and a later :meth:`~OrderJournal.acknowledge`,
:meth:`~OrderJournal.reject`, :meth:`~OrderJournal.unknown` or
:meth:`~OrderJournal.not_placed` on it changes nothing and returns the entry as
stored, so a late writer (a slow reply, a second settler) can read what won. Only
:meth:`~OrderJournal.claim` leaves NOT_PLACED.

An acknowledgement, the common outcome, can be recorded off the order's path:
:meth:`~OrderJournal.acknowledge_soon` keeps it for the next write of this journal
object (the next order's claim commits it in its own transaction) or, when none comes,
for a writer thread that commits it within ``ACK_DELAY`` seconds; every read of this
object commits it first. A crash before that commit leaves the entry SENT:
reconciliation finds the order in the broker's book by its tag, so nothing is lost or
sent twice, and the order path pays one commit, not two. All writes of one journal
object go through one connection under one lock (threads never wait on SQLite's
busy handler for each other); other processes are kept apart by SQLite's locks.

The journal holds plain data: the :class:`~openalgo_core.models.OrderRequest`
(which carries no secret), the broker's order id and reasons; never credentials
or sessions. A database that cannot be used raises
:class:`~openalgo_core.errors.ConfigurationError` (nothing is sent when
:meth:`~OrderJournal.claim` raises).
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, NamedTuple

import pydantic

from . import _sqlite
from .config import writable_dir
from .errors import ConfigurationError, ValidationError
from .models import IST, OrderRequest

__all__ = ["Claim", "Entry", "OrderJournal", "State"]


class State(StrEnum):
    """What is known about a journaled order."""

    SENT = "sent"  #: journaled and (being) sent; outcome not yet recorded
    ACKNOWLEDGED = "acknowledged"  #: the broker gave an order id
    REJECTED = "rejected"  #: the broker refused (reason, code)
    UNKNOWN = "unknown"  #: sent, no definitive answer; to be settled from the order book
    NOT_PLACED = "not_placed"  #: settled: provably not at the broker (may be sent again)


_RESOLVED = frozenset({State.ACKNOWLEDGED, State.REJECTED, State.NOT_PLACED})
_SELECT = ("SELECT tag, broker, state, request, order_id, reason, code, attempts, created_at,"
           " updated_at, day FROM orders")
_BY_TAG = f"{_SELECT} WHERE tag = ?"
_INSERT = ("INSERT INTO orders (tag, broker, state, request, attempts, created_at, updated_at,"
           " day) VALUES (?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT (tag) DO NOTHING")
_ACKNOWLEDGE = ("UPDATE orders SET state = 'acknowledged', order_id = ?, updated_at = ?"
                " WHERE tag = ? AND state IN ('sent', 'unknown')")
#: an outcome for an open entry, in one statement (a resolved entry is left unchanged)
_SETTLE = ("UPDATE orders SET state = ?, order_id = ?, reason = ?, code = ?, updated_at = ?"
           " WHERE tag = ? AND state IN ('sent', 'unknown') RETURNING tag, broker, state,"
           " request, order_id, reason, code, attempts, created_at, updated_at, day")
_OF_DAY = (f"{_SELECT} WHERE day = ?1 AND (?2 IS NULL OR broker = ?2)"
           " AND (?3 = 0 OR state IN ('sent', 'unknown')) ORDER BY created_at, rowid")
_OPEN = (f"{_SELECT} WHERE state IN ('sent', 'unknown') AND (?1 IS NULL OR broker = ?1)"
         " ORDER BY created_at, rowid")
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS orders (tag TEXT PRIMARY KEY, broker TEXT NOT NULL,"
    " state TEXT NOT NULL, request TEXT NOT NULL, order_id TEXT, reason TEXT, code TEXT,"
    " attempts INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
    " day TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS orders_by_day ON orders (day, created_at)",
    "CREATE INDEX IF NOT EXISTS orders_open ON orders (created_at)"
    " WHERE state IN ('sent', 'unknown')",
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One journaled order. ``order`` is the :class:`OrderRequest` as JSON data
    (rebuild it with :meth:`request`); ``attempts`` counts how many times it was
    handed to the broker; times are UTC, ``day`` is the IST date it was journaled."""

    tag: str
    broker: str
    state: State
    order: dict[str, Any]
    order_id: str | None
    reason: str | None
    code: str | None
    attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime
    day: dt.date

    def resolved(self) -> bool:
        """Whether the outcome is settled: acknowledged, rejected or not placed."""
        return self.state in _RESOLVED

    def request(self) -> OrderRequest:
        """The journaled order, rebuilt."""
        return OrderRequest.model_validate(self.order)


class Claim(NamedTuple):
    """The answer to :meth:`OrderJournal.claim`: ``fresh`` means this caller must send
    the order now; otherwise ``entry`` holds (or will hold) the first outcome."""

    entry: Entry
    fresh: bool


class _Connection(sqlite3.Connection):
    """A connection :meth:`OrderJournal.close` can find (weakly referenced)."""


class OrderJournal:
    """Orders by tag, in a SQLite file safe across threads and processes.

    Every write is committed before its method returns. ``synchronous="NORMAL"``
    (the default) keeps a committed write through a crash of the process (even
    ``kill -9``); ``"FULL"`` also through a power loss or an OS crash, at the cost
    of an fsync per write.

    Args:
        path: the database file (created, mode 0600, with its directory).
        clock: the current time, timezone-aware (tests); default ``datetime.now(UTC)``.
        synchronous: ``"NORMAL"`` or ``"FULL"``, as above.

    Raises:
        ConfigurationError: the file or its directory cannot be used.
    """

    def __init__(self, path: str | os.PathLike[str], *,
                 clock: Callable[[], dt.datetime] | None = None,
                 synchronous: Literal["NORMAL", "FULL"] = "NORMAL") -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ConfigurationError(f"order journal: synchronous must be NORMAL or FULL,"
                                     f" not {synchronous!r}")
        self.path = Path(path)
        self._now = clock or (lambda: dt.datetime.now(dt.UTC))
        self._synchronous = synchronous
        self._local = threading.local()
        self._connections: weakref.WeakSet[sqlite3.Connection] = weakref.WeakSet()
        self._closed = False
        self._pending: list[tuple[str, str, str]] = []  # (order_id, stamp, tag) to commit
        self._write_lock = threading.Lock()
        self._writer_db: sqlite3.Connection | None = None
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        writable_dir(self.path.parent)
        try:
            _sqlite.prepare(self.path, _create)
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None

    # -- writing -------------------------------------------------------------------
    def claim(self, broker: str, order: OrderRequest) -> Claim:
        """Decide, atomically, who sends ``order``: a new tag is journaled SENT
        (attempt 1) and ``fresh``; a NOT_PLACED one goes back to SENT (one attempt
        more) and is ``fresh``; any other is not ``fresh`` and changes nothing.

        Raises:
            ValidationError: (``field="tag"``) the tag is journaled for a different
                order (another broker, symbol, quantity, price ...); nothing changes.
        """
        now = self._now().astimezone(dt.UTC)
        day = now.astimezone(IST).date()
        data = order.model_dump(mode="json")
        stamp = _stamp(now)
        row = (order.tag, broker, State.SENT, json.dumps(data), stamp, stamp, day.isoformat())
        with self._write() as db:
            if db.execute(_INSERT, row).rowcount == 1:  # the common case: a new tag
                return Claim(Entry(order.tag, broker, State.SENT, data, None, None, None, 1,
                                   now, now, day), fresh=True)
            entry = self._require(db, order.tag)
            if entry.broker != broker or not _same_order(entry.order, order):
                when = entry.created_at.astimezone(IST)
                raise ValidationError(
                    f"tag: {order.tag!r} is already journaled for a different order (on"
                    f" {entry.broker}, {when:%Y-%m-%d %H:%M} IST); give each order its own"
                    " tag", field="tag")
            if entry.state is not State.NOT_PLACED:
                return Claim(entry, fresh=False)
            db.execute("UPDATE orders SET state = ?, attempts = attempts + 1, reason = NULL,"
                       " code = NULL, updated_at = ? WHERE tag = ?",
                       (State.SENT, _stamp(now), order.tag))
            return Claim(self._require(db, order.tag), fresh=True)

    def resend(self, tag: str) -> Claim:
        """Count one attempt more of a SENT order that the broker provably did not
        accept (it refused the expired session): ``fresh``, send it again. An entry
        no longer SENT (another caller settled it) is returned as stored, not ``fresh``:
        do not send it.

        Raises:
            KeyError: no entry has ``tag``.
        """
        with self._write() as db:
            entry = self._require(db, tag)
            if entry.state is not State.SENT:
                return Claim(entry, fresh=False)
            db.execute("UPDATE orders SET attempts = attempts + 1, updated_at = ?"
                       " WHERE tag = ?", (_stamp(self._now()), tag))
            return Claim(self._require(db, tag), fresh=True)

    def acknowledge(self, tag: str, order_id: str) -> Entry:
        """The broker gave ``order_id``. Raises KeyError when no entry has ``tag``."""
        return self._settle(tag, State.ACKNOWLEDGED, order_id, None, None)

    def acknowledge_soon(self, tag: str, order_id: str) -> None:
        """:meth:`acknowledge`, off the caller's path: committed with this object's next
        write, or by a writer thread within ``ACK_DELAY`` seconds, or by the next read
        (:meth:`flush`). Lost only if the process dies first: the entry then stays SENT,
        for reconciliation."""
        stamp = _stamp(self._now())
        with self._write_lock:
            if self._closed:
                raise ConfigurationError(f"the order journal {self.path} is closed")
            self._pending.append((order_id, stamp, tag))
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_soon, daemon=True,
                                                 name="openalgo-journal")
                self._writer.start()
                _OPEN_JOURNALS.add(self)
        self._wake.set()

    def flush(self) -> None:
        """Commit what :meth:`acknowledge_soon` keeps; return when it is on disk."""
        if self._pending:
            with self._write():
                pass

    def _write_soon(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            time.sleep(ACK_DELAY)  # an order placed meanwhile commits them with its claim
            with suppress(ConfigurationError):  # closed meanwhile, or unusable: the
                self.flush()  # entries stay SENT and are reconciled from the book

    def reject(self, tag: str, reason: str, code: str | None = None) -> Entry:
        """The broker refused the order. Raises KeyError when no entry has ``tag``."""
        return self._settle(tag, State.REJECTED, None, reason, code)

    def unknown(self, tag: str, reason: str) -> Entry:
        """Sent, with no definitive answer (``reason`` says why); stays open for
        settling. Raises KeyError when no entry has ``tag``."""
        return self._settle(tag, State.UNKNOWN, None, reason, None)

    def not_placed(self, tag: str, reason: str) -> Entry:
        """Provably not at the broker: a later :meth:`claim` may send it again.
        Raises KeyError when no entry has ``tag``."""
        return self._settle(tag, State.NOT_PLACED, None, reason, None)

    def _settle(self, tag: str, state: State, order_id: str | None, reason: str | None,
                code: str | None) -> Entry:
        """Record an outcome of an open entry (one statement: a resolved entry is left
        unchanged); return the entry as stored after it."""
        with self._write() as db:
            row = db.execute(_SETTLE, (state, order_id, reason, code, _stamp(self._now()),
                                       tag)).fetchone()
            return _entry(row) if row is not None else self._require(db, tag)

    # -- reading -------------------------------------------------------------------
    def get(self, tag: str) -> Entry | None:
        """The entry for ``tag``, or None."""
        self.flush()
        return self._get(self._db(), tag)

    def entries(self, *, broker: str | None = None, day: dt.date | None = None,
                unresolved: bool = False) -> list[Entry]:
        """The entries journaled on ``day`` (IST; default today), oldest first; only
        ``broker``'s when given, only the SENT or UNKNOWN ones when ``unresolved``."""
        day = day or self._now().astimezone(IST).date()
        self.flush()
        return self._select(_OF_DAY, (day.isoformat(), broker, unresolved))

    def unresolved(self, broker: str | None = None) -> list[Entry]:
        """Every SENT or UNKNOWN entry, of any day (``broker``'s only, when given),
        oldest first."""
        self.flush()
        return self._select(_OPEN, (broker,))

    def wait(self, tag: str, timeout: float,
             sleep: Callable[[float], None] = time.sleep) -> Entry:
        """Poll ``tag`` until it is no longer SENT (another thread or process is
        sending it) or ``timeout`` seconds of ``sleep`` have passed; the entry then.

        The timeout counts the seconds asked of ``sleep`` (the time spent reading is
        not counted), so an injected ``sleep`` that does not sleep ends it promptly.

        Raises:
            KeyError: no entry has ``tag``.
        """
        slept, delay = 0.0, 0.01
        while True:
            entry = self.get(tag)
            if entry is None:
                raise KeyError(tag)
            if entry.state is not State.SENT or slept >= timeout:
                return entry
            step = min(delay, timeout - slept)
            sleep(step)
            slept, delay = slept + step, min(delay * 2, 0.25)

    def close(self) -> None:
        """Close every connection (call it when no other thread uses the journal);
        using the journal afterwards raises ConfigurationError; acknowledgements still
        pending are committed first."""
        if not self._closed:
            with suppress(ConfigurationError):
                self.flush()
        with self._write_lock:
            self._closed = True
        self._wake.set()
        for db in list(self._connections):
            db.close()

    # -- plumbing ------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        """This thread's connection."""
        if self._closed:
            raise ConfigurationError(f"the order journal {self.path} is closed")
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            try:
                db = self._local.db = self._connect()
            except sqlite3.Error as exc:
                raise self._unusable(exc) from None
        return db

    def _connect(self) -> sqlite3.Connection:
        db = _sqlite.connect(self.path, factory=_Connection, check_same_thread=False)
        db.execute(f"PRAGMA synchronous={self._synchronous}")
        self._connections.add(db)
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on this object's write connection, under its lock,
        taken at once (BEGIN IMMEDIATE: writers of other processes queue, so a
        read-then-write inside cannot race); the acknowledgements kept by
        :meth:`acknowledge_soon` are committed in it; committed before the block's
        result is returned, rolled back (the kept acknowledgements too) if it raises."""
        with self._write_lock:
            if self._closed:
                raise ConfigurationError(f"the order journal {self.path} is closed")
            db = self._writer_db
            try:
                if db is None:
                    db = self._writer_db = self._connect()
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._unusable(exc) from None
            pending, self._pending = self._pending, []
            try:
                if pending:
                    db.executemany(_ACKNOWLEDGE, pending)
                yield db
                db.execute("COMMIT")
            except BaseException as exc:
                self._pending = pending + self._pending
                if db.in_transaction:
                    with suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._unusable(exc) from None
                raise

    def _get(self, db: sqlite3.Connection, tag: str) -> Entry | None:
        try:
            row = db.execute(_BY_TAG, (tag,)).fetchone()
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None
        return None if row is None else _entry(row)

    def _require(self, db: sqlite3.Connection, tag: str) -> Entry:
        entry = self._get(db, tag)
        if entry is None:
            raise KeyError(tag)
        return entry

    def _select(self, query: str, params: tuple[str | bool | None, ...]) -> list[Entry]:
        try:
            rows = self._db().execute(query, params).fetchall()
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None
        return [_entry(row) for row in rows]

    def _unusable(self, exc: sqlite3.Error) -> ConfigurationError:
        return _sqlite.unusable(self.path, "order journal", exc,
                                "move it aside (its record of past orders is then lost)")


#: seconds an acknowledgement waits for the next claim to commit it with its own
ACK_DELAY = 0.02
#: journals with a writer thread: what they still hold is committed at interpreter exit
_OPEN_JOURNALS: weakref.WeakSet[OrderJournal] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for journal in list(_OPEN_JOURNALS):
        with suppress(ConfigurationError):
            journal.flush()


def _create(db: sqlite3.Connection) -> None:
    for statement in _SCHEMA:
        db.execute(statement)


def _stamp(when: dt.datetime) -> str:
    """A time as stored: UTC ISO 8601 with microseconds (sorts as it reads)."""
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _same_order(stored: dict[str, Any], order: OrderRequest) -> bool:
    """Whether ``stored`` is ``order`` (compared as orders: ``"1.50"`` is ``1.5``)."""
    try:
        return dict(OrderRequest.model_validate(stored)) == dict(order)
    except pydantic.ValidationError:  # journaled under other rules: not provably the same
        return False


def _entry(row: tuple[Any, ...]) -> Entry:
    tag, broker, state, request, order_id, reason, code, attempts, created, updated, day = row
    return Entry(tag=tag, broker=broker, state=State(state), order=json.loads(request),
                 order_id=order_id, reason=reason, code=code, attempts=attempts,
                 created_at=dt.datetime.fromisoformat(created),
                 updated_at=dt.datetime.fromisoformat(updated),
                 day=dt.date.fromisoformat(day))
