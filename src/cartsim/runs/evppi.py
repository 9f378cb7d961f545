"""EVPPI of a finished PSA: which parameters' uncertainty is worth resolving.

Takes the tables a PSA wrote (``psa``: one row per iteration and arm; ``psa_parameters``: the
drawn values, one row per iteration) and runs :func:`cartsim.decide.evppi.evppi` over every
parameter the model uses and was drawn, the groups of
:func:`cartsim.decide.evppi.default_groups` (capacity parameters ``cap_*`` among them) and any
groups the user names. Money is in the scenario's currency and price year; the population is
the one of the PSA's EVPI (expected referrals a year times ``evpi_population_years``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cartsim.decide.evppi import default_groups, evppi
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.scenario import Scenario
from cartsim.runs.analyses import referrals_per_year

DEFAULT_BOOTSTRAP = 200  # resamples of the iterations for the Monte Carlo standard error


def drawn_parameters(parameters: pd.DataFrame, used: Sequence[str] | None) -> list[str]:
    """Names (without ``param_``) of parameters that were drawn, vary, and the model uses
    (``used`` None: every drawn parameter)."""
    names = []
    for column in parameters.columns:
        if not str(column).startswith("param_"):
            continue
        name = str(column).removeprefix("param_")
        values = parameters[column].to_numpy(dtype=np.float64)
        if (used is None or name in used) and np.unique(values).size > 1:
            names.append(name)
    return names


def parse_groups(specs: Sequence[str], known: Sequence[str]) -> dict[str, list[str]]:
    """``NAME=p1,p2`` options as groups of parameter columns; a clear error for a bad one."""
    groups: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, members = spec.partition("=")
        names = [m.strip() for m in members.split(",") if m.strip()]
        if not sep or not name.strip() or not names:
            raise CartsimError(f"expected NAME=p1,p2, got {spec!r}", field="--group")
        unknown = [n for n in names if n not in known]
        if unknown:
            raise CartsimError(
                f"group {name.strip()!r}: {', '.join(unknown)} not among the drawn parameters "
                "the model uses",
                field="--group",
            )
        groups[f"group: {name.strip()}"] = [f"param_{n}" for n in names]
    return groups


def evpi_population(evpi: pd.DataFrame | None, scenario: Mapping[str, object]) -> float:
    """Patients the decision affects, as in the PSA's EVPI: its population over per-patient
    value; where EVPI is 0 throughout, referrals a year times ``evpi_population_years`` of the
    scenario (as saved in the manifest)."""
    if evpi is not None and {"evpi_population", "evpi_per_patient"} <= set(evpi.columns):
        positive = evpi[evpi["evpi_per_patient"] > 0]
        if len(positive):
            row = positive.iloc[0]
            return float(row["evpi_population"] / row["evpi_per_patient"])
    try:
        model = Scenario.model_validate(scenario)
    except ValueError:
        raise CartsimError("the saved scenario cannot give the population of the EVPI") from None
    if model.economics is None:
        raise CartsimError("the scenario has no economics: no value of information")
    return referrals_per_year(model) * model.economics.evpi_population_years


def evppi_table(
    psa: pd.DataFrame,
    parameters: pd.DataFrame,
    wtp: float,
    population: float,
    used: Sequence[str] | None,
    groups: Sequence[str] = (),
    bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
) -> pd.DataFrame:
    """EVPPI (per patient and population, with Monte Carlo SEs) of every used, drawn
    parameter, the default groups and the ``NAME=p1,p2`` groups, at ``wtp`` (money per QALY).

    Columns as :func:`cartsim.decide.evppi.evppi`, largest value first.
    """
    if psa["arm"].nunique() < 2:
        raise CartsimError("EVPPI needs a PSA of two or more arms")
    names = drawn_parameters(parameters, used)
    if not names:
        raise CartsimError("no drawn parameter that the model uses varies in this PSA")
    if psa["iteration"].nunique() < 10:
        raise CartsimError("EVPPI needs a PSA of at least 10 iterations")
    chosen = {**default_groups(names), **parse_groups(groups, names)}
    return evppi(psa, parameters, wtp, chosen, population, bootstrap=bootstrap, seed=seed)
