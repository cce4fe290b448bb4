"""Login: loginByPassword with client code, MPIN and a TOTP (brokers/angel 1.2).

With ``OPENALGO_ANGEL_TOTP_SECRET`` set the code is computed with pyotp and the
login needs no human; without it :func:`authenticate` returns a challenge for
the 6-digit code, which :func:`handle_callback` completes.
"""

from __future__ import annotations

from collections.abc import Mapping

from openalgo_core import (
    AuthenticationError,
    BrokerClient,
    Credentials,
    LoginChallenge,
    Session,
    new_session,
)

from . import _api

PROMPT = "Enter the 6-digit TOTP from your authenticator app"


def authenticate(credentials: Credentials, client: BrokerClient) -> Session | LoginChallenge:
    """Log in unattended if a TOTP secret is set, else ask for the code.

    Raises:
        MissingCredentialsError: API key, client code or PIN not set (checked first,
            so a challenge is never issued that could not be completed).
        AuthenticationError: Angel refused (wrong PIN, wrong TOTP: AB1050 ...).
    """
    credentials.require("API_KEY", "CLIENT_ID", "PIN")
    code = credentials.totp()
    if code is None:
        return LoginChallenge(broker=_api.BROKER, kind="code", prompt=PROMPT, fields=("code",))
    return login(credentials, client, code)


def handle_callback(credentials: Credentials, client: BrokerClient,
                    params: Mapping[str, str]) -> Session:
    """Finish a login with the code the user typed (``params["code"]``).

    Raises:
        AuthenticationError: the code is not 6 digits (nothing is sent), or Angel refused.
    """
    code = (params.get("code") or "").strip()
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        raise AuthenticationError("the TOTP must be exactly 6 digits", broker=_api.BROKER)
    return login(credentials, client, code)


def login(credentials: Credentials, client: BrokerClient, totp: str) -> Session:
    """POST loginByPassword and build the session from ``data.jwtToken``.

    The JWT is stored without its ``Bearer `` prefix; requests add it.
    """
    api_key, client_code, pin = credentials.require("API_KEY", "CLIENT_ID", "PIN")
    response = client.request(
        "POST", client.url("api", _api.LOGIN_PATH), kind="login",
        json={"clientcode": client_code, "password": pin, "totp": totp},
        headers=_api.headers(api_key))
    data = _api.check(response, call="login").get("data")
    tokens = data if isinstance(data, dict) else {}
    jwt, refresh, feed = (tokens.get(k) for k in ("jwtToken", "refreshToken", "feedToken"))
    if not isinstance(jwt, str) or not jwt.strip():
        raise _api.unreadable(response, "login succeeded but sent no jwtToken")
    return new_session(
        _api.BROKER, client_code, jwt.strip().removeprefix("Bearer ").strip(),
        refresh_token=refresh if isinstance(refresh, str) else None,
        feed_token=feed if isinstance(feed, str) else None)
