"""Session stores: memory, and SQLite encrypted at rest, shared safely."""

import datetime as dt
import stat
import threading
from pathlib import Path

import pytest

from openalgo_core import ConfigurationError, MemorySessionStore, SQLiteSessionStore, new_session
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
