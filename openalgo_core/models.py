"""The unified vocabulary: orders, receipts, positions, sessions, instruments.

(The codes themselves live in :mod:`~openalgo_core.codes`, a plugin's declaration
in :mod:`~openalgo_core.info`.)

Field names and values follow OpenAlgo (``symbol``, ``exchange``, ``action``,
``pricetype``, ``product``, ``trigger_price`` ...). Money is ``Decimal``.
Pydantic models validate on construction; building an :class:`OrderRequest`
(directly or with :func:`order_from`) raises our
:class:`~openalgo_core.errors.ValidationError` naming the field and the rule,
never pydantic's own error. Models build their validators on first use
(``defer_build``), so importing the core stays cheap.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple

import pydantic
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from .codes import (
    CASH_EXCHANGES,
    INDEX_EXCHANGES,
    OPEN_STATUSES,
    Action,
    Exchange,
    OrderStatus,
    PriceType,
    Product,
)
from .errors import ValidationError

IST = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")


def to_decimal(value: Any, field: str = "value") -> Decimal:
    """Parse a broker or user number into a finite ``Decimal`` (floats via ``str``)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValidationError(f"{field}: expected a number, got {value!r}", field=field)
    elif isinstance(value, int | float | str):
        try:
            result = Decimal(str(value).replace(" ", "").replace(",", ""))
        except InvalidOperation:
            raise ValidationError(f"{field}: expected a number, got {value!r}",
                                  field=field) from None
    else:
        raise ValidationError(f"{field}: expected a number, got {value!r}", field=field)
    if not result.is_finite():
        raise ValidationError(f"{field}: must be finite, got {value!r}", field=field)
    return result


#: order numbers (quantities, prices) are below 10**12: checked on the exponent, before
#: anything converts them (``"1e300000"`` must not become a 300,001-digit int)
_MAX_DIGITS = 12


def _too_big(number: Decimal) -> bool:
    return bool(number) and number.adjusted() >= _MAX_DIGITS


def _whole_number(field: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{field}: must be a whole number")
    try:
        number = to_decimal(value)
    except ValidationError:
        raise ValueError(f"{field}: must be a whole number") from None
    if _too_big(number):
        raise ValueError(f"{field}: must be below 10**{_MAX_DIGITS}")
    if number != number.to_integral_value():
        raise ValueError(f"{field}: must be a whole number, got {value}")
    return int(number)


def _money(field: str, value: Any) -> Decimal:
    number = to_decimal(value, field)
    if number < 0:
        raise ValueError(f"{field}: must be >= 0")
    if _too_big(number):
        raise ValueError(f"{field}: must be below 10**{_MAX_DIGITS}")
    return number


_CODE_FIELDS = ("symbol", "exchange", "action", "pricetype", "product")
_WHOLE_FIELDS = ("quantity", "disclosed_quantity")
_MONEY_FIELDS = ("price", "trigger_price")


#: what an order's tag may be (it must fit every broker's tag field)
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,20}$")


def new_tag() -> str:
    """A unique order tag: ``oa`` + 14 hex digits (fits every broker's tag field)."""
    return "oa" + secrets.token_hex(7)


