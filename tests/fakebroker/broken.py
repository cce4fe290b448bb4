"""The fake broker with one property broken in each variant: each conformance check is
shown to fail on the variant that breaks what it checks (tests/test_conformance_broken.py)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from openalgo_core import (
    AuthenticationError,
    BrokerClient,
    BrokerInfo,
    Credentials,
    Funds,
    Holding,
    Instrument,
    InstrumentIndex,
    LoginChallenge,
    Order,
    OrderNotFoundError,
    OrderReceipt,
    OrderRejectedError,
    OrderRequest,
    OrderStatus,
    OrderStatusUnknownError,
    Position,
    Session,
    Trade,
    hookimpl,
    new_session,
)

from . import plugin as fake


class FakeHooks:
    """The fake broker's hooks as an object; each variant overrides what it breaks."""

    @hookimpl
    def broker_info(self) -> BrokerInfo:
        return fake.INFO

    @hookimpl
    def authenticate(self, credentials: Credentials,
                     client: BrokerClient) -> Session | LoginChallenge:
        return fake.authenticate(credentials, client)

    @hookimpl
    def handle_callback(self, credentials: Credentials, client: BrokerClient,
                        params: Mapping[str, str]) -> Session:
        return fake.handle_callback(credentials, client, params)

    @hookimpl
    def place_order(self, order: OrderRequest, instrument: Instrument, session: Session,
                    client: BrokerClient) -> OrderReceipt:
        return fake.place_order(order, instrument, session, client)

    @hookimpl
    def fetch_positions(self, session: Session, client: BrokerClient,
                        instruments: InstrumentIndex) -> list[Position]:
        return fake.fetch_positions(session, client, instruments)

    @hookimpl
    def fetch_order_book(self, session: Session, client: BrokerClient,
                         instruments: InstrumentIndex) -> list[Order]:
        return fake.fetch_order_book(session, client, instruments)

    @hookimpl
    def fetch_order(self, order_id: str, session: Session, client: BrokerClient,
                    instruments: InstrumentIndex) -> Order:
        return fake.fetch_order(order_id, session, client, instruments)

    @hookimpl
    def cancel_order(self, order: Order, session: Session, client: BrokerClient) -> OrderReceipt:
        return fake.cancel_order(order, session, client)

    @hookimpl
    def modify_order(self, order: Order, change: OrderRequest, session: Session,
                     client: BrokerClient) -> OrderReceipt:
        return fake.modify_order(order, change, session, client)

    @hookimpl
    def fetch_trade_book(self, session: Session, client: BrokerClient,
                         instruments: InstrumentIndex) -> list[Trade]:
        return fake.fetch_trade_book(session, client, instruments)

    @hookimpl
    def fetch_funds(self, session: Session, client: BrokerClient) -> Funds:
        return fake.fetch_funds(session, client)

    @hookimpl
    def fetch_holdings(self, session: Session, client: BrokerClient,
                       instruments: InstrumentIndex) -> list[Holding]:
        return fake.fetch_holdings(session, client, instruments)

    @hookimpl
    def fetch_instruments(self, client: BrokerClient, progress: Any) -> list[Instrument]:
        return fake.fetch_instruments(client, progress)

    @hookimpl
    def broker_simulator(self, environ: Mapping[str, str]) -> Any:
        return fake.broker_simulator(environ)


class LoginAsRead(FakeHooks):
    """Sends its login as a read: the core retries it on 429 and 5xx."""

    @hookimpl
    def authenticate(self, credentials: Credentials,
                     client: BrokerClient) -> Session | LoginChallenge:
        return fake.login(credentials, client, credentials.totp() or "", kind="read")


class DropsTheTag(FakeHooks):
    """Leaves the tag out of the order body."""

    @hookimpl
    def place_order(self, order: OrderRequest, instrument: Instrument, session: Session,
                    client: BrokerClient) -> OrderReceipt:
        payload = fake.order_payload(order, instrument)
        del payload["tag"]
        return fake.send_order(order, session, client, payload)


class RoundsStrikes(FakeHooks):
    """Reads strikes as whole numbers (VEDL's 292.5 becomes 292)."""

    @hookimpl
    def fetch_instruments(self, client: BrokerClient, progress: Any) -> list[Instrument]:
        return fake.parse_master(client.download(client.url("files", "/instruments.csv")),
                                 strike_places=0)


