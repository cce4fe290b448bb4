"""Credentials and settings from the environment and from a ``.env`` file.

Each broker field is read from ``OPENALGO_<ID>_<FIELD>`` (``OPENALGO_ANGEL_PIN``).
A ``.env`` written the way OpenAlgo's setup guides say also works unchanged::

    BROKER_API_KEY = 'xxxx'
    BROKER_API_SECRET = 'yyyy'
    REDIRECT_URL = 'http://127.0.0.1:5000/angel/callback'

The seed keys apply to the broker named in ``REDIRECT_URL``'s path; the
``OPENALGO_*`` variables win over them. Nothing is read at import time:
call :func:`load_env_file` at start-up (the CLI does), or hand a long-running
:class:`~openalgo_core.gateway.Gateway` an :class:`EnvFileEnviron`, which reads the
file again whenever it changes (a server sees an edited ``.env`` at the next login).
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from pydantic import SecretStr

from .errors import ConfigurationError, MissingCredentialsError
from .info import BrokerInfo, CredentialField

__all__ = ["Credentials", "EnvFileEnviron", "broker_from_redirect_url", "credentials_for",
           "env_var", "load_env_file", "parse_url", "read_env_file", "seed_key", "totp_now",
           "writable_dir"]

SEED_KEYS = {"BROKER_API_KEY": "API_KEY", "BROKER_API_SECRET": "API_SECRET",
             "REDIRECT_URL": "REDIRECT_URL"}
_CALLBACK_PATH = re.compile(r"^/([a-z][a-z0-9_]*)/callback/?$")
_BASE32 = re.compile(r"[A-Z2-7]+=*")


def seed_key(info: BrokerInfo, spec: CredentialField) -> str | None:
    """The key of OpenAlgo's ``.env`` that ``spec`` is read from when the file names its
    broker: its ``CredentialField.seed``, else (``API_KEY``, ``API_SECRET``) the key of
    that name unless another field of ``info`` points to it."""
    if spec.seed is not None:
        return spec.seed
    claimed = {other.seed for other in info.credentials}
    return next((k for k, v in SEED_KEYS.items() if v == spec.name and k not in claimed), None)


def env_var(broker: str, field: str) -> str:
    """``OPENALGO_<ID>_<FIELD>``: the variable holding ``field`` (any case) for ``broker``.

    The one place that name is spelt; everything else calls this.
    """
    return f"OPENALGO_{broker.upper()}_{field.upper()}"


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str] | None:
    """The variables ``path`` sets (None: there is no such file).

    Raises:
        ConfigurationError: the file cannot be read or is not UTF-8, naming it.
    """
    from dotenv import dotenv_values  # imported on use: keeps `import openalgo_core` fast

    file = Path(path)
    if not file.is_file():
        return None
    try:
        data = file.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as exc:
        raise ConfigurationError(f"{file}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigurationError(f"{file}: line {line} is not UTF-8 text; save the file"
                                 " as UTF-8") from None
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


def load_env_file(path: str | os.PathLike[str] = ".env", *, override: bool = False) -> bool:
    """Load ``path`` into ``os.environ`` (existing variables win unless ``override``).

    Returns whether the file existed.

    Raises:
        ConfigurationError: the file cannot be read or is not UTF-8, naming it.
    """
    values = read_env_file(path)
    if values is None:
        return False
    for key, value in values.items():
        if override or key not in os.environ:
            os.environ[key] = value
    return True


class EnvFileEnviron(Mapping[str, str]):
    """The process environment over a ``.env`` file that is read again whenever it
    changes (size or modification time): what a long-running server sees after the user
    edits ``.env``. A variable of the real environment (``base``, default a copy of
    ``os.environ`` taken now: build this before :func:`load_env_file`) wins, as with
    :func:`load_env_file`."""

    def __init__(self, path: str | os.PathLike[str] = ".env",
                 base: Mapping[str, str] | None = None) -> None:
        self.path = Path(path).absolute()
        self._base = dict(os.environ if base is None else base)
        self._stamp: tuple[int, int] | None = None
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def _file(self) -> dict[str, str]:
        try:
            info = self.path.stat()
            stamp: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._values = (read_env_file(self.path) or {}) if stamp else {}
                self._stamp = stamp
            return self._values

    def __getitem__(self, key: str) -> str:
        if key in self._base:
            return self._base[key]
        return self._file()[key]

    def __iter__(self) -> Iterator[str]:
        return iter({**self._file(), **self._base})

    def __len__(self) -> int:
        return len({**self._file(), **self._base})


def parse_url(value: str, variable: str) -> SplitResult:
    """``value`` split, if it is an absolute http(s) URL with a host and a valid port.

    Raises:
        ConfigurationError: naming ``variable`` and what is wrong (never the value).
    """
    def bad(problem: str) -> ConfigurationError:
        return ConfigurationError(f"{variable} {problem} (expected http(s)://host[:port]/path)")

    if not value.isascii() or not value.isprintable() or " " in value:
        raise bad("holds spaces or characters a URL cannot hold")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:  # a port that is not a number or out of range, a bad [IPv6] host
        raise bad("has a malformed host or port") from None
    if parts.scheme not in ("http", "https"):
        raise bad("must start with http:// or https://")
    if not parts.hostname:
        raise bad("has no host")
    if port == 0:
        raise bad("has port 0")
    return parts


def broker_from_redirect_url(url: str | None) -> str | None:
    """``http://127.0.0.1:5000/angel/callback`` → ``"angel"`` (None if not of that shape).

    Raises:
        ConfigurationError: ``REDIRECT_URL`` is not a URL (bad scheme, host or port).
    """
    text = (url or "").strip().strip("'\"")
    if not text:
        return None
    match = _CALLBACK_PATH.match(parse_url(text, "REDIRECT_URL").path)
    return match.group(1) if match else None


def writable_dir(path: Path, setting: str | None = None) -> Path:
    """``path`` as a directory this process can write in, created if absent.

    Raises:
        ConfigurationError: naming the path (and ``setting``, the variable that chose it).
    """
    import tempfile

    where = f"{path} (from {setting})" if setting else str(path)
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"{where} is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):  # a real write: root ignores mode bits
            pass
    except OSError as exc:
        raise ConfigurationError(f"{where} is not a writable directory ({exc.strerror})"
                                 ) from None
    return path


def totp_now(secret: str, *, broker: str = "broker") -> str:
    """The current 6-digit TOTP for a base32 ``secret`` (the one place codes are made).

    Raises:
        ConfigurationError: the secret is not base32, or shorter than pyotp accepts;
            naming ``OPENALGO_<ID>_TOTP_SECRET``, never the secret.
    """
    import pyotp

    variable = env_var(broker, "TOTP_SECRET")
    cleaned = secret.replace(" ", "").upper()
    if not _BASE32.fullmatch(cleaned):
        raise ConfigurationError(f"{broker}: {variable} is not base32 (only letters A-Z and"
                                 " digits 2-7)")
    bits: int = getattr(pyotp.OTP, "min_secret_length_bits", 0)
    needed = -(-bits // 5)  # base32 carries 5 bits a character
    if len(cleaned.rstrip("=")) < needed:
        raise ConfigurationError(
            f"{broker}: {variable} is too short (pyotp needs at least {needed} base32"
            f" characters, {bits} bits); copy the whole secret the broker showed")
    try:
        return pyotp.TOTP(cleaned).now()
    except ValueError:  # binascii.Error too: a length base32 cannot decode
        raise ConfigurationError(f"{broker}: {variable} is not base32 (its length cannot be"
                                 " decoded; was it copied whole?)") from None


class Credentials:
    """A broker's resolved credentials. Secret fields are held as ``SecretStr``.

    ``repr`` shows field names only; values come out through :meth:`get` /
    :meth:`require`, which return plain strings for the plugin to send.
    """

    __slots__ = ("_values", "broker")

    def __init__(self, broker: str, values: Mapping[str, str | SecretStr]) -> None:
        self.broker = broker
        self._values = dict(values)

    def with_values(self, typed: Mapping[str, str]) -> Credentials:
        """A copy with ``typed`` added (values a user typed for one login), held as
        secrets; this object is unchanged and nothing is written anywhere."""
        return Credentials(self.broker, {**self._values,
                                         **{k: SecretStr(v) for k, v in typed.items()}})

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
        ConfigurationError: a value is not printable ASCII (it could not be sent in
            an HTTP header), naming every such variable, never a value; a setting
            (``CredentialField.choices``) is not one of its values.
        MissingCredentialsError: a required field is unset,
            naming every variable to set.
    """
    env = os.environ if environ is None else environ
    seed_broker = broker_from_redirect_url(env.get("REDIRECT_URL"))
    values: dict[str, str | SecretStr] = {}
    unusable: list[str] = []
    for spec in info.credentials:
        variable = env_var(info.id, spec.name)
        raw = env.get(variable)
        if raw is None and seed_broker == info.id:
            seed = seed_key(info, spec)
            if seed:
                variable, raw = seed, env.get(seed)
        raw = (raw or "").strip().strip("'\"")
        if not raw:
            continue
        if not (raw.isascii() and raw.isprintable()):
            unusable.append(variable)
            continue
        if spec.choices:
            if raw.lower() not in spec.choices:
                raise ConfigurationError(f"{info.id}: {variable} must be one of"
                                         f" {', '.join(spec.choices)}")
            raw = raw.lower()
        values[spec.name] = SecretStr(raw) if spec.secret else raw
    if unusable:
        raise ConfigurationError(
            f"{info.id}: {', '.join(unusable)} must be printable ASCII (look for a pasted"
            " non-ASCII character, such as a curly quote, or a control character)")
    wanted = [s.name for s in info.credentials if s.required]
    missing = [f for f in wanted if f not in values]
    if missing:
        names = [env_var(info.id, f) for f in missing]
        hint = ""
        keyed = [s.name for s in info.credentials if seed_key(info, s) == "BROKER_API_KEY"]
        if any(f in missing for f in keyed) and seed_broker is None:
            hint = f"or BROKER_API_KEY with REDIRECT_URL=http://127.0.0.1:5000/{info.id}/callback"
        raise MissingCredentialsError(info.id, names, hint)
    return Credentials(info.id, values)
