"""The embedding API, end to end against the fake broker in-process."""

import dataclasses
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest

from openalgo_core import (
    AuthenticationError,
    BrokerError,
    ConfigurationError,
    Gateway,
    LoginChallenge,
    LoginRequiredError,
    MemorySessionStore,
    MissingCredentialsError,
    OrderReceipt,
    OrderStatusUnknownError,
    PluginContractError,
    PluginError,
    PluginNotFoundError,
    Registry,
    Session,
    SessionExpiredError,
    UnknownSymbolError,
    ValidationError,
    hookimpl,
    new_session,
)
from openalgo_core.testing import InProcessTransport
from tests.fakebroker import plugin as fake_plugin
from tests.fakebroker.simulator import FakeSimulator

ORDER = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1}


def login(gw: Gateway) -> Session:
    result = gw.authenticate("fake")
    assert isinstance(result, Session)
    return result


def test_totp_login_is_unattended_and_stored(gateway: Gateway) -> None:
    session = login(gateway)
    assert gateway.session("fake") == session and session.user_id == "C42"


def test_order_and_positions(gateway: Gateway, fake_sim: FakeSimulator) -> None:
    login(gateway)
    receipt = gateway.place_order("fake", ORDER)
    assert receipt.order_id and receipt.tag and receipt.tag.startswith("oa")
    (booked,) = fake_sim.book.orders.values()
    assert booked.tag == receipt.tag and booked.token == "3045"
    (row,) = gateway.fetch_positions("fake")
    assert (row.symbol, row.quantity) == ("SBIN", 1)


def test_validation_happens_before_the_network(gateway: Gateway, fake_sim: FakeSimulator) -> None:
    login(gateway)
    gateway.instruments("fake")
    before = fake_sim.stats["requests"]
    with pytest.raises(ValidationError, match="quantity"):
        gateway.place_order("fake", {**ORDER, "quantity": 0})
    with pytest.raises(ValidationError, match="does not support MCX"):
        gateway.place_order("fake", {**ORDER, "exchange": "MCX", "product": "NRML"})
    with pytest.raises(UnknownSymbolError, match="SBIN"):
        gateway.place_order("fake", {**ORDER, "symbol": "SBI"})
    nifty_fut = next(i for i in gateway.instruments("fake").search("NIFTY") if
                     i.instrument_type == "FUT" and i.lot_size == 75)
    with pytest.raises(ValidationError, match="lot size 75"):
        gateway.place_order("fake", {**ORDER, "symbol": nifty_fut.symbol, "exchange": "NFO",
                                     "product": "NRML", "quantity": 10})
    assert fake_sim.stats["requests"] == before


