"""The account page in a real headless Chromium, 390 px wide (a phone), as a trader uses
it: logs in through the login form (typing the code), sees an order appear in the order
book, cancels it with the page's button, then sees a fill reach positions, trades and
funds. Each state is screenshotted (full page) into ``OPENALGO_SCREENSHOTS`` when set,
else ``<pytest tmp dir>/screenshots``; the directory is printed (``pytest -s``) and the
files are named by step (``01-not-logged-in.png`` ...).

The same day runs for every installed broker plugin over its own simulator (logging in
unattended there), screenshotted as ``<broker>-...png``.

Skipped, like ``test_browser.py``, when Chromium or playwright is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pyotp
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_browser import CHROMIUM, FLAGS, TIMEOUT_MS

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not"
                               " installed: pip install playwright (the e2e nox session does)")
WIDTH = 390  # an iPhone 12-15's CSS width


@pytest.fixture
def phone(tmp_path: Path) -> Iterator[Page]:
    """Headless Chromium with a 390 x 844 viewport, a fresh profile in ``tmp_path``."""
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=FLAGS, viewport={"width": WIDTH, "height": 844})
        try:
            context.set_default_timeout(TIMEOUT_MS)
            yield context.new_page()
        finally:
            context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the screenshots go (created; printed so a person can find them)."""
    folder = Path(os.environ.get("OPENALGO_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"dashboard screenshots: {folder}")
    return folder


def snap(page: Page, folder: Path, name: str) -> None:
    """A full-page screenshot, after checking the page fits the phone's width (nothing
    to scroll sideways but inside the tables' own scroll boxes)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{name}: the page is {width} px wide at a {WIDTH} px viewport"
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def within_reach(element: Locator) -> None:
    """``element`` is on screen as the page opens: inside the phone's width."""
    box = element.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def order(stack: Stack, **fields: object) -> str:
    reply = httpx.post(f"{stack.url}/api/v1/placeorder", timeout=30, json={
        "apikey": stack.api_key, "broker": stack.broker, "strategy": "e2e", "symbol": "SBIN",
        "exchange": "NSE",
        "action": "BUY", "quantity": 3, "product": "MIS", **fields})
    assert reply.status_code == 200 and reply.json()["status"] == "success", reply.text
    return str(reply.json()["orderid"])


def test_a_trading_day_on_the_account_page(phone: Page, shots: Path,
                                           stack_without_totp: Stack) -> None:
    stack, page, expect = stack_without_totp, phone, sync_api.expect
    status = page.locator("#session .session-status")
    used = page.locator("#funds dt:text-is('Used margin') + dd")

    page.goto(f"{stack.url}/account/fake")
    expect(status).to_have_text("Not logged in")
    snap(page, shots, "01-not-logged-in")

    page.get_by_role("button", name="Log in to fake").click()
    page.wait_for_url(f"{stack.url}/fake/login")
    expect(page.get_by_label("Code")).to_be_visible()
    snap(page, shots, "02-login-form")
    page.get_by_label("Code").fill(pyotp.TOTP(stack.totp_secret).now())
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_role("link", name="Open the fake account page").click()
    page.wait_for_url(f"{stack.url}/account/fake")
    expect(status).to_contain_text(f"Logged in as {stack.client_id} until ")
    expect(page.locator("#orders")).to_contain_text("No orders today.")
    expect(used).to_have_text(money(stack.sim.funds().used))
    snap(page, shots, "03-logged-in")

    limit = order(stack, pricetype="LIMIT", price="500")
    page.reload()
    row = page.locator(f"#order-{limit}")
    expect(row.locator(".status")).to_have_text("open")
    expect(used).to_have_text(money(stack.sim.funds().used))
    within_reach(row.get_by_role("button", name="Cancel"))
    snap(page, shots, "04-order-in-the-book")

    row.locator("summary", has_text="Modify").click()
    row.get_by_label("Price", exact=True).fill("505")
    snap(page, shots, "05-modify-form")
    row.get_by_role("button", name="Send the change").click()
    expect(page.locator(".note")).to_have_text(f"Order {limit} modified.")
    expect(row.locator("td").nth(6)).to_have_text("505.00")

    row.get_by_role("button", name="Cancel").click()
    expect(page.locator(".note")).to_have_text(f"Order {limit} cancelled.")
    expect(row.locator(".status")).to_have_text("cancelled")
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    snap(page, shots, "06-order-cancelled")

    filled = order(stack, pricetype="MARKET")
    page.reload()
    expect(page.locator(f"#order-{filled} .status")).to_have_text("complete")
    cells = page.locator("#positions tbody tr").first.locator("td")
    expect(cells.nth(0)).to_have_text("SBIN")
    expect(cells.nth(1)).to_have_text("3")
    (position,) = stack.gateway.fetch_positions("fake")
    expect(cells.nth(2)).to_have_text(f"{position.pnl:+,.2f}" if position.pnl else "0.00")
    within_reach(cells.nth(2))  # the P&L, without scrolling sideways
    expect(page.locator("#trades tbody tr")).to_have_count(1)
    funds = stack.sim.funds()
    expect(used).to_have_text(money(funds.used))
    assert funds.used > 0
    snap(page, shots, "07-filled-positions-and-funds")

    page.get_by_role("button", name="Log out").click()
    expect(status).to_have_text("Not logged in")
    expect(page.locator(".note")).to_have_text("Logged out.")
    snap(page, shots, "08-logged-out")
    assert sorted(p.name for p in shots.glob("*.png")) == [
        "01-not-logged-in.png", "02-login-form.png", "03-logged-in.png",
        "04-order-in-the-book.png", "05-modify-form.png", "06-order-cancelled.png",
        "07-filled-positions-and-funds.png", "08-logged-out.png"]


def test_every_broker_on_the_account_page(phone: Page, shots: Path,
                                          broker_stack: Stack) -> None:
    stack, page, expect = broker_stack, phone, sync_api.expect
    broker = stack.broker
    status = page.locator("#session .session-status")
    page.goto(f"{stack.url}/account/{broker}")
    expect(status).to_have_text("Not logged in")
    page.get_by_role("button", name=f"Log in to {broker}").click()
    page.goto(f"{stack.url}/account/{broker}")
    expect(status).to_contain_text("Logged in as ")

    limit = order(stack, pricetype="LIMIT", price="500")
    page.reload()
    row = page.locator(f"#order-{limit}")
    expect(row.locator(".status")).to_have_text("open")
    snap(page, shots, f"{broker}-order-in-the-book")
    row.get_by_role("button", name="Cancel").click()
    expect(page.locator(".note")).to_have_text(f"Order {limit} cancelled.")
    expect(row.locator(".status")).to_have_text("cancelled")

    order(stack, pricetype="MARKET")
    page.reload()
    expect(page.locator("#positions tbody tr").first.locator("td").nth(0)).to_have_text("SBIN")
    expect(page.locator("#funds")).to_be_visible()
    snap(page, shots, f"{broker}-filled")
