"""Valuing flows and lumps in blocks (many stacked into one vectorised pass) changes no result:
every patient's costs and QALYs equal, bit for bit, those of one flow and one lump at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import BASELINE, ROOT, TEST_SEED

from cartsim.evaluate import economics
from cartsim.inputs import loading
from cartsim.runs.experiment import simulate


@pytest.mark.parametrize(
    "path",
    [BASELINE, ROOT / "scenarios" / "relapse_retreatment.yaml"],
    ids=["age-scaled utilities", "second treatments"],
)
def test_blocks_give_the_values_of_one_flow_at_a_time(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = loading.load(path, overrides=[f"run.seed={TEST_SEED}", "run.arrival_window_days=400"])
    scenario = source.build({})
    whole = simulate(scenario, 0, events=False, detail=False).patients
    assert 30 * len(whole) <= economics.BLOCK  # every flow of an arm in one block
    monkeypatch.setattr(economics, "BLOCK", 1)  # one flow, one lump per block
    single = simulate(scenario, 0, events=False, detail=False).patients
    values = [c for c in whole.columns if c.startswith(("cost_", "qaly_"))]
    assert len(values) > 5 and (whole["cost_total"] > 0).any()
    assert whole[values].equals(single[values])
