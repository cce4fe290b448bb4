"""Every error openalgo raises, in one tree.

::

    OpenAlgoError
    ├── ConfigurationError                 bad or missing settings
    │   └── MissingCredentialsError        names the variables to set
    ├── PluginError                        a broker package could not be used
    │   ├── PluginNotFoundError            no such broker installed / allowed
    │   ├── PluginLoadError                import or pluggy validation failed
    │   ├── IncompatiblePluginError        built for another CORE_API
    │   ├── UnsupportedOperationError      the broker does not implement the hook
    │   └── PluginContractError            a hook returned what the contract forbids
    ├── ValidationError (ValueError)       bad input, caught before the network
    │   └── UnknownSymbolError             symbol not in the master contract
    └── BrokerError                        anything the broker (or the way to it) did
        ├── BrokerConnectionError          the request provably never left
        ├── OrderStatusUnknownError        an order was sent, no definitive answer
        ├── OrderRejectedError             the broker said no (also on HTTP 200)
        ├── OrderNotFoundError             no order with this id at the broker
        ├── OrderNotPlacedError            settled: the broker's order book lacks it
        ├── AuthenticationError            login refused (wrong PIN, TOTP, key ...)
        │   └── SessionExpiredError        the session is gone: log in again
        │       └── LoginRequiredError     ...and logging in needs a person
        ├── RateLimitError                 too many requests; see ``retry_after``
        ├── BrokerServerError              the broker answered 5xx
        └── BrokerResponseError            the reply could not be understood
            └── UnreadableOrderReplyError  ...to an order: also an OrderStatusUnknownError

Every :class:`BrokerError` carries ``broker`` (the broker id) and ``raw`` (the
response body, when there was one, truncated). No error ever carries a secret:
credentials are ``SecretStr`` and request headers are never attached.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AuthenticationError",
    "BrokerConnectionError",
    "BrokerError",
    "BrokerResponseError",
    "BrokerServerError",
    "ConfigurationError",
    "IncompatiblePluginError",
    "LoginRequiredError",
    "MissingCredentialsError",
    "OpenAlgoError",
    "OrderNotFoundError",
    "OrderNotPlacedError",
    "OrderRejectedError",
    "OrderStatusUnknownError",
    "PluginContractError",
    "PluginError",
    "PluginLoadError",
    "PluginNotFoundError",
    "RateLimitError",
    "SessionExpiredError",
    "UnknownSymbolError",
    "UnreadableOrderReplyError",
    "UnsupportedOperationError",
    "ValidationError",
]

RAW_LIMIT = 2000


class OpenAlgoError(Exception):
    """Base of every openalgo error."""


class ConfigurationError(OpenAlgoError):
    """A setting is missing or malformed."""


class MissingCredentialsError(ConfigurationError):
    """Credentials a broker needs are not set; ``variables`` lists what to set."""

    def __init__(self, broker: str, variables: Sequence[str], detail: str = "") -> None:
        self.broker = broker
        self.variables = tuple(variables)
        msg = f"{broker}: missing credentials; set {', '.join(self.variables)}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


class PluginError(OpenAlgoError):
    """A broker plugin could not be used."""

    def __init__(self, broker: str, message: str) -> None:
        self.broker = broker
        super().__init__(f"{broker}: {message}")


class PluginNotFoundError(PluginError):
    """No installed (and allowed) plugin has this broker id."""


class PluginLoadError(PluginError):
    """The plugin failed to import or failed pluggy's validation."""


class IncompatiblePluginError(PluginError):
    """The plugin was built for another ``CORE_API``."""


class UnsupportedOperationError(PluginError):
    """The broker does not implement this operation."""


class PluginContractError(PluginError):
    """A hook broke the contract (wrong return type, a session for another broker,
    a receipt without an order id): a bug in the plugin, not a broker reply."""


