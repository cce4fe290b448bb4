"""Credentials from OPENALGO_* variables and from an OpenAlgo-style .env."""

import os
from pathlib import Path

import pyotp
import pytest

from openalgo_core import ConfigurationError, MissingCredentialsError, credentials_for
from openalgo_core.config import (
    broker_from_redirect_url,
    env_var,
    load_env_file,
    parse_url,
    totp_now,
)
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


def test_a_broker_may_name_its_own_credentials() -> None:
    """Names are open (Kotak's UCC and MPIN); the variable convention, the one error
    naming every missing variable, and at-login fields (never required) stay."""
    import dataclasses

    from openalgo_core import CredentialField

    info = dataclasses.replace(INFO, credentials=(
        CredentialField(name="UCC", secret=False), CredentialField(name="ACCESS_TOKEN_V2",
                                                                   secret=True),
        CredentialField(name="MPIN", secret=True, at_login=True)))
    creds = credentials_for(info, {"OPENALGO_FAKE_UCC": "AB123",
                                   "OPENALGO_FAKE_ACCESS_TOKEN_V2": "t"})
    assert creds.require("UCC", "ACCESS_TOKEN_V2") == ("AB123", "t")
    assert creds.get("MPIN") is None  # asked for at login
    with pytest.raises(MissingCredentialsError) as info_error:
        credentials_for(info, {})
    assert info_error.value.variables == ("OPENALGO_FAKE_UCC", "OPENALGO_FAKE_ACCESS_TOKEN_V2")


def test_a_field_may_read_a_seed_key_of_another_name() -> None:
    """Kotak's .env keeps OpenAlgo's two keys, which hold its UCC and access token today:
    a field named for what it holds reads the seed key it points to, only for the broker
    in REDIRECT_URL, and an OPENALGO_* variable still wins; a missing one names both."""
    import dataclasses

    from openalgo_core import CredentialField, ValidationError

    info = dataclasses.replace(INFO, credentials=(
        CredentialField(name="UCC", secret=False, seed="BROKER_API_KEY"),
        CredentialField(name="ACCESS_TOKEN", secret=True, seed="BROKER_API_SECRET"),
        CredentialField(name="API_KEY", secret=False, required=False)))
    seed = {"BROKER_API_KEY": "AB123", "BROKER_API_SECRET": "tok",
            "REDIRECT_URL": "http://127.0.0.1:5000/fake/callback"}
    creds = credentials_for(info, seed)
    assert creds.require("UCC", "ACCESS_TOKEN") == ("AB123", "tok")
    assert creds.get("API_KEY") is None  # the seed key went to the field pointing at it
    assert credentials_for(info, {**seed, "OPENALGO_FAKE_UCC": "ZZ999"}).get("UCC") == "ZZ999"
    with pytest.raises(MissingCredentialsError):
        credentials_for(info, {**seed, "REDIRECT_URL": "http://127.0.0.1:5000/angel/callback"})
    with pytest.raises(MissingCredentialsError) as missing:
        credentials_for(info, {})
    assert "BROKER_API_KEY" in str(missing.value)
    with pytest.raises(ValidationError, match="seed"):
        CredentialField(name="UCC", secret=False, seed="BROKER_UCC")


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


def test_env_var_is_the_one_spelling() -> None:
    assert env_var("angel", "pin") == env_var("ANGEL", "PIN") == "OPENALGO_ANGEL_PIN"


def test_env_file_not_utf8_names_the_file_and_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"OPENALGO_TEST_A=1\nOPENALGO_TEST_PIN=s\xe9cr\xe9t\n")
    with pytest.raises(ConfigurationError) as info:
        load_env_file(env_file)
    message = str(info.value)
    assert str(env_file) in message and "line 2" in message and "UTF-8" in message
    assert "cr" not in message.replace(str(env_file), "")  # nothing of the value


def test_env_file_with_a_byte_order_mark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENALGO_TEST_BOM", raising=False)
    (tmp_path / ".env").write_text("OPENALGO_TEST_BOM=yes\n", encoding="utf-8-sig")
    load_env_file(tmp_path / ".env")
    assert os.environ["OPENALGO_TEST_BOM"] == "yes"
    monkeypatch.delenv("OPENALGO_TEST_BOM")


FULL = {"OPENALGO_FAKE_API_KEY": "k", "OPENALGO_FAKE_CLIENT_ID": "C1", "OPENALGO_FAKE_PIN": "1"}


@pytest.mark.parametrize("value", ["kéy-secret", "key\u200bsecret", "key\x07secret",
                                   "\u201ckey-secret\u201d"])
