"""How the course is held and valued changes no result: flows valued a block at a time (many
stacked into one vectorised pass) or one at a time, disease states' flows held for every patient
or for the patients they count for only, built for all states at once or one state at a time:
every patient's costs and QALYs, and the budget, are equal bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import BASELINE, ROOT, TEST_SEED

from cartsim.evaluate import cashflows, economics
from cartsim.inputs import loading
from cartsim.runs.experiment import simulate

LAYOUTS = {
    "one flow per block": {(economics, "BLOCK"): 1},
    "entries only": {(cashflows, "SPARSE_FROM"): 0},
    "entries, one state at a time": {(cashflows, "SPARSE_FROM"): 0, (cashflows, "STATE_BLOCK"): 1},
}


def tables(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    source = loading.load(path, overrides=[f"run.seed={TEST_SEED}", "run.arrival_window_days=400"])
    result = simulate(source.build({}), 0, events=False)
    values = [c for c in result.patients.columns if c.startswith(("cost_", "qaly_"))]
    return result.patients[values], result.budget


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize(
    "path",
    [BASELINE, ROOT / "scenarios" / "relapse_retreatment.yaml"],
    ids=["age-scaled utilities", "second treatments"],
)
def test_every_layout_gives_the_same_values(
    path: Path, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    patients, budget = tables(path)
    assert 30 * len(patients) <= economics.BLOCK  # by default every flow of an arm in one block
    assert len(patients) < cashflows.SPARSE_FROM  # and every patient in every state's flows
    assert len(patients.columns) > 5 and (patients["cost_total"] > 0).any() and len(budget)
    for (module, name), value in LAYOUTS[layout].items():
        monkeypatch.setattr(module, name, value)
    other_patients, other_budget = tables(path)
    assert patients.equals(other_patients)
    assert budget.equals(other_budget)


@pytest.mark.parametrize("block", [economics.BLOCK, 0], ids=["stacked", "row by row"])
def test_rows_are_added_one_at_a_time_in_order(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A running sum from the total, as a loop of ``+=`` gives, whether the rows are stacked (a
    small cohort) or added one by one (a large one): adding the rows first (2 + 2**53) or in
    another order would round differently; the caller's total is left as it was."""
    monkeypatch.setattr(economics, "BLOCK", block)
    total = np.array([2.0**53, 0.0, -0.0])
    rows = np.array([[1.0, 0.1, 1e-300], [1.0, 0.2, -1e-300], [-(2.0**53), 0.3, 5.0]])
    expected = total.copy()
    for row in rows:
        expected = expected + row
    got = economics._added(total, rows)
    assert got.tobytes() == expected.tobytes()
    assert got[0] != total[0] + rows.sum(axis=0)[0]  # the order matters for these rows
    assert total.tobytes() == np.array([2.0**53, 0.0, -0.0]).tobytes()
    assert economics._added(total, rows[:0]) is total
