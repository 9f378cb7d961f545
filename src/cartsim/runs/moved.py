"""Which arms a changed scenario must simulate again, and which changes need no new simulation.

Head-to-head arms share nothing but the referred cohort and its random numbers (each on
resources of its own), so an arm whose definition did not change gives the same results in both
scenarios: a one-way variant, a threshold value or a scenario analysis reruns only the arms it
moves, and takes the others' results from the base run (:func:`with_base_rows`). The engine reads
no money, so scenarios that differ only in money and the economic evaluation share a simulation.
"""

from __future__ import annotations

import pandas as pd

from cartsim.inputs.scenario import Scenario

# scenario fields no arm's results read: names, the parameters' specifications (their values
# enter the model where fields refer to them) and the analyses to run on the scenario
NOT_READ = ("name", "description", "parameters", "scenario_analyses", "threshold_prices")
PRICED = ("economics", "unit_costs")  # read by the economic evaluation, never by the simulation


def differ_outside_arms(one: Scenario, other: Scenario, ignoring: tuple[str, ...] = ()) -> bool:
    """Whether the arm lists or any field but ``arms``, :data:`NOT_READ` and ``ignoring`` differ."""
    skip = ("arms", *NOT_READ, *ignoring)
    fields = [name for name in type(one).model_fields if name not in skip]
    return list(one.arms) != list(other.arms) or any(
        getattr(one, name) != getattr(other, name) for name in fields
    )


def moved_arms(moved: Scenario, base: Scenario) -> tuple[str, ...] | None:
    """The compared arms whose results can differ between ``moved`` and ``base``: none when
    they are the same model; every arm (None) when they differ outside the arms, or the arms
    share resources (a service mix); else each compared arm that differs or refers relapsing
    patients to an arm that differs. Fields no arm's results read (:data:`NOT_READ`) are not
    compared."""
    if moved == base:
        return ()
    if base.comparison != "head_to_head" or differ_outside_arms(moved, base):
        return None
    differ = {name for name, arm in base.arms.items() if moved.arms[name] != arm}
    return tuple(
        name
        for name in base.compared_arms
        if name in differ or any(rule.arm in differ for rule in base.arms[name].on_relapse)
    )


def same_simulation(one: Scenario, other: Scenario) -> bool:
    """Whether two scenarios simulate alike: they differ at most in money and the economic
    evaluation (:data:`PRICED`, each arm's ``economics``) and in what no arm reads."""
    if differ_outside_arms(one, other, PRICED):
        return False
    return all(
        arm.model_copy(update={"economics": other.arms[name].economics}) == other.arms[name]
        for name, arm in one.arms.items()
    )


def with_base_rows(rows: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (``arm`` column) of the arms rerun, then ``base``'s rows of every other arm:
    what an arm :func:`moved_arms` leaves alone gives in the base run."""
    return pd.concat([rows, base[~base["arm"].isin(rows["arm"])]], ignore_index=True)
