"""Session stores: memory, and SQLite encrypted at rest, shared safely."""

import datetime as dt
import multiprocessing
import sqlite3
import stat
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from openalgo_core import (
    ConfigurationError,
    MemorySessionStore,
    OrderRequest,
    SQLiteSessionStore,
    new_session,
)
from openalgo_core.journal import OrderJournal
from openalgo_core.models import IST
from openalgo_core.sessions import SessionStore


def session(broker: str = "angel", token: str = "jwt-very-secret-token"):  # type: ignore[no-untyped-def]
    return new_session(broker, "A123", token, refresh_token="refresh-secret",
                       extra={"feed": "feed-secret"})


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_roundtrip(kind: str, tmp_path: Path) -> None:
    store: SessionStore = MemorySessionStore() if kind == "memory" else SQLiteSessionStore(
        tmp_path / "s.db", secret_key="k" * 32)
    assert isinstance(store, SessionStore)
    assert store.get("angel") is None
    s = session()
    store.put(s)
    got = store.get("angel")
    assert got == s and got is not None
    assert got.access_token.get_secret_value() == "jwt-very-secret-token"
    assert got.extra["feed"].get_secret_value() == "feed-secret"
    store.delete("angel")
    assert store.get("angel") is None


def test_tokens_are_encrypted_at_rest(tmp_path: Path) -> None:
    store = SQLiteSessionStore(tmp_path / "s.db", secret_key="passphrase-" * 4)
    store.put(session())
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("s.db"))
    for secret in (b"jwt-very-secret-token", b"refresh-secret", b"feed-secret"):
        assert secret not in raw
    assert stat.S_IMODE((tmp_path / "s.db").stat().st_mode) == 0o600


def test_generated_key_file_is_private_and_reused(tmp_path: Path) -> None:
    SQLiteSessionStore(tmp_path / "s.db").put(session())
    key = tmp_path / "s.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert SQLiteSessionStore(tmp_path / "s.db").get("angel") is not None


def test_world_readable_key_file_is_refused(tmp_path: Path) -> None:
    SQLiteSessionStore(tmp_path / "s.db")
    (tmp_path / "s.key").chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        SQLiteSessionStore(tmp_path / "s.db")


def test_wrong_key_is_a_clear_error(tmp_path: Path) -> None:
    SQLiteSessionStore(tmp_path / "s.db", secret_key="one").put(session())
    with pytest.raises(ConfigurationError, match="secret key changed"):
        SQLiteSessionStore(tmp_path / "s.db", secret_key="two").get("angel")