class ForgetsRealisedPnl(FakeHooks):
    """Computes P&L from the marks alone: a closed position shows none."""

    @hookimpl
    def fetch_positions(self, session: Session, client: BrokerClient,
                        instruments: InstrumentIndex) -> list[Position]:
        response = client.request(
            "GET", client.url("api", "/api/positions"), kind="read",
            headers={"Authorization": f"Bearer {session.access_token.get_secret_value()}"})
        return fake.read_positions(response, instruments, pnl_from_marks=True)


class AsksNoCode(FakeHooks):
    """Without a TOTP secret, logs in anyway with an empty code instead of asking."""

    @hookimpl
    def authenticate(self, credentials: Credentials,
                     client: BrokerClient) -> Session | LoginChallenge:
        return fake.login(credentials, client, credentials.totp() or "")


class SendsAnyCode(FakeHooks):
    """Sends whatever the user typed as the code."""

    @hookimpl
    def handle_callback(self, credentials: Credentials, client: BrokerClient,
                        params: Mapping[str, str]) -> Session:
        return fake.login(credentials, client, params.get("code", ""))


class SendsWithoutPin(FakeHooks):
    """Declares the PIN optional and logs in with an empty one when it is missing."""

    @hookimpl
    def broker_info(self) -> BrokerInfo:
        fields = tuple(dataclasses.replace(spec, required=False) if spec.name == "PIN" else spec
                       for spec in fake.INFO.credentials)
        return dataclasses.replace(fake.INFO, credentials=fields)

    @hookimpl
    def authenticate(self, credentials: Credentials,
                     client: BrokerClient) -> Session | LoginChallenge:
        response = client.request("POST", client.url("api", "/api/login"), kind="login", json={
            "api_key": credentials.get("API_KEY"), "client_id": credentials.get("CLIENT_ID"),
            "pin": credentials.get("PIN") or "", "totp": credentials.totp()})
        data = fake.reply_object(response)
        if data.get("ok") is not True:
            raise AuthenticationError("login refused", broker="fake")
        return new_session("fake", str(credentials.get("CLIENT_ID")), str(data["token"]))


class TrustsReplies(FakeHooks):
    """Reads every reply as if it were always well formed (``KeyError``, ``ValueError``,
    ``TypeError``... escape on garbage)."""

    @hookimpl
    def authenticate(self, credentials: Credentials,
                     client: BrokerClient) -> Session | LoginChallenge:
        response = client.request("POST", client.url("api", "/api/login"), kind="login", json={
            "api_key": credentials.get("API_KEY"), "client_id": credentials.get("CLIENT_ID"),
            "pin": credentials.get("PIN"), "totp": credentials.totp()})
        return new_session("fake", "C", json.loads(response.content)["token"])

    @hookimpl
    def place_order(self, order: OrderRequest, instrument: Instrument, session: Session,
                    client: BrokerClient) -> OrderReceipt:
        response = client.request(
            "POST", client.url("api", "/api/orders"), kind="order", tag=order.tag,
            json=fake.order_payload(order, instrument),
            headers={"Authorization": f"Bearer {session.access_token.get_secret_value()}"})
        data = json.loads(response.content)
        if not data["ok"]:
            raise OrderRejectedError(data["message"], broker="fake")
        return OrderReceipt(broker="fake", order_id=data["order_id"], tag=order.tag)

    @hookimpl
    def fetch_positions(self, session: Session, client: BrokerClient,
                        instruments: InstrumentIndex) -> list[Position]:
        response = client.request(
            "GET", client.url("api", "/api/positions"), kind="read",
            headers={"Authorization": f"Bearer {session.access_token.get_secret_value()}"})
        out = []
        for row in json.loads(response.content)["rows"]:
            inst = instruments.by_token(row["token"], row["exchange"])
            assert inst is not None
            out.append(Position(symbol=inst.symbol, exchange=inst.exchange,
                                product=row["product"], quantity=int(row["net"]),
                                average_price=Decimal(row["avg"]), ltp=Decimal(row["ltp"]),
                                pnl=Decimal(row["pnl"])))
        return out

    @hookimpl
    def fetch_instruments(self, client: BrokerClient, progress: Any) -> list[Instrument]:
        text = client.download(client.url("files", "/instruments.csv")).decode()
        return [Instrument(r["symbol"], r["exchange"], r["symbol"], r["exchange"], r["token"],
                           r["name"], r["kind"], int(r["lot"]), Decimal(r["tick"]))
                for r in csv.DictReader(io.StringIO(text))]


