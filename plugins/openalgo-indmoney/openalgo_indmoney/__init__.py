"""IndMoney (INDstocks API) broker plugin for openalgo (entry point ``indmoney``).

IndMoney's facts on the core's broker kit: :mod:`.broker` (replies, the two logins,
orders and smart stop orders, the day's books valued at fetched last prices),
:mod:`.instruments` (the three instrument CSVs), :mod:`.mapping` (every OpenAlgo <->
INDstocks table), :mod:`.plugin` (the hookimpls, one line) and :mod:`.simulator`
(INDstocks on a local server, its files in :mod:`.sim_master`).
"""

from __future__ import annotations

from openalgo_core import CORE_API, BrokerInfo, CredentialField, Exchange, RateLimit

__version__ = "0.1.0"

__all__ = ["INFO", "__version__"]

INFO = BrokerInfo(
    id="indmoney",
    display_name="IndMoney (INDstocks)",
    exchanges=frozenset({Exchange.NSE, Exchange.BSE, Exchange.NFO, Exchange.BFO,
                         Exchange.NSE_INDEX, Exchange.BSE_INDEX}),
    credentials=(
        CredentialField(name="API_SECRET", secret=True, required=False,
                        description="the access token generated on the INDstocks dashboard"
                                    " (indstocks.com/app/api-trading/access-tokens), pasted"
                                    " as BROKER_API_SECRET; it lasts about a day"),
        CredentialField(name="API_KEY", secret=False, at_login=True,
                        description="the Client ID shown after the one-time TOTP setup (sent"
                                    " as x-api-key; BROKER_API_KEY); for token generation,"
                                    " asked for at login when not set"),
        CredentialField(name="PIN", secret=True, at_login=True,
                        description="the account's MPIN, for token generation; asked for at"
                                    " login when not set"),
        CredentialField(name="TOTP_SECRET", secret=True, required=False,
                        description="base32 secret shown once at the TOTP setup: with the"
                                    " Client ID and MPIN, tokens are generated unattended"),
    ),
    login_style="totp",
    # brokers/indmoney 3.7 (the conventions page): every window published, per category
    rate_limits={
        "orders": RateLimit(per_second=10),
        # non-trading: profile, funds, books, positions, holdings, one order
        "reads": RateLimit(per_second=15, per_day=100_000),
        "reads.quotes": RateLimit(per_second=5, per_day=100_000),
        # instruments, historical data, option chain
        "reads.data": RateLimit(per_second=5, per_day=100_000),
        # POST /generate/token: one a minute (never retried: kind "login")
        "login": RateLimit(per_minute=1),
    },
    base_urls={"api": "https://api.indstocks.com"},
    rate_limit_markers=("rate limit exceeded",),
    # ⚠ a token lives 24 h from generation (docs), or until 07:00 IST the next day (a
    # third party): sessions end at the earlier, 07:00 IST
    session_expiry_hour_ist=7,
    core_api=CORE_API,
)
