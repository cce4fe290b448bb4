"""A real headless Chromium (Debian's ``chromium`` at /usr/bin/chromium, driven by
Playwright with that executable: no browser download) uses the dashboard as a person
would: sees it is not logged in, logs in to the broker through the login page and the
code form (the gateway has no TOTP secret, so the code is typed), returns to the
dashboard, and after an order placed through ``/api/v1`` sees it in the positions table.

Skipped, with the reason, when Chromium or the ``playwright`` package is missing
(``apt-get install chromium``; ``.ci/run`` installs it, the ``e2e`` nox session
installs ``playwright``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pyotp
import pytest

from tests.e2e.conftest import Stack

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000  # per page action; nothing here should take more than a moment

if not CHROMIUM.is_file():
    pytest.skip(f"{CHROMIUM} not found: apt-get install chromium (CI's .ci/run installs it)",
                allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed: pip install "
                                  "playwright (the e2e nox session does)")


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    """A fresh headless Chromium profile in ``tmp_path``; closed after the test."""
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=FLAGS)
        try:
            context.set_default_timeout(TIMEOUT_MS)
            yield context.new_page()
        finally:
            context.close()


def test_login_through_the_pages_then_see_positions(page: Page,
                                                    stack_without_totp: Stack) -> None:
    stack = stack_without_totp
    expect = sync_api.expect
    card = page.locator("#broker-fake")

    page.goto(f"{stack.url}/")
    expect(card.locator(".login-status")).to_have_text("Not logged in")
    login_button = card.get_by_role("button", name="Log in to fake")
    expect(login_button).to_be_visible()

    login_button.click()
    page.wait_for_url(f"{stack.url}/fake/login")
    expect(page.get_by_role("heading", name="Log in to fake")).to_be_visible()
    page.locator("form input[name=code]").fill(pyotp.TOTP(stack.totp_secret).now())
    page.get_by_role("button", name="Log in").click()

    page.wait_for_url(f"{stack.url}/fake/callback")
    expect(page.locator(".message")).to_contain_text(f"Logged in to fake as {stack.client_id}")
    page.get_by_role("link", name="Back to the dashboard").click()
    page.wait_for_url(f"{stack.url}/")
    expect(card.locator(".login-status")).to_contain_text(f"Logged in as {stack.client_id}")
    expect(card).to_contain_text("No positions today.")

    reply = httpx.post(f"{stack.url}/api/v1/placeorder", timeout=30, json={
        "apikey": stack.api_key, "strategy": "e2e", "symbol": "SBIN", "exchange": "NSE",
        "action": "BUY", "quantity": 3, "pricetype": "MARKET", "product": "MIS"})
    assert reply.status_code == 200 and reply.json()["status"] == "success", reply.text
    booked = stack.sim.book.orders[reply.json()["orderid"]]
    page.reload()

    rows = card.locator("table.positions tbody tr")
    expect(rows).to_have_count(1)
    cells = [c.strip() for c in rows.first.locator("td").all_inner_texts()]
    assert cells[:5] == ["SBIN", "NSE", "MIS", "3", f"{booked.average_price:.2f}"]