class ResendsOrders(FakeHooks):
    """Sends orders as reads: after a timeout or a dropped connection the core sends
    them again."""

    @hookimpl
    def place_order(self, order: OrderRequest, instrument: Instrument, session: Session,
                    client: BrokerClient) -> OrderReceipt:
        return fake.send_order(order, session, client, fake.order_payload(order, instrument),
                               kind="read")


class InventsOrderIds(FakeHooks):
    """Acknowledges an order whose reply it cannot read, with an id of its own."""

    @hookimpl
    def place_order(self, order: OrderRequest, instrument: Instrument, session: Session,
                    client: BrokerClient) -> OrderReceipt:
        try:
            return fake.place_order(order, instrument, session, client)
        except OrderStatusUnknownError:
            return OrderReceipt(broker="fake", order_id=f"local-{order.tag}", tag=order.tag)


class HidesTheReason(FakeHooks):
    """Reads orders without the broker's reason for a rejection."""

    @hookimpl
    def fetch_order_book(self, session: Session, client: BrokerClient,
                         instruments: InstrumentIndex) -> list[Order]:
        return [o.model_copy(update={"reason": ""})
                for o in fake.fetch_order_book(session, client, instruments)]

    @hookimpl
    def fetch_order(self, order_id: str, session: Session, client: BrokerClient,
                    instruments: InstrumentIndex) -> Order:
        order = fake.fetch_order(order_id, session, client, instruments)
        return order.model_copy(update={"reason": ""})


class ForgetsBookTags(FakeHooks):
    """Reads the order book without the tags it echoes."""

    @hookimpl
    def fetch_order_book(self, session: Session, client: BrokerClient,
                         instruments: InstrumentIndex) -> list[Order]:
        return [o.model_copy(update={"tag": None})
                for o in fake.fetch_order_book(session, client, instruments)]


class NotFoundIsCancelled(FakeHooks):
    """Reads the broker's "no such order" as an order cancelled."""

    @hookimpl
    def fetch_order(self, order_id: str, session: Session, client: BrokerClient,
                    instruments: InstrumentIndex) -> Order:
        try:
            return fake.fetch_order(order_id, session, client, instruments)
        except OrderNotFoundError:
            return Order(broker="fake", order_id=order_id, symbol="SBIN", exchange="NSE",
                         action="BUY", quantity=1, pricetype="MARKET", product="MIS",
                         status=OrderStatus.CANCELLED)


class IgnoresRefusals(FakeHooks):
    """Takes any reply to a cancel as done."""

    @hookimpl
    def cancel_order(self, order: Order, session: Session, client: BrokerClient) -> OrderReceipt:
        client.request("DELETE", client.url("api", fake.order_path(order.order_id)),
                       kind="order", tag=order.tag or order.order_id,
                       headers=fake.auth(session))
        return OrderReceipt(broker="fake", order_id=order.order_id, tag=order.tag)


class ModifiesThePriceOnly(FakeHooks):
    """Sends a modify's price with the order's old quantity, type and trigger."""

    @hookimpl
    def modify_order(self, order: Order, change: OrderRequest, session: Session,
                     client: BrokerClient) -> OrderReceipt:
        payload = {**fake.change_payload(change), "qty": order.quantity,
                   "type": order.pricetype.value, "trigger": str(order.trigger_price)}
        return fake.send_change("PUT", order, session, client, payload)


class TradeValueIsThePrice(FakeHooks):
    """Reads a fill's value as its price."""

    @hookimpl
    def fetch_trade_book(self, session: Session, client: BrokerClient,
                         instruments: InstrumentIndex) -> list[Trade]:
        return [t.model_copy(update={"trade_value": t.average_price})
                for t in fake.fetch_trade_book(session, client, instruments)]


class ForgetsUsedMargin(FakeHooks):
    """Reports the cash as if nothing blocked margin."""

    @hookimpl
    def fetch_funds(self, session: Session, client: BrokerClient) -> Funds:
        funds = fake.fetch_funds(session, client)
        return funds.model_copy(update={"used_margin": Decimal(0), "available_cash":
                                        funds.available_cash + funds.used_margin})


