"""ICICI Direct (Breeze API) broker plugin for openalgo (entry point ``icici``).

ICICI's facts on the core's broker kit: :mod:`.broker` (replies, the browser-redirect
login, signed calls, orders and protected market orders, the day's books),
:mod:`.instruments` (the ``SecurityMaster.zip`` parser), :mod:`.mapping` (every OpenAlgo
<-> Breeze table), :mod:`.plugin` (the hookimpls, one line) and :mod:`.simulator` (Breeze
on a local server, its master in :mod:`.sim_master`).
"""

from __future__ import annotations

from openalgo_core import CORE_API, BrokerInfo, CredentialField, Exchange, RateLimit

__version__ = "0.1.0"

__all__ = ["INFO", "__version__"]

INFO = BrokerInfo(
    id="icici",
    display_name="ICICI Direct (Breeze)",
    exchanges=frozenset({Exchange.NSE, Exchange.BSE, Exchange.NFO, Exchange.NSE_INDEX,
                         Exchange.BSE_INDEX}),
    credentials=(
        CredentialField(name="API_KEY", secret=True,
                        description="the App Key of the app registered at"
                                    " api.icicidirect.com (BROKER_API_KEY in OpenAlgo's .env)"),
        CredentialField(name="API_SECRET", secret=True,
                        description="the app's Secret Key (BROKER_API_SECRET): it signs every"
                                    " call"),
        CredentialField(name="REDIRECT_URL", secret=False, required=False,
                        description="the redirect URL registered on the app"
                                    " (http://127.0.0.1:5000/icici/callback)"),
        CredentialField(name="MARKET_ORDERS", secret=False, required=False,
                        choices=("protected", "market"),
                        description="how a MARKET order is sent: 'protected' (default: a"
                                    " limit at the last price +/- 3% cash, 1.5% futures, 10%"
                                    " options, within the circuit, as ICICI requires since"
                                    " 2026) or 'market' (sent as order_type market)"),
    ),
    login_style="redirect",
    # brokers/kotak-icici B.7: 100 calls a minute and 5,000 a day for the whole account,
    # at most 10 orders (place, modify, cancel) a second. The pacer keeps one bucket per
    # category, so the account-wide budget is split between them (⚠ see the README).
    rate_limits={
        "orders": RateLimit(per_second=10, per_minute=40, per_day=2_000),
        "reads": RateLimit(per_second=10, per_minute=55, per_day=2_900),
        "login": RateLimit(per_second=1, per_minute=5, per_day=100),
    },
    base_urls={"api": "https://api.icicidirect.com/breezeapi/api/v1",
               "login": "https://api.icicidirect.com/apiuser",
               "master": "https://directlink.icicidirect.com"},
    rate_limit_markers=("limit exceed",),
    # ⚠ "expires in 24 hours after generation or at midnight" (ICICI iLearn): at midnight
    session_expiry_hour_ist=0,
    core_api=CORE_API,
)
