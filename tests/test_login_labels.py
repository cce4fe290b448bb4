"""The login form shows every field a broker's challenge asks for, labelled as
OpenAlgo's own broker forms label it."""

from __future__ import annotations

import re

import pytest

from openalgo_core import LoginChallenge
from openalgo_core.server.pages import TEMPLATES


def form(challenge: LoginChallenge) -> list[tuple[str, str, str]]:
    """(label, input name, input type) of each field of the rendered code form."""
    html = TEMPLATES.env.get_template("code.html").render(broker=challenge.broker,
                                                          challenge=challenge, csrf="t" * 43)
    return re.findall(r'<label>([^<]+)<br>\s*<input name="(\w+)"[^>]* type="(\w+)"', html)


@pytest.mark.parametrize(("broker", "fields", "secret", "expected"), [
    ("angel", ("client_id", "pin", "code"), ("pin",),
     [("Client ID", "client_id", "text"), ("PIN", "pin", "password"),
      ("TOTP", "code", "text")]),
    ("kotak", ("mobile", "mpin", "code"), ("mpin",),
     [("Mobile Number", "mobile", "text"), ("MPIN", "mpin", "password"),
      ("TOTP", "code", "text")]),
    ("definedge", ("code",), (), [("Enter OTP", "code", "text")]),
    ("indmoney", ("api_key", "pin", "code"), ("pin",),
     [("Client ID", "api_key", "text"), ("MPIN", "pin", "password"),
      ("TOTP", "code", "text")]),
])
def test_fields_are_labelled_as_openalgo_labels_them(
        broker: str, fields: tuple[str, ...], secret: tuple[str, ...],
        expected: list[tuple[str, str, str]]) -> None:
    challenge = LoginChallenge(broker=broker, kind="code", prompt="p", fields=fields,
                               secret_fields=secret)
    assert form(challenge) == expected


def test_a_field_openalgo_has_no_label_for_still_shows() -> None:
    challenge = LoginChallenge(broker="angel", kind="code", prompt="p",
                               fields=("client_id", "date_of_birth", "code"))
    assert [label for label, _, _ in form(challenge)] == ["Client ID", "Date of birth", "TOTP"]