class OrderRequest(BaseModel):
    """An order as a strategy states it, validated before anything is sent.

    Rules: integer quantity > 0; LIMIT needs ``price`` > 0; SL needs ``price``
    and ``trigger_price`` (BUY: trigger <= price, SELL: trigger >= price);
    SL-M needs ``trigger_price``; MARKET takes no price; ``disclosed_quantity``
    <= quantity; CNC only on cash exchanges; index exchanges take no orders.
    ``tag`` is unique per request unless you set it (send it to the broker: it is
    how an order whose outcome is unknown is found again).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    symbol: Annotated[str, Field(min_length=1, max_length=64)]
    exchange: Exchange
    action: Action
    quantity: int
    pricetype: PriceType = PriceType.MARKET
    product: Product = Product.MIS
    price: Decimal = Decimal(0)
    trigger_price: Decimal = Decimal(0)
    disclosed_quantity: int = 0
    strategy: Annotated[str, Field(max_length=64)] = ""
    tag: str = Field(default_factory=new_tag, pattern=TAG_PATTERN.pattern)

    if not TYPE_CHECKING:  # type checkers keep pydantic's field-by-field signature
        def __init__(self, /, **data: Any) -> None:
            try:
                self.__pydantic_validator__.validate_python(data, self_instance=self)
            except pydantic.ValidationError as exc:
                raise _describe(exc) from None

        # pydantic's own mark for an __init__ that only validates: without it,
        # model_validate (order_from) would also run through this one, ~50% slower
        __init__.__pydantic_base_init__ = True

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        """One pass over the raw input: codes upper-cased, numbers parsed (a single
        Python call per order, not one per field)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name in _CODE_FIELDS:
            value = data.get(name)
            if isinstance(value, str):
                data[name] = value.strip().upper()
        for name in _WHOLE_FIELDS:
            if name in data and type(data[name]) is not int:
                data[name] = _whole_number(name, data[name])
        for name in _MONEY_FIELDS:
            if name in data:
                data[name] = _money(name, data[name])
        return data

    @model_validator(mode="after")
    def _rules(self) -> OrderRequest:
        p, t = self.price, self.trigger_price
        if self.quantity <= 0:
            raise ValueError(f"quantity: must be > 0, got {self.quantity}")
        if self.quantity >= 10**_MAX_DIGITS:
            raise ValueError(f"quantity: must be below 10**{_MAX_DIGITS}")
        if self.exchange in INDEX_EXCHANGES:
            raise ValueError(f"exchange: {self.exchange} is an index exchange and takes no orders")
        if self.product is Product.CNC and self.exchange not in CASH_EXCHANGES:
            raise ValueError(
                f"product: CNC is only for cash exchanges (NSE, BSE), not {self.exchange}")
        if not 0 <= self.disclosed_quantity <= self.quantity:
            raise ValueError(
                f"disclosed_quantity: must be between 0 and quantity ({self.quantity}),"
                f" got {self.disclosed_quantity}")
        pt = self.pricetype
        if pt in (PriceType.LIMIT, PriceType.SL) and p <= 0:
            raise ValueError(f"price: {pt} orders need price > 0")
        if pt in (PriceType.SL, PriceType.SL_M) and t <= 0:
            raise ValueError(f"trigger_price: {pt} orders need trigger_price > 0")
        if pt in (PriceType.MARKET, PriceType.SL_M) and p != 0:
            raise ValueError(f"price: {pt} orders take no price (got {p}); use LIMIT or SL")
        if pt in (PriceType.MARKET, PriceType.LIMIT) and t != 0:
            raise ValueError(
                f"trigger_price: {pt} orders take no trigger (got {t}); use SL or SL-M")
        if pt is PriceType.SL:
            if self.action is Action.BUY and t > p:
                raise ValueError(f"trigger_price: for a BUY SL order it must be <= price ({p})")
            if self.action is Action.SELL and t < p:
                raise ValueError(f"trigger_price: for a SELL SL order it must be >= price ({p})")
        return self


def _describe(error: pydantic.ValidationError) -> ValidationError:
    first = error.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    if loc and not msg.startswith(f"{loc}:"):
        msg = f"{loc}: {msg}"
    field = loc or (msg.split(":", 1)[0] if ":" in msg else None)
    extra = len(error.errors()) - 1
    return ValidationError(msg + (f" (and {extra} more)" if extra else ""), field=field)


def order_from(data: OrderRequest | Mapping[str, Any]) -> OrderRequest:
    """Validate ``data`` into an :class:`OrderRequest`.

    Raises:
        ValidationError: naming the first bad field and the rule it breaks.
    """
    if isinstance(data, OrderRequest):
        return data
    try:
        return OrderRequest.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        raise _describe(exc) from None


class OrderReceipt(BaseModel):
    """The broker's acknowledgement of an order (not a fill)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    broker: str
    order_id: Annotated[str, Field(min_length=1)]
    tag: str | None = None
    raw: Any = Field(default=None, repr=False)


class Position(BaseModel):
    """One row of the position book; ``quantity`` is signed (0 = closed today)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    symbol: str
    exchange: Exchange
    product: Product
    quantity: int
    average_price: Decimal
    ltp: Decimal
    pnl: Decimal


class Order(BaseModel):
    """One order of the day as the broker's order book shows it, in OpenAlgo's terms.

    ``status`` is OpenAlgo's vocabulary (open, trigger pending, complete, cancelled,
    rejected); ``reason`` is the broker's text (why it was rejected), ``tag`` the tag it
    was sent with (None when the broker's book does not echo one). ``raw`` is the
    broker's row.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    broker: str
    order_id: Annotated[str, Field(min_length=1)]
    symbol: str
    exchange: Exchange
    action: Action
    quantity: int
    pricetype: PriceType
    product: Product
    price: Decimal = Decimal(0)
    trigger_price: Decimal = Decimal(0)
    status: OrderStatus
    filled_quantity: int = 0
    average_price: Decimal = Decimal(0)
    reason: str = ""
    tag: str | None = None
    timestamp: dt.datetime | None = None
    raw: Any = Field(default=None, repr=False)

    @property
    def is_open(self) -> bool:
        """Whether it can still be modified or cancelled (open or trigger pending)."""
        return self.status in OPEN_STATUSES


class Trade(BaseModel):
    """One fill from the trade book (an order filled in parts has several)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    broker: str
    order_id: str
    trade_id: str
    symbol: str
    exchange: Exchange
    action: Action
    product: Product
    quantity: int
    average_price: Decimal
    trade_value: Decimal
    timestamp: dt.datetime | None = None