class HoldingsAtCost(FakeHooks):
    """Values holdings at their average price (a stale mark)."""

    @hookimpl
    def fetch_holdings(self, session: Session, client: BrokerClient,
                       instruments: InstrumentIndex) -> list[Holding]:
        return [h.model_copy(update={"ltp": h.average_price, "pnl": Decimal(0)})
                for h in fake.fetch_holdings(session, client, instruments)]


class TrustsDayReplies(FakeHooks):
    """Reads the order book, trade book, funds and holdings as if always well formed."""

    @staticmethod
    def _get(session: Session, client: BrokerClient, path: str) -> Any:
        response = client.request("GET", client.url("api", path), kind="read",
                                  headers=fake.auth(session))
        return json.loads(response.content)

    @hookimpl
    def fetch_order_book(self, session: Session, client: BrokerClient,
                         instruments: InstrumentIndex) -> list[Order]:
        return [Order(broker="fake", order_id=r["order_id"], symbol="SBIN", exchange="NSE",
                      action=r["side"], quantity=int(r["qty"]), pricetype=r["type"],
                      product=r["product"], status=fake.STATUSES[r["status"]], tag=r["tag"])
                for r in self._get(session, client, "/api/orders")["rows"]]

    @hookimpl
    def fetch_trade_book(self, session: Session, client: BrokerClient,
                         instruments: InstrumentIndex) -> list[Trade]:
        return [Trade(broker="fake", order_id=r["order_id"], trade_id=r["trade_id"],
                      symbol="SBIN", exchange="NSE", action=r["side"], product=r["product"],
                      quantity=int(r["qty"]), average_price=Decimal(r["price"]),
                      trade_value=Decimal(r["price"]) * int(r["qty"]))
                for r in self._get(session, client, "/api/trades")["rows"]]

    @hookimpl
    def fetch_funds(self, session: Session, client: BrokerClient) -> Funds:
        data = self._get(session, client, "/api/funds")["funds"]
        return Funds(broker="fake", available_cash=Decimal(data["available"]),
                     used_margin=Decimal(data["used"]))

    @hookimpl
    def fetch_holdings(self, session: Session, client: BrokerClient,
                       instruments: InstrumentIndex) -> list[Holding]:
        return [Holding(symbol="INFY", exchange="NSE", quantity=int(r["qty"]),
                        average_price=Decimal(r["avg"]), ltp=Decimal(r["ltp"]), pnl=Decimal(0))
                for r in self._get(session, client, "/api/holdings")["rows"]]


#: every variant, with what it breaks: the conformance checks that must fail on it
VARIANTS: dict[type[FakeHooks], tuple[str, ...]] = {
    LoginAsRead: ("test_login_is_sent_once_when_refused",),
    DropsTheTag: ("test_order_tag_reaches_the_broker", "test_fault_campaign"),
    RoundsStrikes: ("test_every_listing_round_trips",),
    ForgetsRealisedPnl: ("test_closed_position_keeps_its_realised_pnl",),
    AsksNoCode: ("test_without_totp_secret_the_login_is_a_code_challenge",),
    SendsAnyCode: ("test_malformed_code_sends_nothing",),
    SendsWithoutPin: ("test_missing_credential_sends_nothing",),
    TrustsReplies: ("test_garbage_in_login_replies_is_typed",
                    "test_garbage_in_order_replies_is_typed",
                    "test_garbage_in_position_replies_is_typed",
                    "test_garbage_in_master_replies_is_typed"),
    ResendsOrders: ("test_fault_campaign",),
    InventsOrderIds: ("test_fault_campaign",),
    HidesTheReason: ("test_an_order_rejected_after_acceptance_shows_its_reason",),
    ForgetsBookTags: ("test_order_book_shows_every_order_of_the_day",),
    NotFoundIsCancelled: ("test_an_unknown_order_is_not_found",),
    IgnoresRefusals: ("test_cancel_of_a_filled_order_is_refused",),
    ModifiesThePriceOnly: ("test_modify_a_resting_order",),
    TradeValueIsThePrice: ("test_trade_book_has_every_fill",),
    ForgetsUsedMargin: ("test_funds_reflect_the_margin_a_resting_order_uses",),
    HoldingsAtCost: ("test_holdings_are_the_brokers",),
    TrustsDayReplies: ("test_garbage_in_order_book_replies_is_typed",
                       "test_garbage_in_trade_book_replies_is_typed",
                       "test_garbage_in_funds_replies_is_typed",
                       "test_garbage_in_holdings_replies_is_typed"),
}
