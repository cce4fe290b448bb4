"""Plugin objects with one defect each (built on the fake broker's info)."""

from __future__ import annotations

import dataclasses
from typing import Any

from openalgo_core import hookimpl
from tests.fakebroker.plugin import INFO


class _Base:
    def __init__(self, **changes: Any) -> None:
        self.info = dataclasses.replace(INFO, **changes)

    @hookimpl
    def broker_info(self) -> Any:
        return self.info


class Incompatible(_Base):
    def __init__(self) -> None:
        super().__init__(id="oldbroker", core_api=999)


class Misspelt(_Base):
    def __init__(self) -> None:
        super().__init__(id="misspelt")

    @hookimpl
    def place_ordr(self, order: Any) -> Any:  # not a hook
        return None


class Defaulted(_Base):
    def __init__(self) -> None:
        super().__init__(id="defaulted")

    @hookimpl
    def fetch_positions(self, session: Any, client: Any = None) -> Any:
        return []


class LoginOnly(_Base):
    """Implements nothing but broker_info: every operation is unsupported."""

    def __init__(self) -> None:
        super().__init__(id="loginonly")


incompatible = Incompatible()
misspelt = Misspelt()
defaulted = Defaulted()
loginonly = LoginOnly()
