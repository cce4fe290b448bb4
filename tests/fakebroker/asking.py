"""The fake broker asking at login for a client id, a PIN (secret) and a code."""

from __future__ import annotations

from typing import Any

from openalgo_core import LoginChallenge, hookimpl, new_session

from . import plugin as fake_plugin


class AskingBroker:
    """Records what each login callback was given."""

    def __init__(self) -> None:
        self.params: list[dict[str, str]] = []

    @hookimpl
    def broker_info(self) -> Any:
        return fake_plugin.broker_info()

    @hookimpl
    def authenticate(self, credentials: Any, client: Any) -> Any:
        return LoginChallenge(broker="fake", kind="code", prompt="Log in to Fake",
                              fields=("client_id", "pin", "code"), secret_fields=("pin",))

    @hookimpl
    def handle_callback(self, credentials: Any, client: Any, params: Any) -> Any:
        self.params.append(dict(params))
        return new_session("fake", params["client_id"], "token-1")