class Funds(BaseModel):
    """The account's money: what is free to trade, what is blocked, the day's P&L."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    broker: str
    available_cash: Decimal
    collateral: Decimal = Decimal(0)
    used_margin: Decimal = Decimal(0)
    realised_pnl: Decimal = Decimal(0)
    unrealised_pnl: Decimal = Decimal(0)


class Holding(BaseModel):
    """One long-term holding (delivery) valued at ``ltp``."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    symbol: str
    exchange: Exchange
    product: Product = Product.CNC
    quantity: int
    average_price: Decimal
    ltp: Decimal
    pnl: Decimal

    @property
    def pnl_percent(self) -> Decimal:
        """P&L as a percentage of the cost (0 when the cost is 0), 2 decimals."""
        cost = self.average_price * self.quantity
        return (self.pnl * 100 / cost).quantize(Decimal("0.01")) if cost else Decimal(0)


class Session(BaseModel):
    """A logged-in broker session. Tokens are secret; ``expires_at`` is tz-aware."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    broker: str
    user_id: str
    access_token: SecretStr
    refresh_token: SecretStr | None = None
    feed_token: SecretStr | None = None
    extra: dict[str, SecretStr] = Field(default_factory=dict)
    created_at: dt.datetime
    expires_at: dt.datetime

    @field_validator("created_at", "expires_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("must be timezone-aware")
        return value

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        return (now or dt.datetime.now(dt.UTC)) >= self.expires_at


def next_daily_expiry(now: dt.datetime | None = None, hour: int = 3) -> dt.datetime:
    """The next ``hour``:00 IST after ``now``: when Indian broker sessions end."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(IST)
    boundary = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if boundary <= now:
        boundary += dt.timedelta(days=1)
    return boundary


def new_session(broker: str, user_id: str, access_token: str, *,
                refresh_token: str | None = None, feed_token: str | None = None,
                extra: Mapping[str, str] | None = None, now: dt.datetime | None = None,
                expiry_hour: int = 3) -> Session:
    """Build a :class:`Session` that expires at the next daily boundary."""
    now = now or dt.datetime.now(dt.UTC)
    return Session(
        broker=broker, user_id=user_id, access_token=SecretStr(access_token),
        refresh_token=SecretStr(refresh_token) if refresh_token else None,
        feed_token=SecretStr(feed_token) if feed_token else None,
        extra={k: SecretStr(v) for k, v in (extra or {}).items()},
        created_at=now, expires_at=next_daily_expiry(now, expiry_hour),
    )


_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_ACRONYMS = frozenset({"api", "id", "mpin", "otp", "pan", "pin", "totp", "ucc", "url"})


class LoginChallenge(BaseModel):
    """A login that needs a human: a URL to open, or values to type.

    ``fields`` names what to type (lower-case, e.g. ``("client_id", "pin", "code")``:
    the code, and any credential the environment lacks); ``secret_fields`` those of
    them typed unseen. Typed values serve that login only and are never stored.
    ``state`` must come back to ``handle_callback`` unchanged; ``context`` is
    private data the plugin needs to finish (kept server-side, never shown).
    ``resendable``: the broker sent the code (an SMS or e-mail OTP) and starting the login
    again has it send a new one (``Gateway.resend_code``).
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    broker: str
    kind: Literal["url", "code"]
    prompt: str
    url: str | None = None
    fields: tuple[str, ...] = ("code",)
    secret_fields: tuple[str, ...] = ()
    state: str = Field(default_factory=lambda: secrets.token_urlsafe(24))
    context: dict[str, str] = Field(default_factory=dict, repr=False)
    resendable: bool = False
    #: field -> what the broker's own login form (and OpenAlgo's) calls it
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _field_names(self) -> LoginChallenge:
        for name in self.fields:
            if name == "state":
                raise ValueError("fields: 'state' is the login's own parameter")
            if not _FIELD_NAME.fullmatch(name):
                raise ValueError(f"fields: {name!r} must be a lower-case name (a-z, 0-9, _)")
        unknown = sorted(set(self.secret_fields) - set(self.fields))
        if unknown:
            raise ValueError(f"secret_fields: {', '.join(unknown)} not in fields")
        return self

    def label(self, name: str) -> str:
        """A human label for field ``name``: the broker's (``labels``), else its name's
        (``"client_id"`` → ``"Client ID"``)."""
        given = self.labels.get(name)
        if given:
            return given
        text = " ".join(w.upper() if w in _ACRONYMS else w for w in name.split("_") if w)
        return text[:1].upper() + text[1:]

    def is_secret(self, name: str) -> bool:
        """Whether ``name`` is typed unseen (a password input, ``getpass``)."""
        return name in self.secret_fields


class Instrument(NamedTuple):
    """One tradable (or quotable) instrument from a broker's master contract.

    An immutable named tuple rather than a pydantic model: master contracts
    hold 150k+ rows, and building (positionally) and looking them up must be
    cheap. Plugins build them valid; the core never mutates them.
    """

    symbol: str
    exchange: str
    broker_symbol: str
    broker_exchange: str
    token: str
    name: str = ""
    instrument_type: str = "EQ"
    lot_size: int = 1
    tick_size: Decimal = Decimal("0.05")
    expiry: dt.date | None = None
    strike: Decimal | None = None
    option_type: str | None = None
