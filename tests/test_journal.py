"""The order journal: claimed once, outcomes forward only, durable, shared safely."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openalgo_core import ConfigurationError, OrderRequest, ValidationError
from openalgo_core.journal import Claim, Entry, OrderJournal, State
from openalgo_core.models import IST

ORDER = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 5,
         "pricetype": "LIMIT", "price": "812.50", "tag": "t1"}


def order(**changes: Any) -> OrderRequest:
    return OrderRequest(**{**ORDER, **changes})


class Clock:
    """A settable clock (tz-aware)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[OrderJournal]:
    j = OrderJournal(tmp_path / "journal.db")
    yield j
    j.close()


# -- claim ---------------------------------------------------------------------------
def test_a_new_tag_is_claimed_fresh_and_stored_as_sent(journal: OrderJournal) -> None:
    claim = journal.claim("angel", order())
    assert claim.fresh
    entry = claim.entry
    assert (entry.tag, entry.broker, entry.state, entry.attempts) == ("t1", "angel",
                                                                      State.SENT, 1)
    assert (entry.order_id, entry.reason, entry.code) == (None, None, None)
    assert entry.created_at == entry.updated_at and entry.created_at.tzinfo is not None
    assert not entry.resolved()
    assert entry.request() == order() and entry.order["price"] == "812.50"
    assert journal.get("t1") == entry


def test_a_tag_already_journaled_is_not_fresh_and_nothing_changes(
        journal: OrderJournal) -> None:
    first = journal.claim("angel", order()).entry
    again = journal.claim("angel", order())
    assert again == Claim(first, fresh=False)
    # the same order written differently (a webhook retry) is the same order
    assert not journal.claim("angel", order(price="812.5", symbol="sbin")).fresh
    journal.acknowledge("t1", "A1")
    repeat = journal.claim("angel", order())
    assert not repeat.fresh and repeat.entry.order_id == "A1" and repeat.entry.attempts == 1


def test_not_placed_is_claimed_again_with_one_attempt_more(journal: OrderJournal) -> None:
    journal.claim("angel", order())
    journal.not_placed("t1", "not in the broker's order book")
    claim = journal.claim("angel", order())
    assert claim.fresh
    assert (claim.entry.state, claim.entry.attempts, claim.entry.reason) == (State.SENT, 2,
                                                                             None)
    assert not journal.claim("angel", order()).fresh  # now in flight again


@pytest.mark.parametrize(("broker", "changes"), [
    ("zerodha", {}), ("angel", {"symbol": "TCS"}), ("angel", {"quantity": 6}),
    ("angel", {"price": "812.55"}), ("angel", {"action": "SELL"}),
    ("angel", {"product": "CNC"}), ("angel", {"strategy": "other"}),
])
def test_the_same_tag_for_a_different_order_is_refused(
        journal: OrderJournal, broker: str, changes: dict[str, Any]) -> None:
    journal.claim("angel", order())
    journal.not_placed("t1", "absent")  # even where a claim could send again
    before = journal.get("t1")
    with pytest.raises(ValidationError) as info:
        journal.claim(broker, order(**changes))
    assert info.value.field == "tag" and "'t1'" in str(info.value)
    assert journal.get("t1") == before


# -- outcomes ------------------------------------------------------------------------
def test_outcomes_are_recorded(journal: OrderJournal) -> None:
    for tag in ("a", "b", "c", "d"):
        journal.claim("angel", order(tag=tag))
    ack = journal.acknowledge("a", "A-1")
    assert (ack.state, ack.order_id, ack.resolved()) == (State.ACKNOWLEDGED, "A-1", True)
    rej = journal.reject("b", "margin shortfall", "AB1")
    assert (rej.state, rej.reason, rej.code, rej.resolved()) == (State.REJECTED,
                                                                "margin shortfall", "AB1", True)
    unk = journal.unknown("c", "read timeout")
    assert (unk.state, unk.reason, unk.resolved()) == (State.UNKNOWN, "read timeout", False)
    gone = journal.not_placed("d", "absent")
    assert (gone.state, gone.resolved()) == (State.NOT_PLACED, True)
    assert [journal.get(t) for t in "abcd"] == [ack, rej, unk, gone]


