"""Figures of a run's result tables: each ``plot_*`` takes tables and returns a plotly Figure."""

from cartsim.report.plots.capacity import plot_patient_flow, plot_resource_use, plot_waits
from cartsim.report.plots.clinical import kaplan_meier, plot_adverse_events, plot_outcomes
from cartsim.report.plots.journeys import plot_journeys
from cartsim.report.plots.sensitivity import plot_sweep, plot_tornado
from cartsim.report.plots.value import plot_budget, plot_ce_plane, plot_ceac, plot_costs, plot_evpi

__all__ = [
    "kaplan_meier",
    "plot_adverse_events",
    "plot_budget",
    "plot_ce_plane",
    "plot_ceac",
    "plot_costs",
    "plot_evpi",
    "plot_journeys",
    "plot_outcomes",
    "plot_patient_flow",
    "plot_resource_use",
    "plot_sweep",
    "plot_tornado",
    "plot_waits",
]
