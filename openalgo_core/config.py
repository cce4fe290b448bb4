"""Credentials and settings from the environment and from a ``.env`` file.

Each broker field is read from ``OPENALGO_<ID>_<FIELD>`` (``OPENALGO_ANGEL_PIN``).
A ``.env`` written the way OpenAlgo's setup guides say also works unchanged::

    BROKER_API_KEY = 'xxxx'
    BROKER_API_SECRET = 'yyyy'
    REDIRECT_URL = 'http://127.0.0.1:5000/angel/callback'

The seed keys apply to the broker named in ``REDIRECT_URL``'s path; the
``OPENALGO_*`` variables win over them. Nothing is read at import time:
call :func:`load_env_file` at start-up (the CLI does).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from .errors import ConfigurationError, MissingCredentialsError
from .info import BrokerInfo

__all__ = ["Credentials", "broker_from_redirect_url", "credentials_for", "env_var",
           "load_env_file", "totp_now"]

SEED_KEYS = {"BROKER_API_KEY": "API_KEY", "BROKER_API_SECRET": "API_SECRET",
             "REDIRECT_URL": "REDIRECT_URL"}
_CALLBACK_PATH = re.compile(r"^/([a-z][a-z0-9_]*)/callback/?$")


def env_var(broker: str, field: str) -> str:
    """The environment variable holding ``field`` for ``broker``."""
    return f"OPENALGO_{broker.upper()}_{field}"


def load_env_file(path: str | os.PathLike[str] = ".env", *, override: bool = False) -> bool:
    """Load ``path`` into ``os.environ`` (existing variables win unless ``override``).

    Returns whether the file existed.
    """
    from dotenv import dotenv_values  # imported on use: keeps `import openalgo_core` fast

    file = Path(path)
    if not file.is_file():
        return False
    for key, value in dotenv_values(file).items():
        if value is not None and (override or key not in os.environ):
            os.environ[key] = value
    return True


def broker_from_redirect_url(url: str | None) -> str | None:
    """``http://127.0.0.1:5000/angel/callback`` → ``"angel"`` (None if not of that shape)."""
    if not url:
        return None
    match = _CALLBACK_PATH.match(urlsplit(url.strip().strip("'\"")).path)
    return match.group(1) if match else None


def totp_now(secret: str, *, broker: str = "broker") -> str:
    """The current 6-digit TOTP for a base32 ``secret`` (the one place codes are made)."""
    import pyotp

    cleaned = secret.replace(" ", "").upper()
    try:
        return pyotp.TOTP(cleaned).now()
    except Exception:  # binascii.Error, ValueError: not base32
        raise ConfigurationError(
            f"{broker}: {env_var(broker, 'TOTP_SECRET')} is not a valid base32 TOTP secret"
        ) from None


class Credentials:
    """A broker's resolved credentials. Secret fields are held as ``SecretStr``.

    ``repr`` shows field names only; values come out through :meth:`get` /
    :meth:`require`, which return plain strings for the plugin to send.
    """

    __slots__ = ("_values", "broker")

    def __init__(self, broker: str, values: Mapping[str, str | SecretStr]) -> None:
        self.broker = broker
        self._values = dict(values)

    def __repr__(self) -> str:
        return f"Credentials(broker={self.broker!r}, fields={sorted(self._values)})"

    def get(self, field: str) -> str | None:
        value = self._values.get(field)
        return value.get_secret_value() if isinstance(value, SecretStr) else value

    def require(self, *fields: str) -> tuple[str, ...]:
        """Return the values of ``fields``; raise naming every missing variable."""
        missing = [f for f in fields if not self.get(f)]
        if missing:
            raise MissingCredentialsError(self.broker, [env_var(self.broker, f) for f in missing])
        return tuple(self.get(f) or "" for f in fields)

    def totp(self) -> str | None:
        """The current TOTP if a TOTP secret is configured, else None."""
        secret = self.get("TOTP_SECRET")
        return totp_now(secret, broker=self.broker) if secret else None


def credentials_for(info: BrokerInfo, environ: Mapping[str, str] | None = None) -> Credentials:
    """Resolve ``info``'s credential fields from ``environ`` (default ``os.environ``).

    Raises:
        MissingCredentialsError: a required field is unset,
            naming every variable to set.
    """
    env = os.environ if environ is None else environ
    seed_broker = broker_from_redirect_url(env.get("REDIRECT_URL"))
    values: dict[str, str | SecretStr] = {}
    for spec in info.credentials:
        raw = env.get(env_var(info.id, spec.name))
        if raw is None and seed_broker == info.id:
            seed = next((k for k, v in SEED_KEYS.items() if v == spec.name), None)
            raw = env.get(seed) if seed else None
        if raw is None or not raw.strip():
            continue
        raw = raw.strip().strip("'\"")
        values[spec.name] = SecretStr(raw) if spec.secret else raw
    wanted = [s.name for s in info.credentials if s.required]
    missing = [f for f in wanted if f not in values]
    if missing:
        names = [env_var(info.id, f) for f in missing]
        hint = ""
        if "API_KEY" in missing and seed_broker is None:
            hint = f"or BROKER_API_KEY with REDIRECT_URL=http://127.0.0.1:5000/{info.id}/callback"
        raise MissingCredentialsError(info.id, names, hint)
    return Credentials(info.id, values)
