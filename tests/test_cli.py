"""The `openalgo` command against the fake broker."""

import io
import json
import subprocess
import sys

import pytest

from openalgo_core import Gateway
from openalgo_core.cli import main


def run(gateway: Gateway, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, gateway=gateway)
    return code, out.getvalue()


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
    assert code == 0 and text.strip().startswith("F")
    code, text = run(gateway, "order", "fake", "--symbol", "SBIN", "--exchange", "NSE",
                     "--action", "SELL", "--quantity", "2", "--pricetype", "LIMIT",
                     "--price", "1", "--json")
    assert json.loads(text)["status"] == "success"
    code, text = run(gateway, "positions", "fake")
    assert code == 0
    header, _rule, row = text.strip().splitlines()
    assert header.split() == ["symbol", "exchange", "product", "quantity", "average_price",
                              "ltp", "pnl"]
    assert row.split()[:4] == ["SBIN", "NSE", "MIS", "3"]
    code, text = run(gateway, "positions", "fake", "--json")
    assert json.loads(text)[0]["quantity"] == 3


def test_login_asks_for_the_code_without_totp_secret(
        gateway: Gateway, fake_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from openalgo_core import totp_now

    secret = fake_env.pop("OPENALGO_FAKE_TOTP_SECRET")
    monkeypatch.setattr("builtins.input", lambda prompt: totp_now(secret))
    code, text = run(gateway, "login", "fake")
    assert code == 0 and "logged in" in text


def test_errors_are_one_line_with_nonzero_exit(gateway: Gateway,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert run(gateway, "positions", "fake")[0] == 1
    err = capsys.readouterr().err
    assert err.startswith("error: fake: not logged in") and err.count("\n") == 1
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