class ValidationError(OpenAlgoError, ValueError):
    """Input is invalid; nothing was sent. ``field`` names the offending field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class UnknownSymbolError(ValidationError):
    """The (symbol, exchange) pair is not in the broker's master contract."""

    def __init__(self, symbol: str, exchange: str, suggestions: Sequence[str] = ()) -> None:
        self.symbol = symbol
        self.exchange = exchange
        self.suggestions = tuple(suggestions)
        msg = f"unknown symbol {symbol!r} on {exchange}"
        if self.suggestions:
            msg += f"; did you mean {', '.join(self.suggestions)}?"
        super().__init__(msg, field="symbol")


class BrokerError(OpenAlgoError):
    """The broker, or the road to it, failed. ``raw`` is the reply body if any."""

    def __init__(
        self,
        message: str,
        *,
        broker: str,
        raw: str | bytes | None = None,
        status_code: int | None = None,
    ) -> None:
        self.broker = broker
        self.message = message
        self.status_code = status_code
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        self.raw = raw[:RAW_LIMIT] if raw is not None else None
        super().__init__(f"{broker}: {message}")


class BrokerConnectionError(BrokerError):
    """The request never reached the broker (connect failure or timeout)."""


class OrderStatusUnknownError(BrokerError):
    """An order was sent but no definitive answer came back.

    Do NOT resend blindly: reconcile against the order book using ``tag``.
    """

    def __init__(self, message: str, *, broker: str, tag: str | None,
                 raw: str | bytes | None = None, status_code: int | None = None) -> None:
        self.tag = tag
        super().__init__(message, broker=broker, raw=raw, status_code=status_code)


class OrderRejectedError(BrokerError):
    """The broker refused the order; ``code`` and ``reason`` are the broker's."""

    def __init__(self, reason: str, *, broker: str, code: str | None = None,
                 raw: str | bytes | None = None, status_code: int | None = None) -> None:
        self.code = code
        self.reason = reason
        text = f"order rejected: {reason}" + (f" [{code}]" if code else "")
        super().__init__(text, broker=broker, raw=raw, status_code=status_code)


class OrderNotFoundError(BrokerError):
    """The broker knows no order with this id; ``order_id`` names it."""

    def __init__(self, order_id: str, *, broker: str, raw: str | bytes | None = None,
                 status_code: int | None = None) -> None:
        self.order_id = order_id
        super().__init__(f"no order {order_id!r} in the order book", broker=broker, raw=raw,
                         status_code=status_code)


class OrderNotPlacedError(BrokerError):
    """An order whose outcome was unknown is settled as not placed: the broker's order
    book still lacks its ``tag`` well after it was sent. Nothing is live; placing it again
    with the same tag sends it (once)."""

    def __init__(self, message: str, *, broker: str, tag: str) -> None:
        self.tag = tag
        super().__init__(message, broker=broker)


class AuthenticationError(BrokerError):
    """The broker refused the login or the credentials."""

    def __init__(self, message: str, *, broker: str, code: str | None = None,
                 raw: str | bytes | None = None, status_code: int | None = None) -> None:
        self.code = code
        super().__init__(message, broker=broker, raw=raw, status_code=status_code)


class SessionExpiredError(AuthenticationError):
    """The session expired or was revoked; log in again."""


class LoginRequiredError(SessionExpiredError):
    """There is no live session and none can be had without a person (no TOTP secret
    stored, a browser login, or automatic login turned off): complete a login."""


class RateLimitError(BrokerError):
    """The broker refused for rate; ``retry_after`` is in seconds when known."""

    def __init__(self, message: str, *, broker: str, retry_after: float | None = None,
                 raw: str | bytes | None = None, status_code: int | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, broker=broker, raw=raw, status_code=status_code)


class BrokerServerError(BrokerError):
    """The broker answered with a 5xx status."""


class BrokerResponseError(BrokerError):
    """The reply was malformed or not what the broker documents."""


class UnreadableOrderReplyError(OrderStatusUnknownError, BrokerResponseError):
    """The reply to an order could not be read: the order may or may not be live."""