def test_an_unknown_outcome_is_settled_later(journal: OrderJournal) -> None:
    journal.claim("angel", order())
    journal.unknown("t1", "read timeout")
    assert journal.unknown("t1", "book unavailable").reason == "book unavailable"
    settled = journal.acknowledge("t1", "A-9")
    assert (settled.state, settled.order_id, settled.reason) == (State.ACKNOWLEDGED, "A-9",
                                                                 None)


RESOLVE: dict[State, Callable[[OrderJournal], Entry]] = {
    State.ACKNOWLEDGED: lambda j: j.acknowledge("t1", "A-1"),
    State.REJECTED: lambda j: j.reject("t1", "margin", "X"),
    State.NOT_PLACED: lambda j: j.not_placed("t1", "absent"),
}
LATE: dict[str, Callable[[OrderJournal], Any]] = {
    "acknowledge": lambda j: j.acknowledge("t1", "A-2"),
    "reject": lambda j: j.reject("t1", "late", "Y"),
    "unknown": lambda j: j.unknown("t1", "late timeout"),
    "not_placed": lambda j: j.not_placed("t1", "late"),
    "resend": lambda j: j.resend("t1"),
}


@pytest.mark.parametrize("late", LATE)
@pytest.mark.parametrize("resolved", RESOLVE)
def test_a_resolved_outcome_never_goes_backwards(journal: OrderJournal, resolved: State,
                                                 late: str) -> None:
    journal.claim("angel", order())
    first = RESOLVE[resolved](journal)
    answer = LATE[late](journal)
    assert answer == (Claim(first, fresh=False) if late == "resend" else first)
    assert journal.get("t1") == first


def test_resend_counts_an_attempt_of_a_sent_order_only(journal: OrderJournal) -> None:
    journal.claim("angel", order())
    claim = journal.resend("t1")
    assert claim.fresh and (claim.entry.state, claim.entry.attempts) == (State.SENT, 2)
    unknown = journal.unknown("t1", "timeout")
    assert journal.resend("t1") == Claim(unknown, fresh=False)  # it may be live: never resend


@pytest.mark.parametrize("call", [
    lambda j: j.acknowledge("nope", "1"), lambda j: j.reject("nope", "r"),
    lambda j: j.unknown("nope", "r"), lambda j: j.not_placed("nope", "r"),
    lambda j: j.resend("nope"), lambda j: j.wait("nope", 1.0),
])
def test_an_unknown_tag_is_a_key_error(journal: OrderJournal,
                                       call: Callable[[OrderJournal], Any]) -> None:
    with pytest.raises(KeyError, match="nope"):
        call(journal)
    assert journal.get("nope") is None


# -- queries -------------------------------------------------------------------------
def test_entries_by_day_broker_and_unresolved(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2024, 3, 4, 3, 45, tzinfo=dt.UTC))  # 09:15 IST, 4 March
    journal = OrderJournal(tmp_path / "j.db", clock=clock)
    journal.claim("angel", order(tag="m1"))
    clock.now += dt.timedelta(minutes=1)
    journal.claim("zerodha", order(tag="m2"))
    clock.now += dt.timedelta(minutes=1)
    journal.claim("angel", order(tag="m3"))
    journal.acknowledge("m3", "A3")
    clock.now = dt.datetime(2024, 3, 4, 19, 0, tzinfo=dt.UTC)  # 00:30 IST, 5 March
    journal.claim("angel", order(tag="n1"))
    journal.unknown("n1", "timeout")
    clock.now += dt.timedelta(minutes=1)
    journal.claim("angel", order(tag="n2"))
    journal.reject("n2", "margin")

    def tags(entries: list[Entry]) -> list[str]:
        return [e.tag for e in entries]

    march4, march5 = dt.date(2024, 3, 4), dt.date(2024, 3, 5)
    assert tags(journal.entries()) == ["n1", "n2"]  # today, by the clock, in IST
    assert journal.get("n1") is not None and journal.get("n1").day == march5  # type: ignore[union-attr]
    assert tags(journal.entries(day=march4)) == ["m1", "m2", "m3"]
    assert tags(journal.entries(day=march4, broker="angel")) == ["m1", "m3"]
    assert tags(journal.entries(day=march4, unresolved=True)) == ["m1", "m2"]
    assert tags(journal.entries(day=march4, broker="zerodha", unresolved=True)) == ["m2"]
    assert tags(journal.entries(day=march5, unresolved=True)) == ["n1"]
    assert journal.entries(day=dt.date(2024, 3, 6)) == []
    assert tags(journal.unresolved()) == ["m1", "m2", "n1"]  # any day, oldest first
    assert tags(journal.unresolved("angel")) == ["m1", "n1"]
    assert journal.get("m3").created_at == dt.datetime(2024, 3, 4, 3, 47, tzinfo=dt.UTC)  # type: ignore[union-attr]
    assert journal.get("m3").created_at.astimezone(IST).hour == 9  # type: ignore[union-attr]
    journal.close()


