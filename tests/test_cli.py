"""The `openalgo` command against the fake broker."""

import argparse
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from openalgo_core import (
    Gateway,
    MemorySessionStore,
    Registry,
)
from openalgo_core.cli import main
from tests.fakebroker.asking import AskingBroker
from tests.fakebroker.simulator import FakeSimulator


def run(gateway: Gateway, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, gateway=gateway)
    return code, out.getvalue()


def placed_id(text: str) -> str:
    """The order id ``openalgo order`` printed on its last line."""
    last = text.strip().splitlines()[-1]
    assert last.startswith("order id "), text
    return last.removeprefix("order id ")


def test_brokers_json(gateway: Gateway) -> None:
    code, text = run(gateway, "brokers", "--json")
    (row,) = json.loads(text)
    assert code == 0 and row["id"] == "fake" and row["status"] == "ok"
    assert row["login"] == "totp" and "NSE" in row["exchanges"]


def test_login_order_positions(gateway: Gateway) -> None:
    code, text = run(gateway, "login", "fake")
    assert code == 0 and "logged in to fake as C42" in text and "IST" in text
    code, text = run(gateway, "order", "fake", "--symbol", "SBIN", "--exchange", "NSE",
                     "--action", "buy", "--quantity", "5")
    assert code == 0 and placed_id(text).startswith("F")
    assert text.startswith("fake: BUY 5 SBIN (NSE) MARKET MIS, tag ")
    code, text = run(gateway, "order", "fake", "--symbol", "SBIN", "--exchange", "NSE",
                     "--action", "SELL", "--quantity", "2", "--pricetype", "LIMIT",
                     "--price", "1", "--json")
    assert json.loads(text)["status"] == "success"
    code, text = run(gateway, "positions", "fake")
    assert code == 0
    header, _rule, row = text.strip().splitlines()  # one row: no total
    assert header.split() == ["symbol", "exchange", "product", "quantity", "average_price",
                              "ltp", "pnl"]
    assert row.split()[:4] == ["SBIN", "NSE", "MIS", "3"]
    assert all(len(cell.partition(".")[2]) >= 2 for cell in row.split()[4:])
    code, text = run(gateway, "positions", "fake", "--json")
    assert json.loads(text)[0]["quantity"] == 3


