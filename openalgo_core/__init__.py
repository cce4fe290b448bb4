"""openalgo-core: one typed API over Indian brokers, with brokers as plugins.

Embed it::

    from openalgo_core import Gateway
    gw = Gateway()
    gw.authenticate("angel")                  # TOTP login, no human needed
    gw.place_order("angel", {"symbol": "SBIN", "exchange": "NSE", "action": "BUY",
                             "quantity": 1, "pricetype": "MARKET", "product": "MIS"})
    gw.fetch_positions("angel")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy

if TYPE_CHECKING:
    from .codes import Action, Exchange, OrderStatus, PriceType, Product
    from .config import Credentials, EnvFileEnviron, credentials_for, load_env_file, totp_now
    from .errors import (
        AuthenticationError,
        BrokerConnectionError,
        BrokerError,
        BrokerResponseError,
        BrokerServerError,
        ConfigurationError,
        IncompatiblePluginError,
        LoginRequiredError,
        MissingCredentialsError,
        OpenAlgoError,
        OrderNotFoundError,
        OrderNotPlacedError,
        OrderRejectedError,
        OrderStatusUnknownError,
        PluginContractError,
        PluginError,
        PluginLoadError,
        PluginNotFoundError,
        RateLimitError,
        SessionExpiredError,
        UnknownSymbolError,
        UnreadableOrderReplyError,
        UnsupportedOperationError,
        ValidationError,
    )
    from .gateway import Gateway, SettlePolicy
    from .hookspecs import CORE_API, hookimpl
    from .http import BrokerClient, RetryPolicy, parse_json
    from .info import BrokerInfo, CredentialField, RateLimit
    from .instruments import InstrumentIndex
    from .journal import OrderJournal
    from .models import (
        Funds,
        Holding,
        Instrument,
        LoginChallenge,
        Order,
        OrderReceipt,
        OrderRequest,
        Position,
        Session,
        Trade,
        new_session,
        order_from,
    )
    from .registry import Registry
    from .sessions import MemorySessionStore, SessionStore, SQLiteSessionStore

__version__ = "0.2.2"

# Public name -> submodule. Submodules are imported on first access (PEP 562), so
# `import openalgo_core` and loading a plugin stay cheap: a CLI listing brokers
# never imports the session store, the HTTP stack or the instrument cache.
_LAZY = {
    "Action": "codes",
    "AuthenticationError": "errors",
    "BrokerClient": "http",
    "BrokerConnectionError": "errors",
    "BrokerError": "errors",
    "BrokerInfo": "info",
    "BrokerResponseError": "errors",
    "BrokerServerError": "errors",
    "CORE_API": "hookspecs",
    "ConfigurationError": "errors",
    "CredentialField": "info",
    "Credentials": "config",
    "EnvFileEnviron": "config",
    "Exchange": "codes",
    "Funds": "models",
    "Gateway": "gateway",
    "Holding": "models",
    "IncompatiblePluginError": "errors",
    "Instrument": "models",
    "InstrumentIndex": "instruments",
    "LoginChallenge": "models",
    "LoginRequiredError": "errors",
    "MemorySessionStore": "sessions",
    "MissingCredentialsError": "errors",
    "OpenAlgoError": "errors",
    "Order": "models",
    "OrderJournal": "journal",
    "OrderNotFoundError": "errors",
    "OrderNotPlacedError": "errors",
    "OrderReceipt": "models",
    "OrderRejectedError": "errors",
    "OrderRequest": "models",
    "OrderStatus": "codes",
    "OrderStatusUnknownError": "errors",
    "PluginContractError": "errors",
    "PluginError": "errors",
    "PluginLoadError": "errors",
    "PluginNotFoundError": "errors",
    "Position": "models",
    "PriceType": "codes",
    "Product": "codes",
    "RateLimit": "info",
    "RateLimitError": "errors",
    "Registry": "registry",
    "RetryPolicy": "http",
    "SQLiteSessionStore": "sessions",
    "Session": "models",
    "SessionExpiredError": "errors",
    "SessionStore": "sessions",
    "SettlePolicy": "gateway",
    "Trade": "models",
    "UnknownSymbolError": "errors",
    "UnreadableOrderReplyError": "errors",
    "UnsupportedOperationError": "errors",
    "ValidationError": "errors",
    "credentials_for": "config",
    "hookimpl": "hookspecs",
    "load_env_file": "config",
    "new_session": "models",
    "order_from": "models",
    "parse_json": "http",
    "totp_now": "config",
}


__getattr__, __dir__ = lazy(__name__, _LAZY, globals())

__all__ = [
    "Action",
    "AuthenticationError",
    "BrokerClient",
    "BrokerConnectionError",
    "BrokerError",
    "BrokerInfo",
    "BrokerResponseError",
    "BrokerServerError",
    "CORE_API",
    "ConfigurationError",
    "CredentialField",
    "Credentials",
    "EnvFileEnviron",
    "Exchange",
    "Funds",
    "Gateway",
    "Holding",
    "IncompatiblePluginError",
    "Instrument",
    "InstrumentIndex",
    "LoginChallenge",
    "LoginRequiredError",
    "MemorySessionStore",
    "MissingCredentialsError",
    "OpenAlgoError",
    "Order",
    "OrderJournal",
    "OrderNotFoundError",
    "OrderNotPlacedError",
    "OrderReceipt",
    "OrderRejectedError",
    "OrderRequest",
    "OrderStatus",
    "OrderStatusUnknownError",
    "PluginContractError",
    "PluginError",
    "PluginLoadError",
    "PluginNotFoundError",
    "Position",
    "PriceType",
    "Product",
    "RateLimit",
    "RateLimitError",
    "Registry",
    "RetryPolicy",
    "SQLiteSessionStore",
    "Session",
    "SessionExpiredError",
    "SessionStore",
    "SettlePolicy",
    "Trade",
    "UnknownSymbolError",
    "UnreadableOrderReplyError",
    "UnsupportedOperationError",
    "ValidationError",
    "__version__",
    "credentials_for",
    "hookimpl",
    "load_env_file",
    "new_session",
    "order_from",
    "parse_json",
    "totp_now",
]
