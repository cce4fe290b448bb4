"""Angel One SmartAPI broker plugin for openalgo (entry point ``angel``).

Angel's facts on the core's broker kit: :mod:`.broker` (replies, headers, login,
orders, positions), :mod:`.instruments` (the scrip-master parser), :mod:`.mapping`
(every OpenAlgo <-> Angel table), :mod:`.plugin` (the hookimpls, one line) and
:mod:`.simulator` (SmartAPI on a local server).
"""

from __future__ import annotations

from openalgo_core import CORE_API, BrokerInfo, CredentialField, Exchange, RateLimit

__version__ = "0.4.2"

__all__ = ["INFO", "__version__"]

INFO = BrokerInfo(
    id="angel",
    display_name="Angel One (SmartAPI)",
    exchanges=frozenset({Exchange.NSE, Exchange.BSE, Exchange.NFO, Exchange.BFO, Exchange.CDS,
                         Exchange.MCX, Exchange.NSE_INDEX, Exchange.BSE_INDEX}),
    credentials=(
        CredentialField(name="API_KEY", secret=True,
                        description="SmartAPI app key (sent as X-PrivateKey)"),
        CredentialField(name="CLIENT_ID", secret=False, at_login=True,
                        description="Angel One client code, e.g. A52163134; asked for at"
                                    " login when not set"),
        CredentialField(name="PIN", secret=True, at_login=True,
                        description="the account's MPIN; asked for at login when not set"),
        CredentialField(name="TOTP_SECRET", secret=True, required=False,
                        description="base32 TOTP secret for unattended login; without it"
                                    " the login asks for the 6-digit code"),
    ),
    login_style="totp",
    rate_limits={"orders": RateLimit(per_second=20), "reads": RateLimit(per_second=1),
                 "login": RateLimit(per_second=1)},
    base_urls={"api": "https://apiconnect.angelone.in",
               "master": "https://margincalculator.angelbroking.com"},
    rate_limit_markers=("exceeding access rate",),
    core_api=CORE_API,
)
