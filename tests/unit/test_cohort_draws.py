"""The cohort's uniforms: the same numbers whether a draw is kept or drawn again."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import ROOT

from cartsim.engine import cohort as cohort_module
from cartsim.engine.cohort import make_cohort
from cartsim.engine.streams import Streams
from cartsim.inputs import loading
from cartsim.runs.experiment import simulate

SCENARIO = ROOT / "scenarios" / "cart_vs_asct.yaml"


def scenario():
    return loading.load(SCENARIO, ["run.arrival_window_days=730"]).build()


def test_a_draw_no_longer_kept_is_drawn_again_identically(monkeypatch) -> None:
    cohort = make_cohort(scenario(), Streams(seed=3))
    monkeypatch.setattr(cohort_module, "DRAW_CACHE_BYTES", 2 * cohort.size * 8)  # two draws
    first = cohort.draw("response").copy()
    for name in ("a", "b", "c"):
        cohort.draw(name)
    assert "response" not in cohort._cache and len(cohort._cache) == 2  # bounded, oldest out
    np.testing.assert_array_equal(cohort.draw("response"), first)


def test_the_most_recently_used_draw_is_kept(monkeypatch) -> None:
    cohort = make_cohort(scenario(), Streams(seed=3))
    monkeypatch.setattr(cohort_module, "DRAW_CACHE_BYTES", 2 * cohort.size * 8)
    kept = cohort.draw("kept")
    cohort.draw("a")
    assert cohort.draw("kept") is kept  # used again: now the newest
    cohort.draw("b")
    assert cohort.draw("kept") is kept and "a" not in cohort._cache


def test_draws_are_shared_read_only() -> None:
    cohort = make_cohort(scenario(), Streams(seed=3))
    with pytest.raises(ValueError):
        cohort.draw("response")[0] = 0.5  # one consumer cannot change another's numbers


def test_a_run_is_the_same_whatever_the_draws_kept(monkeypatch) -> None:
    model = scenario()
    kept_all = simulate(model, 1)
    monkeypatch.setattr(cohort_module, "DRAW_CACHE_BYTES", 1)  # one draw kept at a time
    kept_one = simulate(model, 1)
    for name in ("patients", "events", "resources", "metrics", "budget"):
        pd.testing.assert_frame_equal(getattr(kept_one, name), getattr(kept_all, name))