def test_entries_are_oldest_first_when_the_clock_stands_still(tmp_path: Path) -> None:
    journal = OrderJournal(tmp_path / "j.db",
                           clock=Clock(dt.datetime(2024, 3, 4, 4, 0, tzinfo=dt.UTC)))
    names = ["z", "a", "m", "b"]
    for name in names:
        journal.claim("angel", order(tag=name))
    assert [e.tag for e in journal.entries()] == names
    assert [e.tag for e in journal.unresolved()] == names
    journal.close()


# -- waiting -------------------------------------------------------------------------
def test_wait_returns_when_another_thread_records_the_outcome(journal: OrderJournal) -> None:
    journal.claim("angel", order())
    sleeps: list[float] = []
    sender = threading.Thread(target=journal.acknowledge, args=("t1", "A-7"))

    def sleep(seconds: float) -> None:  # the outcome arrives while the waiter sleeps
        sleeps.append(seconds)
        if len(sleeps) == 3:
            sender.start()
            sender.join()

    entry = journal.wait("t1", timeout=60, sleep=sleep)
    assert (entry.state, entry.order_id, len(sleeps)) == (State.ACKNOWLEDGED, "A-7", 3)


def test_wait_with_real_sleeps_and_a_real_thread(journal: OrderJournal) -> None:
    journal.claim("angel", order())
    go = threading.Event()

    def send() -> None:
        go.wait()
        journal.unknown("t1", "read timeout")

    sender = threading.Thread(target=send, daemon=True)
    sender.start()

    def sleep(seconds: float) -> None:
        go.set()
        threading.Event().wait(seconds)

    try:
        assert journal.wait("t1", timeout=600, sleep=sleep).state is State.UNKNOWN
    finally:
        go.set()
        sender.join()


def test_wait_gives_up_after_the_timeout_still_sent(journal: OrderJournal) -> None:
    journal.claim("angel", order())
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) > 1000:
            raise AssertionError("wait() never gave up")

    entry = journal.wait("t1", timeout=2.0, sleep=sleep)
    assert entry.state is State.SENT
    assert sum(sleeps) == pytest.approx(2.0) and max(sleeps) <= 0.25
    sleeps.clear()
    assert journal.wait("t1", timeout=0, sleep=sleep).state is State.SENT
    assert sleeps == []


def test_wait_returns_at_once_when_resolved(journal: OrderJournal) -> None:
    journal.claim("angel", order())
    journal.reject("t1", "no")
    sleeps: list[float] = []
    assert journal.wait("t1", timeout=60, sleep=sleeps.append).state is State.REJECTED
    assert sleeps == []


# -- concurrency and durability ---------------------------------------------------------
@pytest.mark.parametrize("known", [False, True], ids=["new tag", "not placed"])
def test_many_threads_claiming_one_tag_exactly_one_is_fresh(tmp_path: Path,
                                                            known: bool) -> None:
    journals = [OrderJournal(tmp_path / "j.db") for _ in range(2)]  # also two instances
    if known:  # provably not placed: exactly one caller may send it again
        journals[0].claim("angel", order())
        journals[0].not_placed("t1", "absent")
    barrier = threading.Barrier(16)
    fresh: list[bool] = []
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            fresh.append(journals[n % 2].claim("angel", order()).fresh)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(fresh) == [False] * 15 + [True]
    assert journals[0].get("t1").attempts == 1 + known  # type: ignore[union-attr]
    for j in journals:
        j.close()


def claim_in_a_process(path: str, barrier: Any, results: Any) -> None:
    """(In a child process) claim the shared tag when every process is ready."""
    journal = OrderJournal(path)
    barrier.wait(timeout=120)
    try:
        results.put(journal.claim("angel", order()).fresh)
    except BaseException as exc:
        results.put(repr(exc))
    finally:
        journal.close()


