"""Placing and changing orders, in OpenAlgo's shapes: placeorder, placesmartorder,
basketorder, splitorder, closeposition, modifyorder, cancelorder, cancelallorder.

Every order goes through :meth:`Gateway.place_order`: validated before the network,
journaled, its tag an idempotency key. Order endpoints share the per-key order rate
limit (10/s by default, as OpenAlgo).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request

from ..codes import Action
from ..errors import OpenAlgoError, ValidationError
from ..models import order_from
from .bodies import (
    BasketBody,
    CancelBody,
    ModifyBody,
    PlaceOrderBody,
    SmartOrderBody,
    SplitBody,
    StrategyBody,
)
from .errors import API_ERRORS, error

if TYPE_CHECKING:
    from ..gateway import Gateway
    from .app import Api

__all__ = ["MAX_SPLIT", "register", "smart_order"]

MAX_SPLIT = 100
_NOT_ORDER_FIELDS = {"apikey", "broker"}


def smart_order(gateway: Gateway, broker: str, fields: Mapping[str, Any],
                position_size: int) -> dict[str, Any]:
    """Trade the difference between ``position_size`` and the net position in the order's
    symbol, exchange and product (OpenAlgo's placesmartorder); no order when they match.

    Raises:
        ValidationError: a bad field (checked before the positions are read).
    """
    target = order_from({**fields, "quantity": 1})  # validates every other field
    current = sum(p.quantity for p in gateway.fetch_positions(broker)
                  if (p.symbol, p.exchange, p.product)
                  == (target.symbol, target.exchange, target.product))
    delta = position_size - current
    if delta == 0:
        return {"status": "success", "message": "Positions Already Matched. No Action needed."}
    order = {**fields, "action": Action.BUY if delta > 0 else Action.SELL,
             "quantity": abs(delta)}
    receipt = gateway.place_order(broker, order)
    return {"orderid": receipt.order_id, "status": "success"}


def _failure(exc: OpenAlgoError) -> str:
    return getattr(exc, "reason", None) or str(exc)


def register(app: FastAPI, api: Api) -> None:
    gw = api.gateway
    route = app.post

    @route("/api/v1/placeorder", tags=["orders"], responses=API_ERRORS)
    def placeorder(request: Request, body: PlaceOrderBody) -> dict[str, Any]:
        """Place one order: ``{"orderid", "status": "success"}`` once the broker
        acknowledged it (not a fill)."""
        broker = api.broker(request, body, orders=True)
        receipt = gw.place_order(broker, body.model_dump(exclude=_NOT_ORDER_FIELDS,
                                                         exclude_none=True))
        return {"orderid": receipt.order_id, "status": "success"}

    @route("/api/v1/placesmartorder", tags=["orders"], responses=API_ERRORS)
    def placesmartorder(request: Request, body: SmartOrderBody) -> dict[str, Any]:
        """Bring the net position to ``position_size`` (``quantity`` is ignored: the
        order is for the difference); no order when it is already there."""
        broker = api.broker(request, body, orders=True)
        fields = body.model_dump(exclude=_NOT_ORDER_FIELDS | {"position_size"},
                                 exclude_none=True)
        return smart_order(gw, broker, fields, body.position_size)

    @route("/api/v1/basketorder", tags=["orders"], responses=API_ERRORS)
    def basketorder(request: Request, body: BasketBody) -> dict[str, Any]:
        """Place up to 100 orders, each on its own: ``results`` has one entry per order,
        in order (``status`` success with ``orderid``, or error with ``message``)."""
        broker = api.broker(request, body, orders=True)
        results: list[dict[str, Any]] = []
        for item in body.orders:
            fields = {**item.model_dump(exclude_none=True), "strategy": body.strategy}
            try:
                receipt = gw.place_order(broker, fields)
            except OpenAlgoError as exc:
                results.append({"symbol": item.symbol, "status": "error",
                                 "message": _failure(exc)})
            else:
                results.append({"symbol": item.symbol, "status": "success",
                                "orderid": receipt.order_id})
        return {"status": "success", "results": results}

    @route("/api/v1/splitorder", tags=["orders"], responses=API_ERRORS)
    def splitorder(request: Request, body: SplitBody) -> dict[str, Any]:
        """Place ``quantity`` as orders of ``splitsize`` each (the last takes the rest),
        at most 100 orders; with a ``tag``, order n is tagged ``<tag>-<n>``."""
        broker = api.broker(request, body, orders=True)
        if body.splitsize <= 0:
            raise ValidationError("splitsize: must be > 0", field="splitsize")
        if body.quantity <= 0:
            raise ValidationError("quantity: must be > 0", field="quantity")
        count = -(-body.quantity // body.splitsize)
        if count > MAX_SPLIT:
            raise ValidationError(f"splitsize: {count} orders; at most {MAX_SPLIT}",
                                  field="splitsize")
        fields = body.model_dump(exclude=_NOT_ORDER_FIELDS | {"splitsize", "tag"},
                                 exclude_none=True)
        order_from({**fields, "quantity": body.splitsize})  # refuse before the first order
        results: list[dict[str, Any]] = []
        for number in range(1, count + 1):
            size = min(body.splitsize, body.quantity - (number - 1) * body.splitsize)
            entry: dict[str, Any] = {"order_num": number, "quantity": size}
            tag = {"tag": f"{body.tag}-{number}"} if body.tag else {}
            try:
                receipt = gw.place_order(broker, {**fields, "quantity": size, **tag})
            except OpenAlgoError as exc:
                entry.update(status="error", message=_failure(exc))
            else:
                entry.update(orderid=receipt.order_id, status="success")
            results.append(entry)
        return {"status": "success", "split_size": body.splitsize,
                "total_quantity": body.quantity, "results": results}

    @route("/api/v1/closeposition", tags=["orders"], responses=API_ERRORS)
    def closeposition(request: Request, body: StrategyBody) -> Any:
        """Flatten every open position with market orders (502 when any failed, naming
        them)."""
        broker = api.broker(request, body, orders=True)
        placed, failures = [], []
        for p in gw.fetch_positions(broker):
            if p.quantity == 0:
                continue
            try:
                receipt = gw.place_order(broker, {
                    "symbol": p.symbol, "exchange": p.exchange, "product": p.product,
                    "action": "SELL" if p.quantity > 0 else "BUY", "quantity": abs(p.quantity),
                    "pricetype": "MARKET", "strategy": body.strategy})
                placed.append({"symbol": p.symbol, "orderid": receipt.order_id})
            except OpenAlgoError as exc:
                failures.append({"symbol": p.symbol, "message": _failure(exc)})
        if failures:
            return error(502, "Some positions were not closed", orders=placed, failed=failures)
        return {"status": "success", "message": "All Open Positions SquaredOff",
                "orders": placed}

    @route("/api/v1/modifyorder", tags=["orders"], responses=API_ERRORS)
    def modifyorder(request: Request, body: ModifyBody) -> dict[str, Any]:
        """Change an open order's quantity, price, trigger price or price type; the
        symbol, exchange, action and product must be the order's own (400 otherwise)."""
        broker = api.broker(request, body, orders=True)
        order = gw.fetch_order(broker, body.orderid)
        for name, mine in (("symbol", order.symbol), ("exchange", order.exchange.value),
                           ("action", order.action.value), ("product", order.product.value)):
            sent = str(getattr(body, name)).strip().upper()
            if sent != mine:
                raise ValidationError(f"{name}: order {body.orderid} is {mine}, not {sent};"
                                      f" only quantity, price, trigger_price and pricetype"
                                      f" can change", field=name)
        if body.disclosed_quantity:
            raise ValidationError("disclosed_quantity: cannot be modified (send 0)",
                                  field="disclosed_quantity")
        receipt = gw.modify_order(broker, body.orderid, quantity=body.quantity,
                                  price=body.price, trigger_price=body.trigger_price,
                                  pricetype=body.pricetype)
        return {"orderid": receipt.order_id, "status": "success"}

    @route("/api/v1/cancelorder", tags=["orders"], responses=API_ERRORS)
    def cancelorder(request: Request, body: CancelBody) -> dict[str, Any]:
        """Cancel an open or trigger-pending order (400 when it is no longer open)."""
        broker = api.broker(request, body, orders=True)
        receipt = gw.cancel_order(broker, body.orderid)
        return {"orderid": receipt.order_id, "status": "success"}

    @route("/api/v1/cancelallorder", tags=["orders"], responses=API_ERRORS)
    def cancelallorder(request: Request, body: StrategyBody) -> dict[str, Any]:
        """Cancel every open order: ``canceled_orders`` (ids) and ``failed_cancellations``
        (``orderid``, ``reason``)."""
        broker = api.broker(request, body, orders=True)
        done: list[str] = []
        failed: list[dict[str, str]] = []
        for order in gw.fetch_order_book(broker):
            if not order.is_open:
                continue
            try:
                done.append(gw.cancel_order(broker, order.order_id).order_id)
            except OpenAlgoError as exc:
                failed.append({"orderid": order.order_id, "reason": _failure(exc)})
        return {"status": "success",
                "message": f"Canceled {len(done)} orders. Failed to cancel {len(failed)}"
                           " orders.", "canceled_orders": done, "failed_cancellations": failed}
