"""openalgo-core: one typed API over Indian brokers, with brokers as plugins.

Embed it::

    from openalgo_core import Gateway
    gw = Gateway()
    gw.authenticate("angel")                  # TOTP login, no human needed
    gw.place_order("angel", {"symbol": "SBIN", "exchange": "NSE", "action": "BUY",
                             "quantity": 1, "pricetype": "MARKET", "product": "MIS"})
    gw.fetch_positions("angel")
"""

from .config import Credentials, credentials_for, load_env_file, totp_now
from .errors import (
    AuthenticationError,
    BrokerConnectionError,
    BrokerError,
    BrokerResponseError,
    BrokerServerError,
    ConfigurationError,
    IncompatiblePluginError,
    MissingCredentialsError,
    OpenAlgoError,
    OrderRejectedError,
    OrderStatusUnknownError,
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
from .gateway import Gateway
from .hookspecs import CORE_API, hookimpl
from .http import BrokerClient, RetryPolicy, parse_json
from .instruments import InstrumentIndex
from .models import (
    Action,
    BrokerInfo,
    CredentialField,
    Exchange,
    Instrument,
    LoginChallenge,
    OrderReceipt,
    OrderRequest,
    Position,
    PriceType,
    Product,
    RateLimit,
    Session,
    new_session,
    order_from,
)
from .registry import Registry
from .sessions import MemorySessionStore, SessionStore, SQLiteSessionStore

__version__ = "0.1.0"

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
    "Exchange",
    "Gateway",
    "IncompatiblePluginError",
    "Instrument",
    "InstrumentIndex",
    "LoginChallenge",
    "MemorySessionStore",
    "MissingCredentialsError",
    "OpenAlgoError",
    "OrderReceipt",
    "OrderRejectedError",
    "OrderRequest",
    "OrderStatusUnknownError",
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
