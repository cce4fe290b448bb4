"""Angel One SmartAPI broker plugin for openalgo (entry point ``angel``).

Modules: :mod:`.plugin` (the hookimpls), :mod:`.auth`, :mod:`.orders`,
:mod:`.positions`, :mod:`.instruments`, :mod:`._api` (headers and envelopes),
:mod:`.mapping` (every OpenAlgo <-> Angel table) and :mod:`.simulator`.
"""

from __future__ import annotations

from openalgo_core import CORE_API, BrokerInfo, CredentialField, Exchange, RateLimit

__version__ = "0.2.1"

__all__ = ["INFO", "__version__"]

INFO = BrokerInfo(
    id="angel",
    display_name="Angel One (SmartAPI)",
    exchanges=frozenset({Exchange.NSE, Exchange.BSE, Exchange.NFO, Exchange.BFO, Exchange.CDS,
                         Exchange.MCX, Exchange.NSE_INDEX, Exchange.BSE_INDEX}),
    credentials=(
        CredentialField(name="API_KEY", secret=True,
                        description="SmartAPI app key (sent as X-PrivateKey)"),
        CredentialField(name="CLIENT_ID", secret=False,
                        description="Angel One client code, e.g. A52163134"),
        CredentialField(name="PIN", secret=True, description="the account's MPIN"),
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
