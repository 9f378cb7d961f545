"""The engine against queueing theory: Erlang C for M/M/c and Little's law on the event log."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from builders import make_scenario

from cartsim.decide.stats import mean_ci
from cartsim.runs.experiment import run_replications


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue Wq of an M/M/c queue (validation.md)."""
    a = lam / mu
    rho = a / c
    top = a**c / (math.factorial(c) * (1 - rho))
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def test_erlang_c_reference_values() -> None:
    assert erlang_c_wait(2.0, 1.0, 3) == pytest.approx(0.444444, abs=1e-6)
    assert erlang_c_wait(0.9, 0.1, 10) == pytest.approx(6.687315, abs=1e-6)
    assert erlang_c_wait(0.25, 0.1, 4) == pytest.approx(2.132378, abs=1e-6)


def mmc_scenario(lam_per_day: float, mean_service: float, servers: int, days: float):
    return make_scenario(
        {
            "name": "mmc",
            "run": {
                "arrival_window_days": days,
                "horizon_days": days * 1.05,
                "warmup_days": days / 4,
                "replications": 20,
                "seed": 11,
            },
            "demand": {"SLE": {"rate_per_year": lam_per_day * 365.25, "age": 40}},
            "resources": {"server": {"capacity": servers}},
            "arms": {
                "queue": {
                    "stages": [
                        {
                            "name": "service",
                            "kind": "activity",
                            "resource": "server",
                            "duration": {"dist": "exponential", "mean": mean_service},
                        }
                    ]
                }
            },
        }
    )


@pytest.mark.parametrize(
    ("lam", "service", "servers"),
    [(0.9, 10.0, 10), (0.25, 10.0, 4), (2.0, 1.0, 3)],
)
def test_mmc_mean_wait_matches_erlang_c(lam: float, service: float, servers: int) -> None:
    days = 4000 * service / servers
    scenario = mmc_scenario(lam, service, servers, days)
    tables = run_replications(scenario, scenario.run.replications, events=False)
    waits = tables.metrics[tables.metrics["metric"] == "mean_wait_service_days"]["value"]
    mean, low, high = mean_ci(waits.to_numpy())
    theory = erlang_c_wait(lam, 1 / service, servers)
    assert low <= theory <= high, (mean, low, high, theory)


def test_littles_law_holds_on_the_event_log() -> None:
    scenario = mmc_scenario(0.25, 10.0, 3, 6000)
    tables = run_replications(scenario, 1)
    events, warm, end = tables.events, 1500.0, 6000.0
    # time-averaged queue length from the log
    q = events[events["resource"] == "server"]
    change = q["event"].map({"queue": 1, "start": -1, "leave_queue": -1}).fillna(0)
    order = np.argsort(q["time"].to_numpy(), kind="stable")
    t = q["time"].to_numpy()[order]
    level = np.cumsum(change.to_numpy()[order])
    inside = (t >= warm) & (t <= end)
    t_in, level_in = t[inside], level[inside]
    start_level = level[np.searchsorted(t, warm) - 1]
    times = np.concatenate([[warm], t_in, [end]])
    levels = np.concatenate([[start_level], level_in])
    lq = float(np.sum(levels * np.diff(times)) / (end - warm))
    # arrival rate and mean wait of the patients who joined the queue in the window
    joins = q[(q["event"] == "queue") & (q["time"] >= warm) & (q["time"] <= end)]
    lam = len(joins) / (end - warm)
    patients = tables.patients.set_index("patient_id")
    wq = patients.loc[joins["patient_id"], "wait_service_days"].mean()
    assert lq == pytest.approx(lam * wq, rel=0.05)


def test_resource_series_match_the_log() -> None:
    scenario = mmc_scenario(0.25, 10.0, 3, 2000)
    tables = run_replications(scenario, 1)
    series = tables.resources
    assert set(series.columns) >= {
        "resource",
        "day",
        "in_use",
        "queue_length",
        "capacity",
        "utilisation",
    }
    assert (series["in_use"] <= 3 + 1e-9).all() and (series["in_use"] >= -1e-9).all()
    # mean busy servers = lambda * E[S] = 2.5 over a long run (Little's law for the servers)
    assert series["in_use"].iloc[200:].mean() == pytest.approx(2.5, rel=0.08)
    assert isinstance(series, pd.DataFrame)