def test_many_processes_claiming_one_tag_exactly_one_is_fresh(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(8), ctx.Queue()
    path = str(tmp_path / "j.db")
    OrderJournal(path).close()
    processes = [ctx.Process(target=claim_in_a_process, args=(path, barrier, results))
                 for _ in range(8)]
    for p in processes:
        p.start()
    answers = [results.get(timeout=300) for _ in processes]
    for p in processes:
        p.join()
    assert sorted(answers, key=str) == [False] * 7 + [True]
    assert OrderJournal(path).get("t1").attempts == 1  # type: ignore[union-attr]


KILLED = """
import os, sys
from openalgo_core import OrderRequest
from openalgo_core.journal import OrderJournal
journal = OrderJournal(sys.argv[1], synchronous=sys.argv[2])
order = OrderRequest(symbol="SBIN", exchange="NSE", action="BUY", quantity=1, tag="crash1")
assert journal.claim("angel", order).fresh
os._exit(9)  # killed between the journal write and the send
"""


@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])
def test_a_claim_survives_the_process_being_killed_right_after(tmp_path: Path,
                                                               synchronous: str) -> None:
    path = tmp_path / "journal.db"
    done = subprocess.run([sys.executable, "-c", KILLED, str(path), synchronous],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 9, done.stderr
    journal = OrderJournal(path)
    entry = journal.get("crash1")
    assert entry is not None and (entry.state, entry.attempts) == (State.SENT, 1)
    assert [e.tag for e in journal.unresolved()] == ["crash1"]
    journal.close()


# -- the file ------------------------------------------------------------------------
def test_the_file_is_private_and_holds_plain_order_data(tmp_path: Path) -> None:
    journal = OrderJournal(tmp_path / "journal.db")
    journal.claim("angel", order())
    assert stat.S_IMODE((tmp_path / "journal.db").stat().st_mode) == 0o600
    journal.close()
    reopened = OrderJournal(tmp_path / "journal.db")
    assert reopened.get("t1") is not None and reopened.get("t1").request() == order()  # type: ignore[union-attr]
    reopened.close()


def test_close_closes_every_thread_and_refuses_further_use(tmp_path: Path) -> None:
    journal = OrderJournal(tmp_path / "journal.db")
    other = threading.Thread(target=journal.get, args=("x",))  # a thread's reader
    other.start()
    other.join()
    journal.claim("angel", order())  # the one writer
    journal.acknowledge_soon("t1", "42")
    journal.get("t1")  # this thread's reader
    connections = list(journal._connections)
    assert len(connections) >= 2  # the writer, this thread's reader (maybe the other's)
    journal.close()
    for db in connections:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            db.execute("SELECT 1")
    with pytest.raises(ConfigurationError, match="closed"):
        journal.get("t1")


def test_a_file_that_is_not_a_database_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "journal.db").write_bytes(b"not a database" * 100)
    with pytest.raises(ConfigurationError) as info:
        OrderJournal(tmp_path / "journal.db")
    assert "not a usable order journal" in str(info.value)
    assert "move it aside" in str(info.value)


def test_synchronous_must_be_normal_or_full(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="NORMAL or FULL"):
        OrderJournal(tmp_path / "journal.db", synchronous="OFF")  # type: ignore[arg-type]


def test_an_acknowledgement_kept_for_later_is_on_disk_after_the_next_claim(
        tmp_path: Path) -> None:
    """The order path pays one commit: the next claim commits the kept acknowledgement;
    another process (another journal object) sees it then, without any read here."""
    journal = OrderJournal(tmp_path / "journal.db")
    journal.claim("angel", order(tag="first"))
    journal.acknowledge_soon("first", "111")
    journal.claim("angel", order(tag="second"))
    other = OrderJournal(tmp_path / "journal.db")
    seen = other.get("first")
    assert seen is not None and (seen.state, seen.order_id) == (State.ACKNOWLEDGED, "111")


def test_an_acknowledgement_kept_for_later_is_written_by_itself(tmp_path: Path) -> None:
    journal = OrderJournal(tmp_path / "journal.db")
    other = OrderJournal(tmp_path / "journal.db")
    journal.claim("angel", order(tag="alone"))
    journal.acknowledge_soon("alone", "7")
    deadline = time.monotonic() + 10
    while (entry := other.get("alone")) is not None and entry.state is State.SENT:
        assert time.monotonic() < deadline, "the writer thread never committed it"
        time.sleep(0.01)
    assert entry is not None and entry.order_id == "7"
