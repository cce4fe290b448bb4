"""Credentials from OPENALGO_* variables and from an OpenAlgo-style .env."""

import os
from pathlib import Path

import pyotp
import pytest

from openalgo_core import ConfigurationError, MissingCredentialsError, credentials_for
from openalgo_core.config import broker_from_redirect_url, load_env_file, totp_now
from tests.fakebroker.plugin import INFO


def test_reads_openalgo_variables() -> None:
    creds = credentials_for(INFO, {"OPENALGO_FAKE_API_KEY": "k", "OPENALGO_FAKE_CLIENT_ID": "C1",
                                   "OPENALGO_FAKE_PIN": "1234"})
    assert creds.require("API_KEY", "CLIENT_ID", "PIN") == ("k", "C1", "1234")
    assert creds.totp() is None


def test_missing_credentials_name_every_variable() -> None:
    with pytest.raises(MissingCredentialsError) as info:
        credentials_for(INFO, {"OPENALGO_FAKE_CLIENT_ID": "C1"})
    assert info.value.variables == ("OPENALGO_FAKE_API_KEY", "OPENALGO_FAKE_PIN")
    assert "BROKER_API_KEY" in str(info.value)  # the seed-style alternative is offered


def test_seed_env_file_as_openalgo_writes_it(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# Broker Configuration\n"
                        "BROKER_API_KEY = 'seed-key'\n"
                        "BROKER_API_SECRET = 'seed-secret'\n"
                        "REDIRECT_URL = 'http://127.0.0.1:5000/fake/callback'\n"
                        "OPENALGO_FAKE_CLIENT_ID = 'C9'\n"
                        "OPENALGO_FAKE_PIN = '1111'\n")
    for key in ("BROKER_API_KEY", "BROKER_API_SECRET", "REDIRECT_URL", "OPENALGO_FAKE_CLIENT_ID",
                "OPENALGO_FAKE_PIN"):
        monkeypatch.delenv(key, raising=False)
    assert load_env_file(env_file)
    creds = credentials_for(INFO)
    assert creds.get("API_KEY") == "seed-key" and creds.get("CLIENT_ID") == "C9"


def test_seed_keys_apply_only_to_the_broker_in_redirect_url() -> None:
    env = {"BROKER_API_KEY": "seed", "REDIRECT_URL": "http://127.0.0.1:5000/angel/callback",
           "OPENALGO_FAKE_CLIENT_ID": "C", "OPENALGO_FAKE_PIN": "1"}
    with pytest.raises(MissingCredentialsError):
        credentials_for(INFO, env)


def test_openalgo_variables_win_over_seed_keys() -> None:
    env = {"BROKER_API_KEY": "seed", "REDIRECT_URL": "http://127.0.0.1:5000/fake/callback",
           "OPENALGO_FAKE_API_KEY": "mine", "OPENALGO_FAKE_CLIENT_ID": "C",
           "OPENALGO_FAKE_PIN": "1"}
    assert credentials_for(INFO, env).get("API_KEY") == "mine"


def test_load_env_file_keeps_existing_variables(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("OPENALGO_TEST_X=file\nOPENALGO_TEST_Y=file\n")
    monkeypatch.setenv("OPENALGO_TEST_X", "process")
    monkeypatch.delenv("OPENALGO_TEST_Y", raising=False)
    load_env_file(tmp_path / ".env")
    assert os.environ["OPENALGO_TEST_X"] == "process"
    assert os.environ["OPENALGO_TEST_Y"] == "file"
    monkeypatch.delenv("OPENALGO_TEST_Y")
    assert not load_env_file(tmp_path / "missing.env")


@pytest.mark.parametrize(("url", "broker"), [
    ("http://127.0.0.1:5000/angel/callback", "angel"),
    ("'http://127.0.0.1:5000/kotak/callback'", "kotak"),
    ("http://127.0.0.1:5000/angel/callback/", "angel"),
    ("http://127.0.0.1:5000/callback", None), (None, None), ("", None)])
def test_broker_from_redirect_url(url: str | None, broker: str | None) -> None:
    assert broker_from_redirect_url(url) == broker


def test_totp_from_secret_in_one_place() -> None:
    secret = pyotp.random_base32()
    assert totp_now(secret) == pyotp.TOTP(secret).now()
    assert totp_now(secret.lower()) == pyotp.TOTP(secret).now()
    with pytest.raises(ConfigurationError, match="TOTP_SECRET"):
        totp_now("not base32 !!", broker="angel")


def test_credentials_repr_hides_values() -> None:
    creds = credentials_for(INFO, {"OPENALGO_FAKE_API_KEY": "very-secret-key",
                                   "OPENALGO_FAKE_CLIENT_ID": "C1", "OPENALGO_FAKE_PIN": "4321"})
    assert "very-secret-key" not in repr(creds) and "4321" not in repr(creds)
    assert "API_KEY" in repr(creds)
