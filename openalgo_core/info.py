"""What a broker plugin declares about itself: :class:`BrokerInfo` and its parts.

Frozen dataclasses checked on construction, with no pydantic: listing and loading
plugins never builds the order models, so ``openalgo brokers`` and a server's
start-up stay cheap. A bad declaration raises
:class:`~openalgo_core.errors.ValidationError` naming the field; the registry
reports it as a plugin that failed to load.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal, NoReturn, TypeVar, get_args

from .codes import Exchange, PriceType, Product
from .errors import ValidationError

__all__ = ["BrokerInfo", "CredentialField", "CredentialName", "LoginStyle", "RateBucket",
           "RateCategory", "RateLimit"]

#: A credential's name: upper-case letters, digits and ``_`` (``API_KEY``, ``MPIN``, ``UCC``).
#: Any broker may add its own; ``BASE_URL`` is the core's own setting, not a credential.
CredentialName = str
LoginStyle = Literal["totp", "otp", "redirect"]
RateCategory = Literal["orders", "reads", "login"]
#: A rate bucket: a category, or a category's named part that the broker limits on its
#: own (``"reads.quotes"``: IndMoney's quote calls, 5/s, beside its other reads, 15/s).
RateBucket = str

_ID = re.compile(r"[a-z][a-z0-9_]{1,31}")
_CREDENTIAL = re.compile(r"[A-Z][A-Z0-9_]{1,39}")
_RESERVED = frozenset({"BASE_URL"})
#: The keys of OpenAlgo's ``.env`` a credential may be read from (``CredentialField.seed``).
SEED_NAMES = ("BROKER_API_KEY", "BROKER_API_SECRET")
_BUCKET = re.compile(r"(orders|reads|login)(\.[a-z][a-z0-9_]{0,31})?")
_Code = TypeVar("_Code", bound=StrEnum)


def _fail(where: str, message: str) -> NoReturn:
    raise ValidationError(f"{where}: {message}", field=where)


def _check_type(where: str, value: Any, kind: type | tuple[type, ...]) -> None:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int subclass, but a flag is never a count (nor a count a flag)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        _fail(where, f"expected {names}, got {value!r}")


def _one_of(where: str, value: Any, allowed: Any) -> None:
    choices = get_args(allowed)
    if value not in choices:
        _fail(where, f"must be one of {', '.join(choices)}; got {value!r}")


def _items(where: str, values: Any, kind: type) -> tuple[Any, ...]:
    """``values`` as a tuple of ``kind`` (a lone string is not a collection here)."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        _fail(where, f"expected a collection of {kind.__name__}, got {values!r}")
    items = tuple(values)
    for item in items:
        _check_type(where, item, kind)
    return items


def _codes(where: str, values: Any, kind: type[_Code]) -> frozenset[_Code]:
    try:
        return frozenset(kind(value) for value in _items(where, values, str))
    except ValueError as exc:
        _fail(where, f"{exc}; known: {', '.join(kind)}")


@dataclass(frozen=True, kw_only=True)
class CredentialField:
    """A credential a broker needs, read from ``OPENALGO_<ID>_<name>``.

    ``required``: must be configured (missing -> one error naming every variable).
    ``at_login``: the login needs it, but when it is not configured the login asks for
    it instead (Angel's client code and PIN on the login form); what is typed serves
    that one login and is never written anywhere. Such a field is never ``required``
    (``required`` is set to False).
    ``seed``: the key of OpenAlgo's ``.env`` (``BROKER_API_KEY``, ``BROKER_API_SECRET``)
    this field is read from when that file names this broker; None: ``API_KEY`` and
    ``API_SECRET`` read the two keys of those names, other fields none. A broker whose
    seed keys hold something else today (Kotak's UCC and access token) names its fields
    for what they hold and points them here.
    ``choices``: a setting rather than a secret, one of these values (lower case; read
    case-insensitively, a value outside them refused when the credentials are read); the
    first is what a simulator's generated environment uses (ICICI's ``MARKET_ORDERS``:
    ``protected`` or ``market``).
    """

    name: CredentialName
    secret: bool
    required: bool = True
    at_login: bool = False
    description: str = ""
    seed: str | None = None
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_type("name", self.name, str)
        if not _CREDENTIAL.fullmatch(self.name) or self.name in _RESERVED:
            _fail("name", "must be upper-case letters, digits and _ (2-40, starting with a"
                          f" letter), not BASE_URL; got {self.name!r}")
        _check_type("secret", self.secret, bool)
        _check_type("required", self.required, bool)
        _check_type("at_login", self.at_login, bool)
        if self.at_login:
            object.__setattr__(self, "required", False)
        _check_type("description", self.description, str)
        if self.seed is not None and self.seed not in SEED_NAMES:
            _fail("seed", f"must be one of {', '.join(SEED_NAMES)}; got {self.seed!r}")
        _check_type("choices", self.choices, tuple)
        if not all(isinstance(c, str) and c and c == c.lower() and c.isascii()
                   for c in self.choices):
            _fail("choices", f"must be non-empty lower-case ASCII texts; got {self.choices!r}")