def test_expired_sessions_are_returned_as_saved(tmp_path: Path) -> None:
    store = SQLiteSessionStore(tmp_path / "s.db", secret_key="k")
    old = new_session("angel", "A1", "t", now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    store.put(old)
    got = store.get("angel")
    assert got is not None and got.is_expired()  # the Gateway refuses it (test_gateway)


def test_concurrent_writers_and_readers(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    stores = [SQLiteSessionStore(path, secret_key="k") for _ in range(2)]  # CLI + server
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                store = stores[(n + i) % 2]
                store.put(session(broker=f"b{n}", token=f"tok-{n}-{i}"))
                got = store.get(f"b{n}")
                assert got is not None and got.access_token.get_secret_value() == f"tok-{n}-{i}"
        except BaseException as exc:
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.parametrize("content", [b"", b"\n", b"not-a-fernet-key", b"\xff\xfe" * 22])
def test_corrupt_or_empty_key_file_says_what_to_do(tmp_path: Path, content: bytes) -> None:
    key = tmp_path / "s.key"
    key.write_bytes(content)
    key.chmod(0o600)
    with pytest.raises(ConfigurationError) as info:
        SQLiteSessionStore(tmp_path / "s.db")
    message = str(info.value)
    assert str(key) in message and "delete it" in message and "OPENALGO_SECRET_KEY" in message


def test_key_file_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "s.key").mkdir()
    with pytest.raises(ConfigurationError, match="cannot read the session key file"):
        SQLiteSessionStore(tmp_path / "s.db")


@pytest.mark.parametrize("content", [b"this is not a database" * 100,
                                     b"SQLite format 3\x00" + b"\xff" * 200])
def test_a_file_that_is_not_a_database_says_what_to_do(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "s.db").write_bytes(content)
    with pytest.raises(ConfigurationError) as info:
        SQLiteSessionStore(tmp_path / "s.db", secret_key="k")
    assert str(tmp_path / "s.db") in str(info.value) and "move it aside" in str(info.value)


def test_a_database_replaced_while_in_use_is_a_configuration_error(tmp_path: Path) -> None:
    store = SQLiteSessionStore(tmp_path / "s.db", secret_key="k")
    for name in ("s.db", "s.db-wal", "s.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    (tmp_path / "s.db").write_bytes(b"garbage" * 1000)
    errors: list[BaseException] = []

    def in_a_new_thread() -> None:  # which opens the file again
        for call in (lambda: store.get("angel"), lambda: store.put(session()),
                     lambda: store.delete("angel")):
            try:
                call()
            except BaseException as exc:
                errors.append(exc)
    worker = threading.Thread(target=in_a_new_thread)
    worker.start()
    worker.join()
    assert [type(e) for e in errors] == [ConfigurationError] * 3
    assert all("not a usable session database" in str(e) for e in errors)


@pytest.mark.parametrize("parent", ["file", "/dev/null", "/sys"])
def test_unusable_directory_is_named(tmp_path: Path, parent: str) -> None:
    if parent == "file":
        (tmp_path / "file").write_text("x")
    where = tmp_path / parent if parent == "file" else Path(parent)
    with pytest.raises(ConfigurationError, match=str(where)):
        SQLiteSessionStore(where / "sessions.db")


# -- discard: a stale expiry never deletes a newer login ---------------------------------
def make_store(kind: str, path: Path) -> SessionStore:
    return MemorySessionStore() if kind == "memory" else SQLiteSessionStore(path,
                                                                           secret_key="k")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_discard_deletes_the_same_session(kind: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path / "s.db")
    s = session()
    store.put(s)
    got = store.get("angel")
    assert got is not None
    store.discard(got)
    assert store.get("angel") is None
    store.discard(got)  # already gone: nothing to do


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("newer", ["later", "same instant, new token", "same token, later"])
def test_discard_keeps_a_newer_session(kind: str, newer: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path / "s.db")
    at = dt.datetime(2024, 3, 4, 4, 0, tzinfo=dt.UTC)
    stale = new_session("angel", "A1", "token-1", now=at)
    store.put(stale)
    fresh = new_session("angel", "A1", "token-1" if "same token" in newer else "token-2",
                        now=at if "same instant" in newer else at + dt.timedelta(seconds=1))
    store.put(fresh)  # another thread, the CLI or the server logged in meanwhile
    store.discard(stale)  # the "session expired" reply to a request sent with the old one
    assert store.get("angel") == fresh
    store.put(session(broker="other"))
    store.discard(fresh.model_copy(update={"broker": "other"}))  # another broker's: kept
    assert store.get("other") is not None


def test_discard_matches_the_same_instant_in_another_timezone(tmp_path: Path) -> None:
    store = SQLiteSessionStore(tmp_path / "s.db", secret_key="k")
    s = session()
    store.put(s)
    store.discard(s.model_copy(update={"created_at": s.created_at.astimezone(IST)}))
    assert store.get("angel") is None


def test_a_database_from_before_discard_is_migrated_keeping_its_sessions(
        tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    old = SQLiteSessionStore(path, secret_key="k")
    stored, other = session(), session(broker="other")
    old.put(stored)
    old.put(other)
    with closing(sqlite3.connect(path)) as db, db:  # the table as it was before
        db.execute("CREATE TABLE old AS SELECT broker, payload, expires_at FROM sessions")
        db.execute("DROP TABLE sessions")
        db.execute("ALTER TABLE old RENAME TO sessions")
    store = SQLiteSessionStore(path, secret_key="k")
    assert store.get("angel") == stored and store.get("other") == other
    store.discard(stored)
    assert store.get("angel") is None and store.get("other") == other
    SQLiteSessionStore(path, secret_key="k")  # migrating again is a no-op
    assert store.get("other") == other


def test_migrating_sessions_another_key_cannot_read_keeps_them_and_starts(
        tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SQLiteSessionStore(path, secret_key="one").put(session())
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("ALTER TABLE sessions DROP COLUMN fingerprint")
    store = SQLiteSessionStore(path, secret_key="two")
    with pytest.raises(ConfigurationError, match="secret key changed"):
        store.get("angel")
    store.discard(session())  # cannot match: nothing happens
    assert SQLiteSessionStore(path, secret_key="one").get("angel") is not None
    store.delete("angel")
    assert store.get("angel") is None


# -- first start: many processes on a new OPENALGO_HOME -----------------------------------
ROUNDS = 12


def first_start(base: str, n: int, barrier: Any, results: Any) -> None:
    """(In a child process) for each round, start on a brand-new home together with the
    other processes: open the session store (key file) and the journal, write, read."""
    errors: list[str] = []
    for r in range(ROUNDS):
        barrier.wait(timeout=120)
        home = Path(base) / f"home{r}"
        try:
            store = SQLiteSessionStore(home / "sessions.db")
            journal = OrderJournal(home / "journal.db")
            store.put(session(broker=f"b{n}", token=f"tok-{n}"))
            got = store.get(f"b{n}")
            assert got is not None and got.access_token.get_secret_value() == f"tok-{n}"
            order = OrderRequest(symbol="SBIN", exchange="NSE", action="BUY", quantity=1,
                                 tag=f"r{r}p{n}")
            assert journal.claim("angel", order).fresh
            assert journal.acknowledge(order.tag, f"id{n}").order_id == f"id{n}"
            journal.close()
        except BaseException as exc:
            errors.append(f"round {r}: {exc!r}")
    results.put(errors)


def test_many_processes_starting_together_on_a_new_home(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(8), ctx.Queue()
    processes = [ctx.Process(target=first_start, args=(str(tmp_path), n, barrier, results))
                 for n in range(8)]
    for p in processes:
        p.start()
    errors = [e for _ in processes for e in results.get(timeout=600)]
    for p in processes:
        p.join()
    assert errors == []
    for r in range(ROUNDS):  # one key: every process's session reads back here
        store = SQLiteSessionStore(tmp_path / f"home{r}" / "sessions.db")
        assert all(store.get(f"b{n}") is not None for n in range(8))
        journal = OrderJournal(tmp_path / f"home{r}" / "journal.db")
        assert [journal.get(f"r{r}p{n}").order_id for n in range(8)] == [  # type: ignore[union-attr]
            f"id{n}" for n in range(8)]
        journal.close()
        assert not [p for p in (tmp_path / f"home{r}").iterdir() if p.name.startswith(".")]
