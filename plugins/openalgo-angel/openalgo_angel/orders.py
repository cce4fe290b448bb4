"""placeOrder (brokers/angel 1.3): build Angel's body, accept only a reply with an order id."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from openalgo_core import (
    BrokerClient,
    Credentials,
    Instrument,
    OrderReceipt,
    OrderRequest,
    Session,
)

from . import _api
from .mapping import PRICETYPES, PRODUCTS


def order_body(order: OrderRequest, instrument: Instrument) -> dict[str, str]:
    """Angel's placeOrder body. Numbers are strings, as in Angel's own examples;
    ``ordertag`` carries the core's unique tag so the order can be found again."""
    ordertype, variety = PRICETYPES[order.pricetype.value]
    return {
        "variety": variety,
        "tradingsymbol": instrument.broker_symbol,
        "symboltoken": instrument.token,
        "transactiontype": order.action.value,
        "exchange": instrument.broker_exchange,
        "ordertype": ordertype,
        "producttype": PRODUCTS[order.product.value],
        "duration": "DAY",
        "price": _number(order.price),
        "triggerprice": _number(order.trigger_price),
        "squareoff": "0",
        "stoploss": "0",
        "quantity": str(order.quantity),
        "disclosedquantity": str(order.disclosed_quantity),
        "ordertag": order.tag,
    }


def place_order(order: OrderRequest, instrument: Instrument, session: Session,
                credentials: Credentials, client: BrokerClient) -> OrderReceipt:
    """Send the order; return a receipt only when Angel says ``status: true`` with an id.

    Raises:
        OrderRejectedError: ``status: false`` (Angel's ``errorcode`` and ``message``).
        UnreadableOrderReplyError: success without an order id, or an unreadable reply.
        SessionExpiredError: AG8001/AG8002/AG8003.
    """
    (api_key,) = credentials.require("API_KEY")
    response = client.request(
        "POST", client.url("api", _api.PLACE_ORDER_PATH), kind="order", tag=order.tag,
        content=_encode(order_body(order, instrument)),  # the bytes httpx's json= would send
        headers=_api.headers(api_key, session.access_token.get_secret_value()))
    body = _api.check(response, call="order", order_tag=order.tag)
    data = body.get("data")
    order_id = data.get("orderid") if isinstance(data, dict) else None
    if isinstance(order_id, int) and not isinstance(order_id, bool):
        order_id = str(order_id)
    if not isinstance(order_id, str) or not order_id.strip():
        raise _api.unreadable(response, "status true but no data.orderid", order.tag)
    return OrderReceipt(broker=_api.BROKER, order_id=order_id.strip(), tag=order.tag,
                        raw=body)


_encode = msgspec.json.Encoder().encode


def _number(value: Decimal) -> str:
    """``Decimal`` as Angel's plain decimal string (``"0"``, ``"812.35"``), never exponent."""
    return format(value, "f")