@dataclass(frozen=True, kw_only=True)
class RateLimit:
    """What a broker allows in one rate bucket, on every window it publishes: at most
    ``per_second`` requests a second (in bursts of at most ``burst``), and at most
    ``per_minute``, ``per_hour`` and ``per_day`` requests in any minute, hour and day
    (None: no such window). At least one window is set; the pacer keeps to all of them.
    """

    per_second: float | None = None
    burst: int = 1
    per_minute: int | None = None
    per_hour: int | None = None
    per_day: int | None = None

    def __post_init__(self) -> None:
        if self.per_second is not None:
            _check_type("per_second", self.per_second, (int, float))
            if not 0 < self.per_second < float("inf"):
                _fail("per_second", f"must be a finite number > 0, got {self.per_second!r}")
        _check_type("burst", self.burst, int)
        if self.burst < 1:
            _fail("burst", f"must be >= 1, got {self.burst!r}")
        for name in ("per_minute", "per_hour", "per_day"):
            value = getattr(self, name)
            if value is not None:
                _check_type(name, value, int)
                if value < 1:
                    _fail(name, f"must be >= 1, got {value!r}")
        if self.per_second is None and not self.windows:
            _fail("per_second", "a rate limit needs at least one window (per_second,"
                                " per_minute, per_hour or per_day)")

    @property
    def windows(self) -> tuple[tuple[int, float], ...]:
        """``(count, seconds)`` of the published minute, hour and day windows."""
        spans = ((self.per_minute, 60.0), (self.per_hour, 3600.0), (self.per_day, 86400.0))
        return tuple((count, seconds) for count, seconds in spans if count is not None)


@dataclass(frozen=True, kw_only=True)
class BrokerInfo:
    """What a broker plugin declares about itself (hook ``broker_info``).

    Collections are normalised on construction: exchange, product and price-type
    codes become ``frozenset``s of their enums (strings are accepted), sequences
    become tuples and mappings read-only views. Derive a variant with
    ``dataclasses.replace(info, ...)``, which checks it again.
    """

    id: str
    display_name: str
    exchanges: frozenset[Exchange]
    credentials: tuple[CredentialField, ...]
    login_style: LoginStyle
    core_api: int
    products: frozenset[Product] = frozenset(Product)
    pricetypes: frozenset[PriceType] = frozenset(PriceType)
    #: per rate bucket (a category, or a named part of one that a call names with
    #: ``Call(rate=...)``), the broker's published limits (the gateway paces to them)
    rate_limits: Mapping[RateBucket, RateLimit] = field(default_factory=dict)
    #: named hosts, e.g. ``{"api": "https://..."}``
    base_urls: Mapping[str, str] = field(default_factory=dict)
    #: body texts that mean "rate limited", whatever the HTTP status
    rate_limit_markers: tuple[str, ...] = ()
    #: the IST hour at which the broker ends every session
    session_expiry_hour_ist: int = 3

    def __post_init__(self) -> None:
        _check_type("id", self.id, str)
        if not _ID.fullmatch(self.id):
            _fail("id", f"must be lower-case letters, digits and _ (2-32, starting with a"
                        f" letter); got {self.id!r}")
        _check_type("display_name", self.display_name, str)
        _one_of("login_style", self.login_style, LoginStyle)
        _check_type("core_api", self.core_api, int)
        _check_type("session_expiry_hour_ist", self.session_expiry_hour_ist, int)
        if not 0 <= self.session_expiry_hour_ist <= 23:
            _fail("session_expiry_hour_ist", f"must be 0-23, got {self.session_expiry_hour_ist}")
        _check_type("rate_limits", self.rate_limits, Mapping)
        for bucket, limit in self.rate_limits.items():
            if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket):
                _fail("rate_limits", f"must be one of {', '.join(get_args(RateCategory))},"
                                     f" or one of them and a name (reads.quotes); got {bucket!r}")
            _check_type(f"rate_limits.{bucket}", limit, RateLimit)
        _check_type("base_urls", self.base_urls, Mapping)
        for host, url in self.base_urls.items():
            _check_type("base_urls", host, str)
            _check_type(f"base_urls.{host}", url, str)
        normalised = {
            "exchanges": _codes("exchanges", self.exchanges, Exchange),
            "products": _codes("products", self.products, Product),
            "pricetypes": _codes("pricetypes", self.pricetypes, PriceType),
            "credentials": _items("credentials", self.credentials, CredentialField),
            "rate_limit_markers": _items("rate_limit_markers", self.rate_limit_markers, str),
            "rate_limits": MappingProxyType(dict(self.rate_limits)),
            "base_urls": MappingProxyType(dict(self.base_urls)),
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)
