"""cartsim: discrete-event simulation of CAR-T, aHSCT and standard-of-care pathways."""

from cartsim.errors import CartsimError, ScenarioError
from cartsim.loading import load
from cartsim.scenario import Scenario

__all__ = ["CartsimError", "Scenario", "ScenarioError", "load"]
__version__ = "0.1.0"
