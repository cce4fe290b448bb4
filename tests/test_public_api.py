"""The public surface is pinned: changing it is a deliberate act."""

import tomllib
from pathlib import Path

import openalgo_core

PINNED = [
    "CORE_API", "Action", "AuthenticationError", "BrokerClient", "BrokerConnectionError",
    "BrokerError", "BrokerInfo", "BrokerResponseError", "BrokerServerError",
    "ConfigurationError", "CredentialField", "Credentials", "Exchange", "Gateway",
    "IncompatiblePluginError", "Instrument", "InstrumentIndex", "LoginChallenge",
    "MemorySessionStore", "MissingCredentialsError", "OpenAlgoError", "OrderReceipt",
    "OrderRejectedError", "OrderRequest", "OrderStatusUnknownError", "PluginContractError",
    "PluginError", "PluginLoadError", "PluginNotFoundError", "Position", "PriceType", "Product",
    "RateLimit", "RateLimitError", "Registry", "RetryPolicy", "SQLiteSessionStore", "Session",
    "SessionExpiredError", "SessionStore", "UnknownSymbolError", "UnreadableOrderReplyError",
    "UnsupportedOperationError", "ValidationError", "__version__", "credentials_for", "hookimpl",
    "load_env_file", "new_session", "order_from", "parse_json", "totp_now",
    # CORE_API 2: the rest of a trader's day, the order journal, unattended re-login
    "EnvFileEnviron", "Funds", "Holding", "LoginRequiredError", "Order", "OrderJournal",
    "OrderNotFoundError", "OrderNotPlacedError", "OrderStatus", "SettlePolicy", "Trade",
]


def test_all_is_sorted_and_pinned() -> None:
    assert openalgo_core.__all__ == sorted(openalgo_core.__all__)
    assert openalgo_core.__all__ == sorted(PINNED)


def test_every_name_in_all_exists() -> None:
    for name in openalgo_core.__all__:
        assert hasattr(openalgo_core, name), name


def test_version_matches_pyproject() -> None:
    meta = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert openalgo_core.__version__ == meta["project"]["version"] == "0.2.2"


def test_core_api_is_an_integer() -> None:
    assert isinstance(openalgo_core.CORE_API, int) and openalgo_core.CORE_API >= 1