def test_not_logged_in_and_expired_sessions(gateway: Gateway, fake_sim: FakeSimulator) -> None:
    gateway.auto_login = False
    with pytest.raises(LoginRequiredError, match=r"not logged in.*OPENALGO_AUTO_LOGIN=0"):
        gateway.place_order("fake", ORDER)
    stale = new_session("fake", "C42", "old", now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    gateway.sessions.put(stale)
    with pytest.raises(SessionExpiredError, match="session expired at 2020-01-02 03:00 IST"):
        gateway.fetch_positions("fake")
    assert gateway.sessions.get("fake") is None
    assert fake_sim.stats["requests"] == 0


def test_unknown_broker(gateway: Gateway) -> None:
    with pytest.raises(PluginNotFoundError):
        gateway.fetch_positions("zerodha")


def test_missing_credentials_name_the_variables(gateway: Gateway,
                                                fake_env: dict[str, str]) -> None:
    del fake_env["OPENALGO_FAKE_PIN"]
    with pytest.raises(MissingCredentialsError, match="OPENALGO_FAKE_PIN"):
        gateway.authenticate("fake")


def test_orders_use_the_credentials_read_at_login(gateway: Gateway, fake_env: dict[str, str],
                                                  fake_sim: FakeSimulator) -> None:
    login(gateway)
    fake_env["OPENALGO_FAKE_API_KEY"] = "rotated-key"  # edited mid-session
    assert gateway.credentials("fake").get("API_KEY") == "key-123456"
    gateway.place_order("fake", ORDER)  # still signed with the key the session was made with
    login_again = gateway.credentials("fake", reload=True)
    assert login_again.get("API_KEY") == "rotated-key"


def test_code_challenge_accepts_only_the_issued_state_once(
        gateway: Gateway, fake_env: dict[str, str]) -> None:
    from openalgo_core import totp_now

    secret = fake_env.pop("OPENALGO_FAKE_TOTP_SECRET")
    challenge = gateway.authenticate("fake")
    assert isinstance(challenge, LoginChallenge) and challenge.kind == "code"
    with pytest.raises(AuthenticationError, match="state"):
        gateway.handle_callback("fake", {"state": "forged", "code": totp_now(secret)})
    fake_env["OPENALGO_FAKE_TOTP_SECRET"] = secret  # the simulator still knows it
    session = gateway.handle_callback("fake", {"state": challenge.state,
                                               "code": totp_now(secret)})
    assert isinstance(session, Session)
    with pytest.raises(AuthenticationError, match="already used"):
        gateway.handle_callback("fake", {"state": challenge.state, "code": totp_now(secret)})


def test_challenges_expire(fake_env: dict[str, str], fake_sim: FakeSimulator,
                           tmp_path: Path) -> None:
    now = [dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)]
    registry = Registry(environ=fake_env, discover=False)
    registry.register_broker(fake_plugin)
    del fake_env["OPENALGO_FAKE_TOTP_SECRET"]
    with Gateway(registry=registry, environ=fake_env, session_store=MemorySessionStore(),
                 cache_dir=tmp_path, transports={"fake": InProcessTransport(fake_sim.app)},
                 clock=lambda: now[0]) as gw:
        challenge = gw.authenticate("fake")
        assert isinstance(challenge, LoginChallenge)
        now[0] += dt.timedelta(minutes=16)
        with pytest.raises(AuthenticationError, match="expired"):
            gw.handle_callback("fake", {"state": challenge.state, "code": "123456"})


def test_instruments_download_once_a_day_across_gateways(
        fake_env: dict[str, str], fake_sim: FakeSimulator, tmp_path: Path) -> None:
    def make() -> Gateway:
        registry = Registry(environ=fake_env, discover=False)
        registry.register_broker(fake_plugin)
        return Gateway(registry=registry, environ=fake_env, session_store=MemorySessionStore(),
                       cache_dir=tmp_path, transports={"fake": InProcessTransport(fake_sim.app)})
    with make() as first:
        assert first.instruments("fake").resolve("SBIN", "NSE").token == "3045"
        first.instruments("fake")
    with make() as second:
        assert len(second.instruments("fake")) == len(fake_sim.listings)
    assert fake_sim.stats["requests"] == 1
    with make() as third:
        third.instruments("fake", refresh=True)
    assert fake_sim.stats["requests"] == 2


def test_a_failed_download_keeps_the_last_master(
        fake_env: dict[str, str], fake_sim: FakeSimulator, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """OpenAlgo #2099: a failed download must never cost the master. Yesterday's cache
    serves today (logged), is kept on disk, and a refresh that succeeds replaces it;
    with no earlier master, the failure is raised."""
    from openalgo_core import BrokerServerError

    now = [dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC)]

    def make(cache: Path) -> Gateway:
        registry = Registry(environ=fake_env, discover=False)
        registry.register_broker(fake_plugin)
        return Gateway(registry=registry, environ=fake_env, session_store=MemorySessionStore(),
                       cache_dir=cache, transports={"fake": InProcessTransport(fake_sim.app)},
                       clock=lambda: now[0], sleep=lambda seconds: None)
    with make(tmp_path) as first:
        first.instruments("fake")
    now[0] += dt.timedelta(days=1)
    fake_sim.faults.error_rate = 1.0
    with make(tmp_path) as second, caplog.at_level("WARNING", "openalgo.gateway"):
        kept = second.instruments("fake")
        assert kept.resolve("SBIN", "NSE").token == "3045"
        assert "using the one of 2026-03-02" in caplog.text
    assert [p.name for p in tmp_path.glob("instruments-fake-*")] == [
        "instruments-fake-20260302.txt"]
    with make(tmp_path / "empty") as fresh, pytest.raises(BrokerServerError):
        fresh.instruments("fake")
    fake_sim.faults.error_rate = 0.0
    with make(tmp_path) as third:
        assert len(third.instruments("fake", refresh=True)) == len(fake_sim.listings)
    assert [p.name for p in tmp_path.glob("instruments-fake-*")] == [
        "instruments-fake-20260303.txt"]


