"""``openalgo demo`` drives every login style headlessly: unattended TOTP, the code form
(the broker texts an OTP), and a browser redirect through the broker's login page."""

from __future__ import annotations

import io
import json

from openalgo_core import Registry
from openalgo_core.demo import run_demo
from tests.fakebroker import plugin as fake
from tests.fakeotp.plugin import hooks as fakeotp
from tests.fakeredirect.plugin import hooks as fakeredirect


def test_demo_logs_in_by_every_style_and_trades() -> None:
    registry = Registry(environ={}, discover=False)
    for plugin in (fake, fakeotp, fakeredirect):
        registry.register_broker(plugin)
    out = io.StringIO()

    code = run_demo(out, registry=registry, table=lambda rows: json.dumps(rows))

    text = out.getvalue()
    assert code == 0, text
    assert "[fake] logged in unattended" in text
    assert "[fakeotp] logged in through the code form" in text
    assert "[fakeredirect] logged in through the broker's login page" in text
    for broker in ("fake", "fakeotp", "fakeredirect"):
        rows = json.loads(text.split(f"{broker} positions:\n")[1].split("\n")[0])
        assert [(r["symbol"], r["quantity"]) for r in rows] == [("SBIN", 6)], text
