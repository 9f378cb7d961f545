"""Verification: the model reproduces the Erlangen series (Müller et al., NEJM 2024), its source.

The CAR-T response and adverse-event inputs are taken from these 15 patients (8 SLE, 3 IIM,
4 SSc), so agreement here checks that the inputs are implemented as intended; it is not
validation (external validation against data the inputs were not taken from is in
``tests/validation/test_external_targets.py``). The series is simulated 1,000 times with the
Erlangen scenario's parameters; each observed count must fall inside the simulated 90%
predictive interval. Since the pooled SLE series became the base case, the Erlangen values are
the scenario ``cart_vs_asct_erlangen.yaml``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import ROOT, TEST_SEED

from cartsim.engine.adverse_events import adverse_event_grades
from cartsim.engine.cohort import Cohort
from cartsim.engine.eventlog import STATUSES
from cartsim.engine.streams import Streams
from cartsim.evaluate.course import clinical_course
from cartsim.inputs import loading

SERIES = {"SLE": 8, "IIM": 3, "SSc": 4}
OBSERVED = {
    "response": 15,  # DORIS 8/8, ACR-EULAR major 3/3, SSc activity fell 4/4
    "crs_any": 11,
    "crs_grade2_plus": 1,
    "icans": 1,
    "serious_infection": 1,
}
APLASIA_MEAN, APLASIA_SD = 112.0, 47.0  # days, B-cell aplasia


def series_cohort(streams: Streams, diseases: tuple[str, ...]) -> Cohort:
    codes = np.concatenate([np.full(n, diseases.index(d)) for d, n in SERIES.items()])
    rank = np.concatenate([np.arange(n) for n in SERIES.values()])
    size = codes.size
    return Cohort(
        streams=streams,
        diseases=diseases,
        disease=codes,
        rank=rank,
        arrival_day=np.zeros(size),
        age=np.full(size, 39.0),  # CASTLE median age [R8]
        female=np.ones(size, dtype=bool),
    )


def simulate_series(replications: int) -> pd.DataFrame:
    scenario = loading.load(ROOT / "scenarios" / "cart_vs_asct_erlangen.yaml").build()
    arm = scenario.arms["cart"]
    rows = []
    for rep in range(replications):
        cohort = series_cohort(Streams(seed=TEST_SEED, replication=rep), tuple(scenario.demand))
        grades = adverse_event_grades(arm, cohort)
        treated = {
            "treatment_day": np.zeros(cohort.size),
            "status": np.full(cohort.size, STATUSES.index("completed")),
            "exit_day": np.zeros(cohort.size),
        }
        course = clinical_course(scenario, arm, cohort, treated)
        aplasia = course["bcell_aplasia_days"]
        rows.append(
            {
                "response": int(course["response"].sum()),
                "crs_any": int((grades["crs"] >= 1).sum()),
                "crs_grade2_plus": int((grades["crs"] >= 2).sum()),
                "icans": int((grades["icans"] >= 1).sum()),
                "serious_infection": int(course["serious_infection"].sum()),
                "aplasia_mean": float(aplasia.mean()),
                "aplasia_sd": float(np.std(aplasia, ddof=1)),
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    return simulate_series(1000)


@pytest.mark.parametrize("measure", list(OBSERVED))
@pytest.mark.statistical
def test_observed_count_is_inside_the_90_percent_predictive_interval(simulated, measure) -> None:
    low, high = simulated[measure].quantile([0.05, 0.95])
    assert low <= OBSERVED[measure] <= high, (measure, low, high)


@pytest.mark.statistical
def test_bcell_aplasia_duration_is_inside_the_predictive_interval(simulated) -> None:
    low, high = simulated["aplasia_mean"].quantile([0.05, 0.95])
    assert low <= APLASIA_MEAN <= high
    low, high = simulated["aplasia_sd"].quantile([0.05, 0.95])
    assert low <= APLASIA_SD <= high


@pytest.mark.statistical
def test_the_check_can_fail() -> None:
    """A series with no CRS at all would be outside the interval: the check has power."""
    simulated = simulate_series(300)
    low, _ = simulated["crs_any"].quantile([0.05, 0.95])
    assert low > 0
