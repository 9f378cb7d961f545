"""cartsim: discrete-event simulation of CAR-T, aHSCT and standard-of-care pathways."""

from cartsim.inputs.errors import CartsimError, ScenarioError
from cartsim.inputs.loading import load
from cartsim.inputs.scenario import Scenario

__all__ = ["CartsimError", "Scenario", "ScenarioError", "load"]
__version__ = "0.1.0"
