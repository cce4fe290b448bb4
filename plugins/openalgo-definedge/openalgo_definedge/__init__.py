"""Definedge Securities (Integrate API) broker plugin for openalgo (entry point ``definedge``).

Definedge's facts on the core's broker kit: :mod:`.broker` (replies, headers, the
two-step OTP login, orders, the day's books), :mod:`.instruments` (the ``allmaster.csv``
parser), :mod:`.mapping` (every OpenAlgo <-> Definedge table), :mod:`.plugin` (the
hookimpls, one line) and :mod:`.simulator` (Integrate on a local server).
"""

from __future__ import annotations

from openalgo_core import CORE_API, BrokerInfo, CredentialField, Exchange, RateLimit

__version__ = "0.1.1"

__all__ = ["INFO", "__version__"]

INFO = BrokerInfo(
    id="definedge",
    display_name="Definedge Securities (Integrate)",
    exchanges=frozenset({Exchange.NSE, Exchange.BSE, Exchange.NFO, Exchange.BFO, Exchange.CDS,
                         Exchange.MCX, Exchange.NSE_INDEX, Exchange.BSE_INDEX}),
    credentials=(
        CredentialField(name="API_KEY", secret=True,
                        description="the API token from myaccount.definedgesecurities.com"
                                    " (BROKER_API_KEY in OpenAlgo's .env)"),
        CredentialField(name="API_SECRET", secret=True,
                        description="the API secret shown beside it (BROKER_API_SECRET)"),
        CredentialField(name="TOTP_SECRET", secret=True, required=False,
                        description="base32 secret of the account's external TOTP, for"
                                    " unattended login; without it the login asks for the"
                                    " OTP Definedge sends"),
        CredentialField(name="ALGO_ID", secret=False, required=False,
                        description="the algo id SEBI registered for your strategy; without"
                                    " it orders carry the exchange's generic id"),
    ),
    login_style="otp",
    # ⚠ Definedge publishes no limits: OpenAlgo paces ~10 requests a second per host.
    rate_limits={"orders": RateLimit(per_second=10), "reads": RateLimit(per_second=10),
                 "login": RateLimit(per_second=1)},
    base_urls={"auth": "https://signin.definedgesecurities.com",
               "api": "https://integrate.definedgesecurities.com",
               "master": "https://app.definedgesecurities.com"},
    core_api=CORE_API,
)
