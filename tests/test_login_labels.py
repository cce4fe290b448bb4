"""The login form shows every field a broker's challenge asks for, labelled with the
broker's own words (``RestBroker.field_labels``, carried by ``LoginChallenge.labels``)."""

from __future__ import annotations

import re

from openalgo_core import LoginChallenge
from openalgo_core.server.pages import TEMPLATES


def form(challenge: LoginChallenge) -> list[tuple[str, str, str]]:
    """(label, input name, input type) of each field of the rendered code form."""
    html = TEMPLATES.env.get_template("code.html").render(broker=challenge.broker,
                                                          challenge=challenge, csrf="t" * 43)
    return re.findall(r'<label>([^<]+)<br>\s*<input name="(\w+)"[^>]* type="(\w+)"', html)


def test_every_field_shows_with_the_brokers_label_or_its_own_name() -> None:
    challenge = LoginChallenge(broker="kotak", kind="code", prompt="p",
                               fields=("mobile", "mpin", "date_of_birth", "code"),
                               secret_fields=("mpin",),
                               labels={"mobile": "Mobile Number", "mpin": "MPIN",
                                       "code": "TOTP"})
    assert form(challenge) == [("Mobile Number", "mobile", "text"), ("MPIN", "mpin", "password"),
                               ("Date of birth", "date_of_birth", "text"),
                               ("TOTP", "code", "text")]
