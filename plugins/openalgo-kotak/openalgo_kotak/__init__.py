"""Kotak Securities Neo Trade API broker plugin for openalgo (entry point ``kotak``).

Kotak's facts on the core's broker kit: :mod:`.broker` (replies, headers, the TOTP +
MPIN login, orders, the day's books), :mod:`.positions` (Kotak's own formulas for a
position's quantity, average and P&L), :mod:`.instruments` (the per-segment scrip-master
CSVs), :mod:`.mapping` (every OpenAlgo <-> Kotak table), :mod:`.plugin` (the hookimpls,
one line) and :mod:`.simulator` (the Neo Trade API on a local server).
"""

from __future__ import annotations

from openalgo_core import CORE_API, BrokerInfo, CredentialField, Exchange, RateLimit

__version__ = "0.1.0"

__all__ = ["INFO", "__version__"]

INFO = BrokerInfo(
    id="kotak",
    display_name="Kotak Securities (Neo Trade API)",
    # ⚠ Currency (CDS, BCD) is left out of orders: the official SDK refuses cde_fo and
    # bcs-fo as "not a supported segment" (the cde_fo master is read, for the books).
    exchanges=frozenset({Exchange.NSE, Exchange.BSE, Exchange.NFO, Exchange.BFO, Exchange.MCX,
                         Exchange.NSE_INDEX, Exchange.BSE_INDEX}),
    credentials=(
        CredentialField(name="UCC", secret=False, seed="BROKER_API_KEY",
                        description="your UCC, the 5-character client code in the Neo app's"
                                    " profile (BROKER_API_KEY in OpenAlgo's .env; it held the"
                                    " Consumer Key until October 2025)"),
        CredentialField(name="ACCESS_TOKEN", secret=True, seed="BROKER_API_SECRET",
                        description="the access token from the Neo app: Invest > Trade API >"
                                    " API Dashboard (BROKER_API_SECRET; it held the Consumer"
                                    " Secret until October 2025)"),
        CredentialField(name="MOBILE", secret=False, at_login=True,
                        description="the mobile number registered with Kotak (10 digits,"
                                    " +91 optional); asked for at login when not set"),
        CredentialField(name="MPIN", secret=True, at_login=True,
                        description="the account's 6-digit MPIN; asked for at login when"
                                    " not set"),
        CredentialField(name="TOTP_SECRET", secret=True, required=False,
                        description="base32 secret of the TOTP registered in the API"
                                    " Dashboard, for unattended login; without it the login"
                                    " asks for the 6-digit code"),
        CredentialField(name="SLM_AS_SL", secret=False, required=False,
                        description="how SL-M orders are sent: unset or anything but no/false"
                                    "/0/off sends them as SL with a protective limit (Kotak"
                                    " refuses SL-M from API sessions); no sends SL-M as it is"),
        CredentialField(name="MCX_QUANTITY", secret=False, required=False,
                        description="units: MCX orders carry the quantity in units, as on"
                                    " every other segment. Unset, MCX orders are refused"
                                    " before sending: whether Kotak reads an MCX quantity as"
                                    " units or lots is unconfirmed (lots would multiply the"
                                    " order by its lot size)"),
    ),
    login_style="totp",
    # ⚠ Kotak publishes no limits: the official SDK's own limiter allows 10 a second, 300 a
    # minute and 5,000 an hour, and SEBI treats more than 10 orders a second as an algo.
    rate_limits={"orders": RateLimit(per_second=10, per_minute=300, per_hour=5000),
                 "reads": RateLimit(per_second=10, per_minute=300, per_hour=5000),
                 "login": RateLimit(per_second=1)},
    # the login host is fixed; every later call goes to the base URL the MPIN validation
    # names (``trade`` here is only the SDK's fallback, used before that is known)
    base_urls={"login": "https://mis.kotaksecurities.com",
               "trade": "https://mis.kotaksecurities.com"},
    rate_limit_markers=("too many requests",),
    core_api=CORE_API,
)
