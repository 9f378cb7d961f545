"""The engine against queueing theory: Erlang C for M/M/c, Little's law and M/G/infinity.

Every check compares a replication mean with its exact value through :mod:`checks` (a t-interval
at level 1 - 1e-4 widened by a bias allowance for the warm-up and the finite run), so it holds
for any ``CARTSIM_TEST_SEED``. Replications start empty; the first tenth of each run is warm-up.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from builders import make_scenario
from checks import assert_mean_matches

from cartsim.inputs.scenario import Scenario
from cartsim.runs.experiment import Tables, run_replications

pytestmark = pytest.mark.statistical

BIAS = 0.02  # warm-up from an empty system and waits cut at the horizon: well under 2%


def erlang_b(a: float, c: int) -> float:
    """Erlang B blocking probability by the recursion B(0)=1, B(k)=aB(k-1)/(k+aB(k-1))."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(lam: float, mu: float, c: int) -> tuple[float, float]:
    """``(P(wait), Wq)`` of an M/M/c queue: C = cB/(c - a(1-B)), Wq = C/(c mu - lam)."""
    a = lam / mu
    b = erlang_b(a, c)
    p_wait = c * b / (c - a * (1 - b))
    return p_wait, p_wait / (c * mu - lam)


def erlang_c_factorial(lam: float, mu: float, c: int) -> float:
    """Wq by the textbook factorial formula, an independent check of :func:`erlang_c`."""
    a = lam / mu
    top = a**c / (math.factorial(c) * (1 - a / c))
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top) / (c * mu - lam)


@pytest.mark.parametrize(
    ("lam", "mu", "c", "p_wait", "wq"),
    [
        (0.5, 1.0, 1, 0.5, 1.0),
        (1.0, 1.0, 2, 1 / 3, 1 / 3),
        (2.0, 1.0, 3, 4 / 9, 0.444444),
        (0.9, 0.1, 10, None, 6.687315),
    ],
)
def test_erlang_c_reference_values(
    lam: float, mu: float, c: int, p_wait: float | None, wq: float
) -> None:
    got_p, got_wq = erlang_c(lam, mu, c)
    assert got_wq == pytest.approx(wq, abs=1e-6)
    assert erlang_c_factorial(lam, mu, c) == pytest.approx(got_wq, rel=1e-12)
    if p_wait is not None:
        assert got_p == pytest.approx(p_wait, rel=1e-12)