def test_login_asks_for_the_code_without_totp_secret(
        gateway: Gateway, fake_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from openalgo_core import totp_now

    secret = fake_env.pop("OPENALGO_FAKE_TOTP_SECRET")
    monkeypatch.setattr(sys, "stdin", io.StringIO(totp_now(secret) + "\n"))
    code, text = run(gateway, "login", "fake")
    assert code == 0 and "logged in" in text


def test_errors_are_one_line_with_nonzero_exit(gateway: Gateway,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    gateway.auto_login = False
    assert run(gateway, "positions", "fake")[0] == 1
    err = capsys.readouterr().err
    assert err.startswith("error: fake: not logged in") and err.count("\n") == 1
    assert "run `openalgo login fake`" in err
    run(gateway, "login", "fake")
    code, _ = run(gateway, "order", "fake", "--symbol", "SBIN", "--exchange", "NSE",
                  "--action", "BUY", "--quantity", "0")
    assert code == 2
    assert "quantity" in capsys.readouterr().err
    assert run(gateway, "positions", "nope")[0] == 1


def test_instruments_search(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run(gateway, "instruments", "fake", "--search", "VEDL")
    assert code == 0 and "VEDL" in text and "292.5" in text
    assert "master contract" in capsys.readouterr().err  # the progress line
    code, text = run(gateway, "instruments", "fake")
    assert "instruments cached for fake" in text


def test_console_script_runs_without_traceback(tmp_path: object) -> None:
    result = subprocess.run([sys.executable, "-m", "openalgo_core.cli", "positions", "nosuch"],
                            capture_output=True, text=True, cwd=str(tmp_path),
                            env={"OPENALGO_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
                            check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "nosuch" in result.stderr


def test_sim_takes_a_certificate_only_with_its_key(gateway: Gateway,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert run(gateway, "sim", "fake", "--ssl-certfile", "cert.pem")[0] == 2
    assert "--ssl-keyfile" in capsys.readouterr().err


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


class TTYInput(io.StringIO):
    """Standard input that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def asking(fake_env: dict[str, str], tmp_path: Path) -> tuple[Gateway, AskingBroker]:
    broker = AskingBroker()
    registry = Registry(environ=fake_env, discover=False)
    registry.register_broker(broker)
    return Gateway(registry=registry, environ=fake_env, session_store=MemorySessionStore(),
                   cache_dir=tmp_path), broker


def test_login_asks_for_every_field_and_reads_secrets_unseen(
        asking: tuple[Gateway, AskingBroker], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    gateway, broker = asking
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return "4321"
    monkeypatch.setattr(sys, "stdin", TTYInput("C77\n123456\n"))
    monkeypatch.setattr("getpass.getpass", fake_getpass)
    code, text = run(gateway, "login", "fake")
    assert code == 0 and "logged in to fake as C77" in text and "Log in to Fake" in text
    assert prompts == ["PIN: "]
    (params,) = broker.params
    assert {k: v for k, v in params.items() if k != "state"} == {
        "client_id": "C77", "pin": "4321", "code": "123456"}
    shown = text + capsys.readouterr().out
    assert "Client ID: " in shown and "Code: " in shown and "4321" not in shown


def test_piped_answers_are_read_from_standard_input(
        asking: tuple[Gateway, AskingBroker], monkeypatch: pytest.MonkeyPatch) -> None:
    gateway, broker = asking
    monkeypatch.setattr(sys, "stdin", io.StringIO("C77\n4321\n123456\n"))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("no terminal"))
    assert run(gateway, "login", "fake")[0] == 0
    assert broker.params[0]["pin"] == "4321"


@pytest.mark.parametrize("stdin", [io.StringIO(""), None])
def test_login_with_standard_input_closed_names_the_variable(
        gateway: Gateway, fake_env: dict[str, str], fake_sim: FakeSimulator,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        stdin: io.StringIO | None) -> None:
    del fake_env["OPENALGO_FAKE_TOTP_SECRET"]
    monkeypatch.setattr(sys, "stdin", stdin)
    assert run(gateway, "login", "fake")[0] == 1
    err = one_error_line(capsys)
    assert "no code could be asked for (standard input is closed)" in err
    assert "set OPENALGO_FAKE_TOTP_SECRET" in err
    assert fake_sim.stats["requests"] == 0


def test_closed_input_names_every_variable_the_challenge_asks_for(
        asking: tuple[Gateway, AskingBroker], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("C77\n"))
    assert run(asking[0], "login", "fake")[0] == 1
    err = one_error_line(capsys)
    assert "no client id, pin, code could be asked for" in err
    assert ("set OPENALGO_FAKE_CLIENT_ID, OPENALGO_FAKE_PIN, OPENALGO_FAKE_TOTP_SECRET to log"
            " in unattended") in err
    assert asking[1].params == []


def test_env_file_not_utf8_is_one_line(gateway: Gateway, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes(b"# mine\nBROKER_API_KEY=\xff\xfe\n")
    assert run(gateway, "brokers")[0] == 1
    assert ".env: line 2 is not UTF-8" in one_error_line(capsys)


@pytest.fixture
def bare_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory without .env, and no OPENALGO_SECRET_KEY."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("OPENALGO_SECRET_KEY", raising=False)
    return tmp_path


@pytest.mark.parametrize("home", ["a-file", "/dev/null", "/sys"])
def test_unusable_home_is_one_line(bare_cwd: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str], home: str) -> None:
    if home == "a-file":
        home = str(bare_cwd / "a-file")
        Path(home).write_text("x")
    monkeypatch.setenv("OPENALGO_HOME", home)
    assert main(["positions", "fake"]) == 1
    assert f"error: {home} (from OPENALGO_HOME) is " in one_error_line(capsys)


def test_apikey_with_unusable_home_is_one_line(gateway: Gateway, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENALGO_HOME", "/dev/null")
    assert run(gateway, "apikey") == (1, "")
    assert "/dev/null (from OPENALGO_HOME) is not a directory" in one_error_line(capsys)


@pytest.mark.parametrize(("name", "content", "needle"), [
    ("sessions.key", b"", "holds no valid session key (empty or corrupt): delete it"),
    ("sessions.key", b"garbage", "OPENALGO_SECRET_KEY"),
    ("sessions.db", b"not a database" * 200, "is not a usable session database"),
])
def test_broken_session_files_are_one_line(bare_cwd: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str], name: str,
                                           content: bytes, needle: str) -> None:
    home = bare_cwd / "home"
    home.mkdir()
    (home / name).write_bytes(content)
    (home / name).chmod(0o600)
    monkeypatch.setenv("OPENALGO_HOME", str(home))
    assert main(["positions", "fake"]) == 1
    err = one_error_line(capsys)
    assert str(home / name) in err and needle in err


def test_malformed_base_url_is_one_line(gateway: Gateway, fake_env: dict[str, str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    fake_env["OPENALGO_FAKE_BASE_URL"] = "http://127.0.0.1:80x0"
    assert run(gateway, "login", "fake")[0] == 1
    assert one_error_line(capsys).startswith(
        "error: OPENALGO_FAKE_BASE_URL has a malformed host or port")


def test_non_ascii_api_key_is_one_line_without_the_value(
        gateway: Gateway, fake_env: dict[str, str], fake_sim: FakeSimulator,
        capsys: pytest.CaptureFixture[str]) -> None:
    fake_env["OPENALGO_FAKE_API_KEY"] = "k\u00e9y-123456"
    assert run(gateway, "login", "fake")[0] == 1
    err = one_error_line(capsys)
    assert "OPENALGO_FAKE_API_KEY must be printable ASCII" in err and "123456" not in err
    assert fake_sim.stats["requests"] == 0


@pytest.mark.parametrize(("env", "needle"), [
    ({"REDIRECT_URL": "http://127.0.0.1:50x0/angel/callback"},
     "REDIRECT_URL has a malformed host or port"),
    ({"OPENALGO_ORDER_RATE_LIMIT": "ten"}, "OPENALGO_ORDER_RATE_LIMIT must be a whole number"),
    ({"OPENALGO_API_RATE_LIMIT": "0"}, "OPENALGO_API_RATE_LIMIT must be a whole number"),
])
def test_serve_with_bad_settings_is_one_line(
        gateway: Gateway, bare_cwd: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], env: dict[str, str], needle: str) -> None:
    import uvicorn

    monkeypatch.setenv("OPENALGO_HOME", str(bare_cwd))
    monkeypatch.setenv("OPENALGO_API_KEY", "k" * 64)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("served"))
    assert run(gateway, "serve")[0] == 1
    assert needle in one_error_line(capsys)


def test_the_rest_of_the_day(gateway: Gateway, fake_sim: FakeSimulator) -> None:
    """orderbook, status, modify, cancel, trades, funds, holdings, journal, reconcile."""
    market = fake_sim.price(next(r.token for r in fake_sim.listings if r.symbol == "SBIN"))
    below = str(market - 10)
    code, resting = run(gateway, "order", "fake", "--symbol", "SBIN", "--exchange", "NSE",
                        "--action", "BUY", "--quantity", "2", "--pricetype", "LIMIT",
                        "--price", below, "--tag", "clitag1")
    resting = placed_id(resting)
    code, text = run(gateway, "orders", "fake")
    assert code == 0 and resting in text and "clitag1" in text and " open " in text
    code, text = run(gateway, "modify", "fake", resting, "--quantity", "3")
    assert code == 0 and text.strip() == resting
    code, text = run(gateway, "status", "fake", resting, "--json")
    (order,) = json.loads(text)
    assert (order["quantity"], order["status"], order["price"]) == (
        3, "open", f"{market - 10:.2f}")
    code, text = run(gateway, "cancel", "fake", resting)
    assert code == 0 and text.strip() == resting
    code, text = run(gateway, "cancel", "fake", resting)  # not open any more: nothing sent
    assert code == 1
    run(gateway, "order", "fake", "--symbol", "SBIN", "--exchange", "NSE", "--action", "BUY",
        "--quantity", "1")
    code, text = run(gateway, "trades", "fake", "--json")
    assert code == 0 and [t["quantity"] for t in json.loads(text)] == [1]
    code, text = run(gateway, "funds", "fake")
    assert code == 0 and "available_cash" in text
    code, text = run(gateway, "holdings", "fake")
    assert code == 0 and "INFY" in text
    code, text = run(gateway, "journal", "fake", "--json")
    first = json.loads(text)[0]
    assert (first["tag"], first["state"]) == ("clitag1", "acknowledged")
    code, text = run(gateway, "journal", "--unresolved")
    assert code == 0 and "nothing unresolved" in text
    code, text = run(gateway, "reconcile", "fake")
    assert code == 0 and "settled" in text


def test_cancel_needs_one_order_or_all(gateway: Gateway) -> None:
    with pytest.raises(SystemExit):
        run(gateway, "cancel", "fake")
    code, text = run(gateway, "cancel", "fake", "--all")
    assert code == 0 and "no open orders" in text


def test_login_can_have_a_sent_code_sent_again(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    """Typing ``resend`` at the prompt of a broker that texts its code asks for a new
    one; the new code logs in."""
    from openalgo_core.testing.wiring import wire
    from tests.fakeotp.plugin import hooks as fakeotp

    with wire(fakeotp, home=tmp_path / "home") as harness:
        typed: list[str] = []

        class Typist(io.StringIO):
            def readline(self, size: int | None = -1) -> str:
                typed.append("resend" if not typed else harness.sim.user_code())
                return typed[-1] + "\n"

        monkeypatch.setattr(sys, "stdin", Typist())
        code, text = run(harness.gateway, "login", "fakeotp")
        assert code == 0 and "type resend for a new code" in text
        assert "logged in to fakeotp" in text
        assert len(harness.sim.sent_otps) == 2 and typed == ["resend", harness.sim.sent_otps[1]]


def test_the_order_command_echoes_what_it_placed(gateway: Gateway) -> None:
    run(gateway, "login", "fake")
    code, text = run(gateway, "order", "fake", "--symbol", "SBIN", "--exchange", "NSE",
                     "--action", "sell", "--quantity", "2", "--pricetype", "SL",
                     "--price", "99.5", "--trigger-price", "100", "--product", "CNC",
                     "--tag", "echo1")
    assert code == 0
    assert text.splitlines()[0] == ("fake: SELL 2 SBIN (NSE) SL @ 99.50 trigger 100.00 CNC,"
                                    " tag echo1")
    code, text = run(gateway, "order", "fake", "--symbol", "SBIN", "--exchange", "NSE",
                     "--action", "BUY", "--quantity", "1", "--tag", "echo2", "--json")
    placed = json.loads(text)
    assert (placed["tag"], placed["order"]["symbol"], placed["order"]["quantity"],
            placed["order"]["pricetype"], placed["order"]["price"]) == (
        "echo2", "SBIN", 1, "MARKET", "0.00")


@pytest.mark.parametrize(("argv", "flag"), [
    (["--pricetype", "SL", "--price", "10", "--trigger-price", "abc"], "--trigger-price"),
    (["--price", "12.3.4", "--pricetype", "LIMIT"], "--price"),
    (["--disclosed-quantity", "1.5"], "--disclosed-quantity"),
])
def test_a_bad_value_names_the_option_not_the_field(
        gateway: Gateway, capsys: pytest.CaptureFixture[str], argv: list[str],
        flag: str) -> None:
    run(gateway, "login", "fake")
    capsys.readouterr()
    code, _ = run(gateway, "order", "fake", "--symbol", "SBIN", "--exchange", "NSE",
                  "--action", "BUY", "--quantity", "1", *argv)
    error = capsys.readouterr().err
    assert code == 2 and error.startswith(f"error: {flag}: "), error
    assert " " + flag.removeprefix("--").replace("-", "_") + ":" not in error


def test_every_command_and_option_has_help_without_markup() -> None:
    from openalgo_core.cli import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    seen = set()
    for name, sub in commands.choices.items():
        if id(sub) in seen:  # an alias
            continue
        seen.add(id(sub))
        assert sub.description and "`" not in sub.description, name
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"openalgo {name} {action.dest} has no help"
            assert "``" not in action.help and ":class:" not in action.help, action.help
    assert parser.description and "``" not in parser.description
    assert {"orders", "orderbook", "trades", "cancel", "modify", "funds", "holdings",
            "journal"} <= set(commands.choices)


def test_apikey_never_replaces_a_key_silently(gateway: Gateway, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from openalgo_core.server.apikeys import HASH_FILE

    monkeypatch.setenv("OPENALGO_HOME", str(tmp_path / "home"))

    _, first = run(gateway, "apikey")
    stored = (tmp_path / "home" / HASH_FILE).read_bytes()
    code, text = run(gateway, "apikey")
    assert code == 2 and text == "" and "--replace" in capsys.readouterr().err
    assert (tmp_path / "home" / HASH_FILE).read_bytes() == stored
    code, second = run(gateway, "apikey", "--replace")
    assert code == 0 and second != first
    assert (tmp_path / "home" / HASH_FILE).read_bytes() != stored


def test_numbers_print_one_way_and_pnl_is_totalled(gateway: Gateway) -> None:
    """Two positions: every price with two decimals, a total row summing the P&L; the
    JSON carries the same text."""
    run(gateway, "login", "fake")
    for symbol in ("SBIN", "INFY"):
        run(gateway, "order", "fake", "--symbol", symbol, "--exchange", "NSE", "--action",
            "BUY", "--quantity", "3")
    code, text = run(gateway, "positions", "fake")
    lines = text.strip().splitlines()
    assert code == 0 and len(lines) == 6 and lines[-1].split()[0] == "total"
    pnls = [Decimal(line.split()[-1]) for line in lines[2:4]]
    assert Decimal(lines[-1].split()[-1]) == sum(pnls)
    assert all(len(line.split()[-1].partition(".")[2]) == 2
               for line in [*lines[2:4], lines[-1]])
    _, text = run(gateway, "positions", "fake", "--json")
    for row, line in zip(json.loads(text), lines[2:4], strict=True):
        assert row["pnl"] == line.split()[-1]
