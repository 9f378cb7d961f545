"""What accepted inputs mean: routing shares are probabilities, times are never negative."""

from __future__ import annotations

import math

import numpy as np
import pytest
from builders import make_scenario, scenario_dict

from cartsim.engine.cohort import make_cohort
from cartsim.engine.routing import route
from cartsim.engine.streams import Streams
from cartsim.inputs import loading
from cartsim.inputs.distributions import Gamma, LogNormal, Normal, Uniform, to_dist
from cartsim.inputs.fields import mass_below_zero
from cartsim.inputs.stages import Treatment
from cartsim.runs.analyses import parse_vary, sweep_grid


def mix(rules: list[dict[str, object]]) -> dict[str, object]:
    data = scenario_dict(comparison="service_mix")
    data["run"]["arrival_window_days"] = 3650
    data["run"]["horizon_days"] = 3650
    data["demand"]["SLE"]["rate_per_year"] = 2000
    for name in ("a", "b"):
        data["arms"][name] = data["arms"]["cart"]
    data["referral_policy"] = {"default": "cart", "rules": rules}
    return data


def test_each_share_is_the_probability_of_its_route() -> None:
    # the old cumulative-threshold reading gives 1/3, 1/6, 1/2 for these rules
    scenario = make_scenario(mix([{"arm": "a", "share": 1 / 3}, {"arm": "b", "share": 0.5}]))
    cohort = make_cohort(scenario, Streams(scenario.run.seed, replication=0))
    arm_of = route(scenario, cohort)
    n = cohort.size
    names = list(scenario.arms)
    for arm, p in (("a", 1 / 3), ("b", 0.5), ("cart", 1 / 6)):
        share = float(np.mean(arm_of == names.index(arm)))
        assert abs(share - p) < 5 * math.sqrt(p * (1 - p) / n), (arm, share, p)


def test_shares_count_only_among_the_patients_a_rule_matches() -> None:
    data = mix([{"arm": "a", "diseases": ["SLE"], "flags": ["lung"], "share": 0.5},
                {"arm": "b", "share": 0.5}])  # fmt: skip
    data["demand"]["SLE"]["flags"] = {"lung": 0.4}
    scenario = make_scenario(data)
    cohort = make_cohort(scenario, Streams(scenario.run.seed, replication=0))
    arm_of, names = route(scenario, cohort), list(scenario.arms)
    lung = np.asarray(cohort.flags["lung"], dtype=bool)
    for group, expected in ((lung, (0.5, 0.5, 0.0)), (~lung, (0.0, 0.5, 0.5))):
        n = int(group.sum())
        for arm, p in zip(("a", "b", "cart"), expected, strict=True):
            share = float(np.mean(arm_of[group] == names.index(arm)))
            assert abs(share - p) <= 5 * math.sqrt(0.25 / n), (arm, share, p)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (Normal(mean=13, sd=5), 0.0046611880),  # Phi(-2.6)
        (Normal(mean=0, sd=1), 0.5),
        (Normal(mean=13, sd=5, low=0), 0.0),
        (Uniform(low=-1, high=3), 0.25),
        (LogNormal(mean=10, sd=3), 0.0),
        (Gamma(shape=2, scale=3), 0.0),
    ],
)
def test_mass_below_zero_is_the_cdf_at_zero(spec: object, expected: float) -> None:
    assert mass_below_zero(spec) == pytest.approx(expected, abs=1e-9)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["baseline", "cart_vs_asct", "service_mix"])
def test_the_clip_at_zero_never_changes_an_accepted_duration(name: str) -> None:
    from builders import ROOT

    scenario = loading.load(ROOT / "scenarios" / f"{name}.yaml").build()
    u = np.array([0.0, 1e-300, 1e-12, 0.5])
    for arm in scenario.arms.values():
        for stage in arm.stages:
            if not isinstance(stage, Treatment):
                draws = to_dist(stage.duration).ppf(u)
                assert (draws.clip(min=0.0) == draws).all(), stage.name
    for demand in scenario.demand.values():
        assert to_dist(demand.age).ppf(u).min() >= 0.0


def test_vary_refuses_a_path_given_twice_and_bounds_the_grid() -> None:
    assert parse_vary(["a.b=1,2", "c=x"]) == [("a.b", ["1", "2"]), ("c", ["x"])]
    assert len(sweep_grid(parse_vary(["a=1,2,3", "b=1,2"]))) == 6
    with pytest.raises(ValueError, match="twice"):
        parse_vary(["a.b=1,2", "a.b=3"])
    with pytest.raises(ValueError, match="repeated"):
        parse_vary(["a.b=1,1"])
    with pytest.raises(ValueError, match="empty"):
        parse_vary(["a.b=1,,2"])
    many = [f"p{k}=" + ",".join(str(v) for v in range(10)) for k in range(5)]
    with pytest.raises(ValueError, match="100,000 settings"):
        sweep_grid(parse_vary(many))


def test_a_misspelt_vary_path_is_refused_before_the_sweep() -> None:
    from builders import BASELINE

    from cartsim.inputs.errors import ScenarioError
    from cartsim.runs import studies

    grid = sweep_grid(parse_vary(["resources.manufactring.capacity=1,2"]))
    with pytest.raises(ScenarioError, match="no such item"):
        studies.sweep_scenarios(BASELINE, [], grid)
    grid = sweep_grid(parse_vary(["resources.manufacturing.capacity=1,2"]))
    capacities = [
        s.resources["manufacturing"].capacity for s in studies.sweep_scenarios(BASELINE, [], grid)
    ]
    assert capacities == [1, 2]
