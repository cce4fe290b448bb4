"""Conformance tests every broker package runs against its own simulator.

Subclass :class:`BrokerConformance` in your plugin's tests::

    from openalgo_core.testing.conformance import BrokerConformance
    import openalgo_mybroker.plugin

    class TestMyBroker(BrokerConformance):
        plugin = openalgo_mybroker.plugin

It is the sum of one class per feature, each usable alone:
:class:`LoginConformance`, :class:`OrderConformance` (with the journal's fault
campaign), :class:`PositionConformance`, :class:`OrderBookConformance`,
:class:`CancelModifyConformance`, :class:`TradeBookConformance`,
:class:`FundsConformance`, :class:`HoldingsConformance`,
:class:`MasterContractConformance` and :class:`PackageConformance`. Most tests run
twice: in-process (ASGI transport) and over a real socket (uvicorn on loopback).
Override the class attributes of :class:`ConformanceBase` when your simulator's
universe differs, and :meth:`ConformanceBase.complete_login` when a user answers
your login challenge in another way than the kit's (the code form, or your
simulator's login page filled with ``demo_login_params``). A check needing what
your broker lacks (a TOTP secret, a PIN) skips with the reason; so does every check
of an operation your broker answers with ``UnsupportedOperationError``.
"""

from __future__ import annotations

from ..wiring import Harness
from .account import FundsConformance, HoldingsConformance, TradeBookConformance
from .base import ConformanceBase
from .campaign import CampaignPlan, CampaignReport, Fault, run_campaign
from .changes import CancelModifyConformance
from .login import LoginConformance
from .master import MasterContractConformance
from .orderbook import OrderBookConformance
from .orders import OrderConformance
from .package import PackageConformance
from .positions import PositionConformance

__all__ = ["BrokerConformance", "CampaignPlan", "CampaignReport", "CancelModifyConformance",
           "ConformanceBase", "Fault", "FundsConformance", "Harness", "HoldingsConformance",
           "LoginConformance", "MasterContractConformance", "OrderBookConformance",
           "OrderConformance", "PackageConformance", "PositionConformance",
           "TradeBookConformance", "run_campaign"]


class BrokerConformance(LoginConformance, OrderConformance, PositionConformance,
                        OrderBookConformance, CancelModifyConformance, TradeBookConformance,
                        FundsConformance, HoldingsConformance, MasterContractConformance,
                        PackageConformance):
    """The behaviour every broker plugin must show. Set ``plugin`` in a subclass."""
