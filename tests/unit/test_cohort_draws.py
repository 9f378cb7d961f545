"""The cohort's uniforms: the same numbers whether a draw is kept or drawn again."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import ROOT

from cartsim.engine import cohort as cohort_module
from cartsim.engine.cohort import make_cohort
from cartsim.engine.retreatment import RETREAT
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


def test_prefetched_draws_are_the_draws(monkeypatch) -> None:
    """Drawn at once or one by one (a view's names with its prefix), the same numbers."""
    names = ["response", "soc_pre_3", "death", "response"]
    one_by_one = make_cohort(scenario(), Streams(seed=5, replication=2, draw=7))
    expected = {name: one_by_one.draw(name).copy() for name in names}
    view_expected = one_by_one.view("retreat.").draw("trm").copy()
    at_once = make_cohort(scenario(), Streams(seed=5, replication=2, draw=7))
    at_once.prefetch(names)
    at_once.view("retreat.").prefetch(["trm"])
    assert {"response", "soc_pre_3", "death", "retreat.trm"} <= set(at_once._cache)
    single = Streams.uniforms
    monkeypatch.setattr(Streams, "uniforms", lambda *a: pytest.fail("drawn again"))
    for name in names:
        assert at_once.draw(name).tobytes() == expected[name].tobytes()
        assert not at_once.draw(name).flags.writeable
    assert at_once.view("retreat.").draw("trm").tobytes() == view_expected.tobytes()
    monkeypatch.setattr(Streams, "uniforms", single)


def test_prefetch_draws_nothing_that_would_not_be_kept(monkeypatch) -> None:
    cohort = make_cohort(scenario(), Streams(seed=3))
    monkeypatch.setattr(cohort_module, "DRAW_CACHE_BYTES", 4 * cohort.size * 8)  # four draws
    kept = dict(cohort._cache)
    cohort.prefetch(["a", "b", "c", "d"])  # with age and sex kept: six would not fit
    assert cohort._cache == kept
    cohort.prefetch(["a", "b"])
    assert list(cohort._cache) == [*kept, "a", "b"]


@pytest.mark.parametrize(
    "name", ["therapies_2026.yaml", "national_central.yaml", "relapse_retreatment.yaml"]
)
def test_every_stage_draw_is_drawn_at_once(name: str, monkeypatch) -> None:
    """The names plan_stages prefetches are the ones it draws: none is drawn alone (restocked
    doses, failures, ICU, transport legs and every arm of these scenarios)."""
    from cartsim.engine import model

    source = loading.load(ROOT / "scenarios" / name, ["run.replications=1"])
    built = source.build()
    alone: list[str] = []
    single = Streams.uniforms

    def spy(self, stream, size):
        alone.append(stream)
        return single(self, stream, size)

    planned = model.plan_stages
    names: list[str] = []

    def plans(arm_name, arm, *args, **kwargs):
        alone.clear()
        out = planned(arm_name, arm, *args, **kwargs)
        names.extend(a for a in alone if a.removeprefix(RETREAT).startswith(f"{arm_name}."))
        return out

    monkeypatch.setattr(Streams, "uniforms", spy)
    monkeypatch.setattr(model, "plan_stages", plans)
    model.run_replication(built, 0)
    assert names == []


def test_every_arms_stage_draws_come_in_one_call(monkeypatch) -> None:
    """run_arms asks for every arm's stage draws at once: plan_stages finds none missing."""
    from cartsim.engine import model

    built = scenario()
    calls: list[set[str]] = []
    together = Streams.uniforms_of

    def spy(self, names, sizes):
        calls.append({n.split("|")[0] for n in names if n.split(".")[0] in built.arms})
        return together(self, names, sizes)

    monkeypatch.setattr(Streams, "uniforms_of", spy)
    model.run_replication(built, 0)
    staged = [c for c in calls if c]
    assert len(staged) == 1
    assert staged[0] == {n for a in built.arms for n in model.planned_draws(a, built.arms[a])}
    assert {n.split(".")[0] for n in staged[0]} == set(built.compared_arms)