def test_concurrent_orders_from_threads_get_unique_tags(gateway: Gateway,
                                                         fake_sim: FakeSimulator) -> None:
    login(gateway)
    gateway.instruments("fake")
    receipts = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            receipt = gateway.place_order("fake", ORDER)
            with lock:
                receipts.append(receipt)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.tag for r in receipts}) == len({r.order_id for r in receipts}) == 80
    assert len(fake_sim.book.orders) == 80


def test_pacing_follows_the_declared_limits_and_can_be_turned_off(
        fake_env: dict[str, str], fake_sim: FakeSimulator, tmp_path: Path) -> None:
    def make(**kw: object) -> Gateway:
        registry = Registry(environ=fake_env, discover=False)
        registry.register_broker(fake_plugin)
        return Gateway(registry=registry, environ=fake_env, session_store=MemorySessionStore(),
                       cache_dir=tmp_path, transports={"fake": InProcessTransport(fake_sim.app)},
                       **kw)  # type: ignore[arg-type]
    with make() as paced:
        assert set(paced.client("fake").limiters) == {"orders", "reads"}
    with make(pace=False) as unpaced:
        assert unpaced.client("fake").limiters == {}
    fake_env["OPENALGO_PACING"] = "0"
    with make() as by_env:
        assert by_env.client("fake").limiters == {}


def test_sessions_never_outlive_the_brokers_daily_boundary(
        fake_env: dict[str, str], fake_sim: FakeSimulator, tmp_path: Path) -> None:
    from typing import Any

    from openalgo_core import hookimpl
    from openalgo_core.models import IST

    class MidnightBroker:
        """The fake broker, declaring that its sessions end at 00:00 IST."""

        @hookimpl
        def broker_info(self) -> Any:
            return dataclasses.replace(fake_plugin.INFO, session_expiry_hour_ist=0)

        @hookimpl
        def authenticate(self, credentials: Any, client: Any) -> Any:
            # The broker's own session claims two days, whatever the hour of the run.
            session = fake_plugin.authenticate(credentials, client)
            return session.model_copy(
                update={"expires_at": session.created_at + dt.timedelta(days=2)})

    registry = Registry(environ=fake_env, discover=False)
    registry.register_broker(MidnightBroker())
    with Gateway(registry=registry, environ=fake_env, session_store=MemorySessionStore(),
                 cache_dir=tmp_path, transports={"fake": InProcessTransport(fake_sim.app)}
                 ) as gw:
        session = gw.authenticate("fake")
        assert isinstance(session, Session)
        assert session.expires_at.astimezone(IST).hour == 0
        assert session.expires_at - session.created_at <= dt.timedelta(days=1)
        assert gw.sessions.get("fake") == session


@pytest.mark.parametrize("home", ["a-file", "/dev/null", "/sys", "/sys/openalgo"])
def test_unusable_openalgo_home_is_named(tmp_path: Path, home: str) -> None:
    if home == "a-file":
        home = str(tmp_path / "a-file")
        Path(home).write_text("not a directory")
    registry = Registry(environ={}, discover=False)
    with pytest.raises(ConfigurationError) as info:
        Gateway(registry=registry, environ={"OPENALGO_HOME": home})
    assert f"{home} (from OPENALGO_HOME)" in str(info.value)
    # with its own session store, the instrument cache directory is still checked
    with pytest.raises(ConfigurationError, match="OPENALGO_HOME"):
        Gateway(registry=registry, environ={"OPENALGO_HOME": home},
                session_store=MemorySessionStore())


