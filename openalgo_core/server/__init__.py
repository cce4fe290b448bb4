"""The optional REST gateway (extra ``openalgo-core[server]``): ``openalgo serve``."""

from .apikeys import ApiKeys, create_api_key
from .app import create_app, default_broker

__all__ = ["ApiKeys", "create_api_key", "create_app", "default_broker"]
