"""The account page (``/account/<broker>``) over HTTP, one test per state it can be in,
and its forms: cancel, modify and logout only with the page's CSRF token."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from openalgo_core import Gateway, MemorySessionStore, Registry
from openalgo_core.codes import OrderStatus
from openalgo_core.server import ApiKeys, create_app
from openalgo_core.testing import InProcessTransport
from tests.conftest import KEY, ORDER, post
from tests.fakebroker.simulator import FakeSimulator

LIMIT = {**ORDER, "pricetype": "LIMIT", "price": "500"}


def csrf(web: httpx.Client) -> str:
    """The form token the account page gives this client."""
    found = re.search(r'name="csrf" value="([^"]+)"', web.get("/account/fake").text)
    assert found
    return found.group(1)


def open_order(web: httpx.Client) -> str:
    status, body = post(web, "placeorder", LIMIT)
    assert status == 200, body
    return str(body["orderid"])


def test_not_logged_in_says_so_and_offers_the_login(web: httpx.Client) -> None:
    response = web.get("/account/fake")
    assert response.status_code == 200
    assert '<p class="session-status muted">Not logged in</p>' in response.text
    assert 'action="/fake/login"' in response.text and 'id="funds"' not in response.text
    assert "setInterval" not in response.text  # nothing to refresh


def test_logged_in_shows_the_whole_account(web: httpx.Client, logged_in: Gateway) -> None:
    _, market = post(web, "placeorder", ORDER)
    limit = open_order(web)
    page = web.get("/account/fake").text
    session = logged_in.sessions.get("fake")
    assert session is not None
    until = session.expires_at.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30)))
    assert f"Logged in as C42 until {until:%Y-%m-%d %H:%M} IST" in page
    for section in ("funds", "positions", "orders", "trades", "holdings", "journal"):
        assert f'id="{section}"' in page, section
    assert f'id="order-{limit}"' in page and f'id="order-{market["orderid"]}"' in page
    assert page.count('action="/account/fake/cancel"') == 1  # the open order only
    assert "Available cash" in page and 'action="/account/fake/logout"' in page
    assert "setInterval" in page and "location.reload()" in page
    assert session.access_token.get_secret_value() not in page


def test_pnl_totals_are_coloured_by_sign(web: httpx.Client, logged_in: Gateway,
                                         fake_sim: FakeSimulator) -> None:
    post(web, "placeorder", ORDER)
    positions = logged_in.fetch_positions("fake")
    total = sum((p.pnl for p in positions), Decimal(0))
    page = web.get("/account/fake").text
    shown = re.search(r'<h2>Positions <span class="total"><span class="(\w+)">([^<]+)</span>',
                      page)
    assert shown, page
    kind = "gain" if total > 0 else "loss" if total < 0 else "flat"
    assert shown.group(1) == kind
    assert Decimal(shown.group(2).replace(",", "")) == total.quantize(Decimal("0.01"))


def test_expired_session_says_when(web: httpx.Client, logged_in: Gateway) -> None:
    session = logged_in.sessions.get("fake")
    assert session is not None
    past = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
    logged_in.sessions.put(session.model_copy(update={"created_at": past - dt.timedelta(hours=1),
                                                      "expires_at": past}))
    page = web.get("/account/fake").text
    assert "Session expired at 2024-03-01 14:30 IST" in page
    assert 'action="/fake/login"' in page and 'id="funds"' not in page


def test_unreachable_broker_is_words_not_a_traceback(web: httpx.Client, logged_in: Gateway,
                                                    fake_sim: FakeSimulator) -> None:
    fake_sim.faults.error_rate = 1.0
    response = web.get("/account/fake")
    assert response.status_code == 200
    status = re.search(r'<p class="session-status bad">([^<]+)</p>', response.text)
    assert status and status.group(1).startswith("Broker unreachable: "), response.text
    assert "Traceback" not in response.text and 'id="funds"' not in response.text


def test_a_session_the_broker_ended_says_so(web: httpx.Client, logged_in: Gateway,
                                            fake_env: dict[str, str],
                                            fake_sim: FakeSimulator) -> None:
    fake_env.pop("OPENALGO_FAKE_TOTP_SECRET")  # so the gateway cannot log in again alone
    fake_sim.expire_sessions()
    page = web.get("/account/fake").text
    status = re.search(r'<p class="session-status bad">([^<]+)</p>', page)
    assert status and status.group(1).startswith("Session ended by the broker: "), page
    assert 'action="/fake/login"' in page and 'id="funds"' not in page


def test_a_failing_plugin_is_words_not_a_traceback(web: httpx.Client, logged_in: Gateway,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(broker: str) -> None:
        raise KeyError("data")

    monkeypatch.setattr(logged_in, "fetch_holdings", broken)
    response = web.get("/account/fake")
    assert response.status_code == 200 and "Traceback" not in response.text
    assert ("Could not read the holdings: the broker plugin failed unexpectedly; see the"
            " server log") in response.text
    assert 'id="funds"' in response.text


def test_unresolved_journal_orders_are_listed(web: httpx.Client, logged_in: Gateway,
                                              fake_sim: FakeSimulator) -> None:
    fake_sim.faults.error_rate = 1.0
    fake_sim.faults.scope = "orders"
    status, body = post(web, "placeorder", ORDER)
    assert status != 200, body
    fake_sim.faults.error_rate = 0.0
    (entry,) = logged_in.journal_entries("fake", unresolved=True)
    page = web.get("/account/fake").text
    assert f"<code>{entry.tag}</code>" in page and entry.state.value in page


def test_cancel_needs_the_form_token(web: httpx.Client, logged_in: Gateway) -> None:
    order = open_order(web)
    token = csrf(web)
    for data in ({"orderid": order}, {"orderid": order, "csrf": "x" * 43}):
        refused = web.post("/account/fake/cancel", data=data)
        assert refused.status_code == 403 and "Refused" in refused.text
    assert logged_in.fetch_order("fake", order).status is OrderStatus.OPEN
    done = web.post("/account/fake/cancel", data={"orderid": order, "csrf": token})
    assert done.status_code == 303
    assert done.headers["location"] == "/account/fake"
    assert logged_in.fetch_order("fake", order).status is OrderStatus.CANCELLED
    assert f"Order {order} cancelled." in web.get(done.headers["location"]).text
    assert "cancelled." not in web.get("/account/fake").text  # said once


def test_a_link_cannot_make_the_page_claim_a_cancel(web: httpx.Client,
                                                    logged_in: Gateway) -> None:
    order = open_order(web)
    page = web.get(f"/account/fake?done=cancelled&order={order}").text
    assert "cancelled." not in page and 'class="note' not in page


def test_pages_cannot_be_framed(web: httpx.Client) -> None:
    for path in ("/", "/account/fake", "/fake/login"):
        headers = web.get(path).headers
        assert headers["x-frame-options"] == "DENY", path
        assert headers["content-security-policy"] == "frame-ancestors 'none'", path


def test_cancel_refused_by_the_gateway_shows_why(web: httpx.Client, logged_in: Gateway) -> None:
    _, body = post(web, "placeorder", ORDER)  # a market order: complete at once
    refused = web.post("/account/fake/cancel", data={"orderid": body["orderid"],
                                                     "csrf": csrf(web)})
    assert refused.status_code == 400
    shown = re.search(r"<p class=\"failure bad\">([^<]+)</p>", refused.text)
    assert shown and f"order {body['orderid']} is complete: only an open" in shown.group(1)


def test_modify_needs_the_form_token(web: httpx.Client, logged_in: Gateway) -> None:
    order = open_order(web)
    change = {"orderid": order, "quantity": "4", "price": "501", "trigger_price": "0",
              "pricetype": "LIMIT"}
    refused = web.post("/account/fake/modify", data=change)
    assert refused.status_code == 403
    assert logged_in.fetch_order("fake", order).quantity == 2
    done = web.post("/account/fake/modify", data={**change, "csrf": csrf(web)})
    assert done.status_code == 303, done.text
    now = logged_in.fetch_order("fake", order)
    assert (now.quantity, now.price) == (4, Decimal(501))


def test_modify_with_a_bad_value_changes_nothing(web: httpx.Client, logged_in: Gateway) -> None:
    order = open_order(web)
    refused = web.post("/account/fake/modify", data={"orderid": order, "quantity": "-3",
                                                     "csrf": csrf(web)})
    assert refused.status_code == 400 and 'class="failure bad"' in refused.text
    assert logged_in.fetch_order("fake", order).quantity == 2


def test_logout_needs_the_form_token(web: httpx.Client, logged_in: Gateway) -> None:
    assert web.post("/account/fake/logout", data={}).status_code == 403
    assert logged_in.sessions.get("fake") is not None
    done = web.post("/account/fake/logout", data={"csrf": csrf(web)})
    assert done.status_code == 303 and logged_in.sessions.get("fake") is None
    assert "Not logged in" in web.get(done.headers["location"]).text


def test_forms_from_another_site_are_refused(web: httpx.Client, logged_in: Gateway) -> None:
    token = csrf(web)
    refused = web.post("/account/fake/logout", data={"csrf": token},
                       headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403 and logged_in.sessions.get("fake") is not None


def test_unknown_broker_is_a_page_not_a_traceback(web: httpx.Client) -> None:
    response = web.get("/account/nosuch")
    assert response.status_code == 404 and "No such account" in response.text


def test_the_dashboard_links_each_account(web: httpx.Client) -> None:
    assert 'href="/account/fake"' in web.get("/").text


def test_the_password_guards_the_account_page(gateway: Gateway,
                                              fake_env: dict[str, str]) -> None:
    env = {**fake_env, "OPENALGO_API_KEY": KEY, "OPENALGO_DASHBOARD_PASSWORD": "s3cret"}
    app = create_app(gateway, environ=env, api_keys=ApiKeys(env, Path("/nonexistent")))
    with httpx.Client(transport=InProcessTransport(app), base_url="http://127.0.0.1") as web:
        assert web.get("/account/fake").status_code == 401
        assert web.post("/account/fake/logout").status_code == 401
        assert web.get("/account/fake", auth=("any", "s3cret")).status_code == 200


def test_a_plugin_that_cannot_load_is_words(fake_env: dict[str, str], tmp_path: Path) -> None:
    from importlib.metadata import EntryPoint

    broken = EntryPoint(name="broken", value="tests.plugins_for_tests.broken_import",
                        group="openalgo.brokers")
    registry = Registry(environ=fake_env, entry_points=[broken])
    gateway = Gateway(registry=registry, environ=fake_env, session_store=MemorySessionStore(),
                      cache_dir=tmp_path)
    env = {**fake_env, "OPENALGO_API_KEY": KEY}
    app = create_app(gateway, environ=env, api_keys=ApiKeys(env, tmp_path))
    with httpx.Client(transport=InProcessTransport(app), base_url="http://127.0.0.1") as web:
        response = web.get("/account/broken")
    status = re.search(r'<p class="session-status bad">([^<]+)</p>', response.text)
    assert response.status_code == 200 and status, response.text
    assert status.group(1).startswith("broken: ") and "Traceback" not in response.text
    assert 'action="/broken/login"' not in response.text
