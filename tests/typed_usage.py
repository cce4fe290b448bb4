"""Typed use of the public models, checked by mypy --strict (the ``types`` nox
session; see ``[tool.mypy] files`` in pyproject.toml), never run by pytest.

A ``type: ignore`` here pins an error mypy must keep reporting: strict mode
flags an ignore that has become unused.
"""

from openalgo_core import Action, Exchange, LoginChallenge, OrderRequest, PriceType


def market_order() -> OrderRequest:
    return OrderRequest(symbol="SBIN", exchange=Exchange.NSE, action=Action.BUY, quantity=1)


def limit_order() -> OrderRequest:
    return OrderRequest(symbol="SBIN", exchange=Exchange.NSE, action=Action.SELL, quantity=5,
                        pricetype=PriceType.LIMIT, price=512, strategy="typed", tag="t-1")


def code_challenge() -> LoginChallenge:
    return LoginChallenge(broker="angel", kind="code", prompt="Log in",
                          fields=("client_id", "pin", "code"), secret_fields=("pin",))


def never_called() -> None:
    OrderRequest(symbol="SBIN", exchange=Exchange.NSE, action=Action.BUY)  # type: ignore[call-arg]
    OrderRequest(symbol="SBIN", exchange=Exchange.NSE, action=Action.BUY, quantity=1,
                 colour="red")  # type: ignore[call-arg]