def mmc_scenario(
    lam: float, mean_service: float, servers: int | str, days: int, reps: int, seed: int
) -> Scenario:
    """Poisson referrals at ``lam`` a day to one stage with exponential service."""
    return make_scenario(
        {
            "name": "mmc",
            "run": {
                "arrival_window_days": days,
                "horizon_days": days + days // 20,
                "warmup_days": days // 10,
                "replications": reps,
                "seed": seed,
            },
            "demand": {"SLE": {"rate_per_year": lam * 365.25, "age": 40}},
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


def per_replication(tables: Tables, metric: str) -> np.ndarray:
    m = tables.metrics
    return m[m["metric"] == metric].sort_values("replication")["value"].to_numpy()


# (lambda per day, mean service days, servers, days per replication, replications)
MMC = [
    (0.5, 1.0, 1, 4000, 20),
    (1.0, 1.0, 2, 4000, 20),
    (2.0, 1.0, 3, 3000, 20),
    (0.9, 10.0, 10, 16000, 40),
]


@pytest.mark.parametrize(("lam", "service", "servers", "days", "reps"), MMC)
def test_mmc_waits_and_queue_match_erlang_c(
    seed: int, lam: float, service: float, servers: int, days: int, reps: int
) -> None:
    scenario = mmc_scenario(lam, service, servers, days, reps, seed)
    tables = run_replications(scenario, reps, events=False)
    p_wait, wq = erlang_c(lam, 1 / service, servers)
    assert_mean_matches(per_replication(tables, "mean_wait_service_days"), wq, BIAS, 0.15, "Wq")
    lq = lam * wq  # Little's law on the queue
    assert_mean_matches(per_replication(tables, "mean_queue_server"), lq, BIAS, 0.15, "Lq")
    busy = lam * service  # Little's law on the servers
    assert_mean_matches(per_replication(tables, "mean_in_use_server"), busy, BIAS, 0.04, "busy")
    # the share of patients who wait is Erlang C itself
    p = tables.patients
    settled = p[p["arrival_day"] >= scenario.run.warmup_days]
    waited = (settled["wait_service_days"] > 0).groupby(settled["replication"]).mean()
    assert_mean_matches(waited.to_numpy(), p_wait, BIAS, 0.05, "P(wait)")


def test_littles_law_holds_on_each_run(seed: int) -> None:
    """Time-average queue = arrival rate x mean wait on the same run, up to the edges."""
    scenario = mmc_scenario(2.0, 1.0, 3, 3000, 5, seed)
    tables = run_replications(scenario, 5, events=False)
    window = scenario.run.arrival_window_days - scenario.run.warmup_days
    lam_hat = per_replication(tables, "referred") / window
    wq_hat = per_replication(tables, "mean_wait_service_days")
    lq_hat = per_replication(tables, "mean_queue_server")
    # edge terms (the queue at the two ends of the window) are O(Lq * Wq / window) ~ 1e-4
    np.testing.assert_allclose(lq_hat, lam_hat * wq_hat, rtol=0.01)


def test_littles_law_on_the_event_log(seed: int) -> None:
    """The daily queue series integrates to the sum of the waits inside the window, exactly."""
    scenario = mmc_scenario(0.25, 10.0, 3, 2000, 1, seed)
    tables = run_replications(scenario, 1)
    events = tables.events
    q = events[events["resource"] == "server"]
    queued = q[q["event"] == "queue"].set_index("patient_id")["time"]
    left = q[q["event"].isin(["start", "leave_queue"])].set_index("patient_id")["time"]
    horizon = scenario.run.horizon_days
    left = left.reindex(queued.index).fillna(horizon)
    start, end = float(scenario.run.warmup_days), float(scenario.run.arrival_window_days)
    inside = (np.minimum(left, end) - np.maximum(queued, start)).clip(lower=0).sum()
    series = tables.resources
    mine = series[(series["resource"] == "server") & series["day"].between(start, end - 1)]
    assert len(mine) == end - start
    assert inside > 100  # patients did wait
    assert mine["queue_length"].sum() == pytest.approx(inside, rel=1e-9)


def test_resource_series_respect_capacity(seed: int) -> None:
    scenario = mmc_scenario(0.25, 10.0, 3, 2000, 1, seed)
    series = run_replications(scenario, 1).resources
    assert isinstance(series, pd.DataFrame)
    assert (series["capacity"] == 3).all()
    assert series["in_use"].between(0, 3 + 1e-9).all()
    assert (series["queue_length"] >= -1e-9).all()
    np.testing.assert_allclose(series["utilisation"], series["in_use"] / 3)
    # a day with a queue is a day with every server busy at the end of some interval
    assert (series.loc[series["queue_length"] > 0.5, "in_use"] > 2).all()


def test_mg_infinity_occupancy_is_lambda_times_mean_stay(seed: int) -> None:
    """Unlimited capacity: mean units in use = lambda E[S] whatever the stay distribution."""
    lam, stay = 2.0, {"dist": "lognormal", "mean": 10.0, "sd": 8.0}
    scenario = make_scenario(
        {
            "name": "mginf",
            "run": {
                "arrival_window_days": 2000,
                "horizon_days": 2100,
                "warmup_days": 200,
                "replications": 20,
                "seed": seed,
            },
            "demand": {"SLE": {"rate_per_year": lam * 365.25, "age": 40}},
            "resources": {"bed": {"capacity": "unlimited"}},
            "arms": {
                "stay": {
                    "stages": [
                        {"name": "stay", "kind": "activity", "resource": "bed", "duration": stay}
                    ]
                }
            },
        }
    )
    tables = run_replications(scenario, 20, events=False)
    occupancy = per_replication(tables, "mean_in_use_bed")
    assert_mean_matches(occupancy, lam * 10.0, BIAS, 0.04, "M/G/inf occupancy")
    assert (per_replication(tables, "mean_wait_stay_days") == 0).all()