def test_non_ascii_credentials_name_the_variable_never_the_value(value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        credentials_for(INFO, {**FULL, "OPENALGO_FAKE_API_KEY": value,
                               "OPENALGO_FAKE_PIN": "\xa31"})
    message = str(info.value)
    assert "OPENALGO_FAKE_API_KEY" in message and "OPENALGO_FAKE_PIN" in message
    assert "printable ASCII" in message and "secret" not in message and "£" not in message
    assert not isinstance(info.value, MissingCredentialsError)


def test_non_ascii_seed_key_names_the_seed_variable() -> None:
    env = {"BROKER_API_KEY": "kéy", "REDIRECT_URL": "http://127.0.0.1:5000/fake/callback",
           "OPENALGO_FAKE_CLIENT_ID": "C", "OPENALGO_FAKE_PIN": "1"}
    with pytest.raises(ConfigurationError, match="BROKER_API_KEY must be printable ASCII"):
        credentials_for(INFO, env)


def test_a_quoted_empty_value_is_missing() -> None:
    with pytest.raises(MissingCredentialsError, match="OPENALGO_FAKE_PIN"):
        credentials_for(INFO, {**FULL, "OPENALGO_FAKE_PIN": "''"})


@pytest.mark.parametrize(("url", "problem"), [
    ("http://127.0.0.1:50x0/fake/callback", "malformed host or port"),
    ("http://127.0.0.1:99999/fake/callback", "malformed host or port"),
    ("http://[::1/fake/callback", "malformed host or port"),
    ("http://127.0.0.1:0/fake/callback", "port 0"),
    ("127.0.0.1:5000/fake/callback", "http:// or https://"),
    ("ftp://127.0.0.1/fake/callback", "http:// or https://"),
    ("http:///fake/callback", "no host"),
    ("http://127.0.0.1 :5000/fake/callback", "spaces"),
    ("http://bröker.example/fake/callback", "spaces or characters"),
])
def test_malformed_redirect_url_is_one_configuration_error(url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        broker_from_redirect_url(url)
    message = str(info.value)
    assert message.startswith("REDIRECT_URL ") and problem in message and url not in message
    with pytest.raises(ConfigurationError, match="REDIRECT_URL"):
        credentials_for(INFO, {**FULL, "REDIRECT_URL": url})


def test_parse_url_accepts_base_urls() -> None:
    assert parse_url("http://127.0.0.1:8100", "X").port == 8100
    assert parse_url("https://api.broker.example/rest", "X").hostname == "api.broker.example"


def pyotp_min_chars() -> int:
    return -(-pyotp.OTP.min_secret_length_bits // 5)


def test_short_totp_secret_says_how_long_it_must_be() -> None:
    needed = pyotp_min_chars()
    for short in ("JBSWY3DPEHPK3PXP", "A" * (needed - 1)):
        with pytest.raises(ConfigurationError) as info:
            totp_now(short, broker="angel")
        message = str(info.value)
        assert message.startswith("angel: OPENALGO_ANGEL_TOTP_SECRET is too short")
        assert f"at least {needed} base32 characters" in message and short not in message
        assert "not base32" not in message
    assert len(totp_now("A" * needed)) == 6  # the boundary itself is accepted


@pytest.mark.parametrize(("secret", "detail"), [
    ("JBSWY3DPEHPK3PXP1BSWY3DPEHPK3PXP", "only letters A-Z and digits 2-7"),
    ("JBSWY3DP-EHPK3PXP-JBSWY3DP", "only letters A-Z and digits 2-7"),
    ("JBSW!", "only letters A-Z and digits 2-7"),
    ("A" * 25, "its length cannot be decoded"),
])
def test_non_base32_totp_secret_says_so(secret: str, detail: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        totp_now(secret, broker="angel")
    message = str(info.value)
    assert message.startswith("angel: OPENALGO_ANGEL_TOTP_SECRET is not base32")
    assert detail in message and "too short" not in message and secret not in message


def test_readme_example_secrets_are_accepted(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    lines = [line for line in readme.splitlines() if "TOTP_SECRET=" in line]
    assert lines
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    names = {line.split("=", 1)[0].strip() for line in lines}
    for name in names:
        monkeypatch.delenv(name, raising=False)
    load_env_file(tmp_path / ".env")
    for name in names:
        assert len(totp_now(os.environ[name])) == 6, name
        monkeypatch.delenv(name)


def test_a_setting_is_one_of_its_choices() -> None:
    """ICICI's MARKET_ORDERS: read case-insensitively, anything else refused by name;
    unset, it is absent (the plugin's default); a generated environment uses the first."""
    import dataclasses

    from openalgo_core import CredentialField
    from openalgo_core.testing.wiring import broker_environ

    setting = CredentialField(name="MARKET_ORDERS", secret=False, required=False,
                              choices=("protected", "market"))
    info = dataclasses.replace(INFO, credentials=(*INFO.credentials, setting))
    base = {"OPENALGO_FAKE_API_KEY": "k", "OPENALGO_FAKE_CLIENT_ID": "C1",
            "OPENALGO_FAKE_PIN": "1234"}
    assert credentials_for(info, {**base, "OPENALGO_FAKE_MARKET_ORDERS": " Market"}).get(
        "MARKET_ORDERS") == "market"
    assert credentials_for(info, base).get("MARKET_ORDERS") is None
    with pytest.raises(ConfigurationError, match="OPENALGO_FAKE_MARKET_ORDERS must be one of"
                                                 " protected, market"):
        credentials_for(info, {**base, "OPENALGO_FAKE_MARKET_ORDERS": "sometimes"})
    assert broker_environ(info)["OPENALGO_FAKE_MARKET_ORDERS"] == "protected"
    with pytest.raises(ValueError, match="choices"):
        CredentialField(name="MODE", secret=False, choices=("Upper",))
