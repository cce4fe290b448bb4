"""What the login form calls each field: as OpenAlgo's own broker forms label it, so its
users recognise the form (Angel's asks for "Client ID", "PIN" and "TOTP"; Definedge's for
"Enter OTP"; Kotak's for "Mobile Number", "MPIN" and "TOTP"). A field or broker not
listed here gets :meth:`LoginChallenge.label` ("client_id" -> "Client ID").
"""

from __future__ import annotations

from ..models import LoginChallenge

__all__ = ["OPENALGO_LABELS", "field_label"]

#: broker id -> challenge field -> OpenAlgo's label
OPENALGO_LABELS: dict[str, dict[str, str]] = {
    "angel": {"client_id": "Client ID", "pin": "PIN", "code": "TOTP"},
    "definedge": {"code": "Enter OTP"},
    # OpenAlgo's IndMoney login takes a pasted token, no form: its words for the values
    "indmoney": {"api_key": "Client ID", "pin": "MPIN", "code": "TOTP"},
    "kotak": {"mobile": "Mobile Number", "mpin": "MPIN", "code": "TOTP"},
}


def field_label(challenge: LoginChallenge, name: str) -> str:
    """The label of field ``name`` of ``challenge``'s form."""
    return OPENALGO_LABELS.get(challenge.broker, {}).get(name) or challenge.label(name)
