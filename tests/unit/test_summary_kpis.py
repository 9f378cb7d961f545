"""An arm's summary KPIs (what PSA and one-way rows report) are the full KPIs' own values."""

from __future__ import annotations

import numpy as np
import pytest
from builders import ROOT, make_scenario, scenario_dict

from cartsim.engine.eventlog import STATUSES
from cartsim.engine.model import run_replication
from cartsim.evaluate.kpis import SUMMARY_KPIS
from cartsim.inputs import loading
from cartsim.inputs.scenario import Scenario
from cartsim.runs.arm_results import arm_result

CHANGES = {  # a capacity change, an unlimited resource (NaN utilisation) and a warm-up
    "run": {"warmup_days": 60},
    "resources": {
        "manufacturing": {
            "capacity": 1,
            "capacity_changes": [{"date": "2026-06-01", "capacity": 2}],
        },
        "ward_bed": {"capacity": "unlimited"},
    },
}


def scenario_named(name: str) -> Scenario:
    if name == "changes":
        return make_scenario(scenario_dict(**CHANGES))
    return loading.load(ROOT / "scenarios" / f"{name}.yaml").build()


@pytest.mark.parametrize("name", ["cart_vs_asct", "relapse_retreatment", "national_central",
                                  "service_mix", "changes"])  # fmt: skip
def test_summary_kpis_are_the_full_ones(name: str) -> None:
    scenario = scenario_named(name)
    run = run_replication(scenario, 2)
    for arm in run.arms:
        full = arm_result(scenario, run, arm, False, False).measures
        summary = arm_result(scenario, run, arm, False, False, summary=True)
        assert summary.series is None
        used = [k for k in full if k.startswith("utilisation_")]
        if scenario.comparison == "head_to_head":
            assert used  # every resource's utilisation is reported
        stats = [k for k in full if k in SUMMARY_KPIS[3:]]
        assert list(summary.measures) == ["referred", "treated", *STATUSES, *stats, *used]
        for key, value in summary.measures.items():
            assert np.float64(value).tobytes() == np.float64(full[key]).tobytes(), key
    if name == "changes":
        assert np.isnan(summary.measures["utilisation_ward_bed"])
        assert 0 < summary.measures["utilisation_manufacturing"] <= 1
