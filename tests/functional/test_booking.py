"""A booking that holds one resource across several stages (``hold_until``): exact times of
the manufacturing slot held through release testing, read off the event log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import make_scenario, scenario_dict

from cartsim.inputs.errors import ScenarioError
from cartsim.runs.experiment import simulate

UNLIMITED = {"capacity": "unlimited"}


def manufacturing_log(hold: bool, **changes: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = scenario_dict(
        demand={"SLE": {"rate_per_year": 30}},
        resources={"apheresis": UNLIMITED, "manufacturing": {"capacity": 1},
                   "ward_bed": UNLIMITED},
        **changes,
    )  # fmt: skip
    if hold:
        data["arms"]["cart"]["stages"][1]["hold_until"] = "qc_release"
    tables = simulate(make_scenario(data), 0)
    events = tables.events
    mine = events[events["stage"] == "manufacturing"]
    times = mine.pivot_table(index="patient_id", columns="event", values="time", aggfunc="last",
                             observed=True)  # fmt: skip
    return times.sort_values("start"), tables.patients.set_index("patient_id")


def test_the_slot_is_held_until_release_testing_ends() -> None:
    times, _ = manufacturing_log(hold=True)
    times = times.dropna(subset=["start"])  # served before the horizon
    done = times.dropna(subset=["end"])  # and the booking ended before it
    assert len(done) >= len(times) - 1 and len(done) > 10
    np.testing.assert_allclose(done["end"], done["start"] + 13 + 7, atol=1e-9)  # manufacture, QC
    queue, start = times["queue"].to_numpy(), times["start"].to_numpy()
    # each start waits for the previous patient's booking to end: 20 days, not 13
    np.testing.assert_allclose(start[1:], np.maximum(queue[1:], start[:-1] + 20), atol=1e-9)
    assert (start[1:] > queue[1:] + 1e-9).sum() > 5  # a queue formed
    free, _ = manufacturing_log(hold=False)
    free = free.dropna(subset=["end"])
    np.testing.assert_allclose(free["end"], free["start"] + 13, atol=1e-9)


def test_a_patient_leaving_during_the_booking_frees_the_slot_at_once() -> None:
    times, patients = manufacturing_log(hold=True, waiting={"dropout_hazard_per_day": 0.03})
    left = patients.loc[times.index, "status"].astype(str).isin(["dropped_out", "died_waiting"])
    exit_day = patients.loc[times.index, "exit_day"]
    booked_end = times["start"] + 20
    during = left & (exit_day < booked_end) & (exit_day > times["start"])
    assert during.sum() > 0
    np.testing.assert_allclose(times.loc[during, "end"], exit_day[during], atol=1e-9)
    np.testing.assert_allclose(times.loc[~during & times["end"].notna(), "end"],
                               booked_end[~during & times["end"].notna()], atol=1e-9)  # fmt: skip


def test_hold_until_must_name_a_later_stage() -> None:
    data = scenario_dict()
    data["arms"]["cart"]["stages"][1]["hold_until"] = "apheresis"
    with pytest.raises(ScenarioError, match="must name a later stage"):
        make_scenario(data)