def test_unusable_cache_directory_is_named(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("not a directory")
    with pytest.raises(ConfigurationError) as info:
        Gateway(registry=Registry(environ={}, discover=False),
                environ={"OPENALGO_HOME": str(tmp_path)}, session_store=MemorySessionStore())
    assert str(info.value) == f"{tmp_path / 'cache'} (from OPENALGO_HOME) is not a directory"


def test_default_home_is_created(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    with Gateway(registry=Registry(environ={}, discover=False),
                 environ={"OPENALGO_HOME": str(home), "OPENALGO_SECRET_KEY": "k"}):
        assert (home / "sessions.db").is_file() and (home / "cache").is_dir()


@pytest.mark.parametrize("url", ["http://127.0.0.1:80x0", "127.0.0.1:8100", "http://",
                                 "http://127.0.0.1:8100/ x", "http://127.0.0.1:123456"])
def test_malformed_base_url_fails_before_any_client(gateway: Gateway, fake_env: dict[str, str],
                                                    fake_sim: FakeSimulator, url: str) -> None:
    fake_env["OPENALGO_FAKE_BASE_URL"] = url
    with pytest.raises(ConfigurationError) as info:
        gateway.authenticate("fake")
    assert str(info.value).startswith("OPENALGO_FAKE_BASE_URL ")
    with pytest.raises(ConfigurationError, match="OPENALGO_FAKE_BASE_URL"):
        gateway.client("fake")
    assert fake_sim.stats["requests"] == 0


class ContractBreaker:
    """The fake broker, with one hook answering what the contract forbids."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers

    @hookimpl
    def broker_info(self) -> Any:
        return fake_plugin.broker_info()

    @hookimpl
    def authenticate(self, credentials: Any, client: Any) -> Any:
        if "authenticate" in self.answers:
            return self.answers["authenticate"]
        return fake_plugin.authenticate(credentials=credentials, client=client)

    @hookimpl
    def handle_callback(self, credentials: Any, client: Any, params: Any) -> Any:
        return self.answers["handle_callback"]

    @hookimpl
    def place_order(self, order: Any, instrument: Any, session: Any, client: Any) -> Any:
        return self.answers["place_order"]

    @hookimpl
    def fetch_instruments(self, client: Any, progress: Any) -> Any:
        return fake_plugin.fetch_instruments(client=client, progress=progress)


def breaker_gateway(fake_env: dict[str, str], fake_sim: FakeSimulator, tmp_path: Path,
                    **answers: Any) -> Gateway:
    registry = Registry(environ=fake_env, discover=False)
    registry.register_broker(ContractBreaker(**answers))
    return Gateway(registry=registry, environ=fake_env, session_store=MemorySessionStore(),
                   cache_dir=tmp_path, transports={"fake": InProcessTransport(fake_sim.app)})


def other_session() -> Session:
    return new_session("angel", "C42", "token-for-angel")


@pytest.mark.parametrize(("answers", "needle"), [
    ({"authenticate": "a token"}, "neither a Session nor a LoginChallenge but str"),
    ({"authenticate": other_session()}, "a session for 'angel'"),
    ({"authenticate": LoginChallenge(broker="fake", kind="code", prompt="code"),
      "handle_callback": {"token": "t"}}, "handle_callback returned no Session but dict"),
    ({"authenticate": LoginChallenge(broker="fake", kind="code", prompt="code"),
      "handle_callback": other_session()}, "a session for 'angel'"),
])
def test_a_plugin_breaking_the_login_contract_is_a_plugin_error(
        fake_env: dict[str, str], fake_sim: FakeSimulator, tmp_path: Path,
        answers: dict[str, Any], needle: str) -> None:
    with breaker_gateway(fake_env, fake_sim, tmp_path, **answers) as gw:
        with pytest.raises(PluginContractError) as info:
            result = gw.authenticate("fake")
            assert isinstance(result, LoginChallenge)
            gw.handle_callback("fake", {"state": result.state, "code": "123456"})
        assert needle in str(info.value) and str(info.value).startswith("fake: ")
        assert gw.sessions.get("fake") is None and gw.sessions.get("angel") is None
    assert issubclass(PluginContractError, PluginError)
    assert not issubclass(PluginContractError, BrokerError)


@pytest.mark.parametrize("receipt", [{"order_id": "1"}, "1",
                                     OrderReceipt.model_construct(broker="fake", order_id="")])
def test_a_plugin_returning_no_order_id_is_a_plugin_error(
        fake_env: dict[str, str], fake_sim: FakeSimulator, tmp_path: Path,
        receipt: object) -> None:
    with breaker_gateway(fake_env, fake_sim, tmp_path, place_order=receipt) as gw:
        gw.sessions.put(new_session("fake", "C42", "token"))
        with pytest.raises(OrderStatusUnknownError) as info:
            gw.place_order("fake", {**ORDER, "tag": "mytag7"})
        assert "no order id" in str(info.value) and info.value.tag == "mytag7"
        entry = gw.journal.get("mytag7")  # the order may be live: the journal keeps it open
        assert entry is not None and entry.state == "unknown"
