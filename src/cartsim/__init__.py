"""cartsim: discrete-event simulation of CAR-T, aHSCT and standard-of-care pathways.

The names below are imported when first used, so a command that needs none of them (``cartsim
report``) does not pay for the scenario's validation machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cartsim.inputs.errors import CartsimError, ScenarioError
    from cartsim.inputs.loading import load
    from cartsim.inputs.scenario import Scenario

__all__ = ["CartsimError", "Scenario", "ScenarioError", "load"]
__version__ = "0.1.0"

_HOMES = {
    "CartsimError": "cartsim.inputs.errors",
    "ScenarioError": "cartsim.inputs.errors",
    "load": "cartsim.inputs.loading",
    "Scenario": "cartsim.inputs.scenario",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'cartsim' has no attribute {name!r}")
