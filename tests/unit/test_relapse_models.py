"""Relapse models: the share relapse-free equals each model's survival function; inputs checked."""

from __future__ import annotations

import numpy as np
import pytest
from builders import assert_user_error, cartsim, make_scenario, scenario_dict
from pydantic import ValidationError

from cartsim.engine.relapse import relapse_years
from cartsim.inputs.clinical import DiseaseOutcome, Relapse
from cartsim.inputs.errors import CartsimError

N = 200_000
Z = 4.9  # two-sided 1e-6 per comparison: passes for any seed


def survival(model: Relapse, years: float) -> float:
    """Closed form: cure + (1 - cure) * exp(-(hazard * t) ** shape)."""
    tail = np.exp(-((model.hazard_per_year * years) ** model.shape))
    return model.cure_fraction + (1.0 - model.cure_fraction) * tail


MODELS = [
    Relapse(model="constant", hazard_per_year=0.3),
    Relapse(model="weibull", hazard_per_year=0.2, shape=1.7),
    Relapse(model="weibull", hazard_per_year=0.5, shape=0.6),
    Relapse(model="mixture_cure", hazard_per_year=0.4, cure_fraction=0.35),
    Relapse(model="mixture_cure", hazard_per_year=0.25, shape=2.5, cure_fraction=0.6),
]


@pytest.mark.statistical
@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.model}-{m.shape}-{m.cure_fraction}")
def test_share_relapse_free_is_the_survival_function(model: Relapse, seed: int) -> None:
    u = np.random.default_rng(seed).uniform(size=N)
    years = relapse_years([model], np.zeros(N, dtype=np.int64), u)
    for t in (0.25, 1.0, 3.0, 10.0, 40.0):
        expected = survival(model, t)
        tolerance = Z * np.sqrt(expected * (1 - expected) / N) + 1e-12
        assert abs(np.mean(years > t) - expected) <= tolerance, t


def test_cured_share_never_relapses_and_the_rest_always_does() -> None:
    model = Relapse(model="mixture_cure", hazard_per_year=0.4, cure_fraction=0.3)
    u = np.linspace(0.0, 1.0, 1001, endpoint=False)
    years = relapse_years([model], np.zeros(u.size, dtype=np.int64), u)
    assert np.all(np.isinf(years[u >= 0.7])) and np.all(np.isfinite(years[u < 0.7]))


def test_no_cure_is_the_weibull_draw_itself() -> None:
    u = np.random.default_rng(1).uniform(size=1000)
    code = np.zeros(u.size, dtype=np.int64)
    weibull = Relapse(model="weibull", hazard_per_year=0.2, shape=1.5)
    cure0 = Relapse(model="mixture_cure", hazard_per_year=0.2, shape=1.5)
    np.testing.assert_array_equal(
        relapse_years([weibull], code, u), relapse_years([cure0], code, u)
    )
    exact = (-np.log1p(-u)) ** (1 / 1.5) / 0.2
    np.testing.assert_allclose(relapse_years([weibull], code, u), exact, rtol=1e-12)


def test_each_disease_uses_its_own_model_and_none_never_relapses() -> None:
    u = np.full(4, 0.5)
    code = np.array([0, 1, 2, 0])
    fast = Relapse(model="constant", hazard_per_year=1.0)
    slow = Relapse(model="constant", hazard_per_year=0.1)
    years = relapse_years([fast, slow, None], code, u)
    np.testing.assert_allclose(years, [np.log(2), 10 * np.log(2), np.inf, np.log(2)])


def test_the_shorthand_is_a_weibull() -> None:
    outcome = DiseaseOutcome(response=1.0, relapse_hazard_per_year=0.1, relapse_shape=2.0)
    assert outcome.relapse_model == Relapse(model="weibull", hazard_per_year=0.1, shape=2.0)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"model": "constant", "hazard_per_year": 0.1, "shape": 2.0}, "constant hazard"),
        ({"model": "weibull", "hazard_per_year": 0.1, "cure_fraction": 0.2}, "mixture_cure"),
        ({"model": "mixture_cure", "hazard_per_year": 0.1, "cure_fraction": 1.2}, "less than"),
        ({"model": "gompertz", "hazard_per_year": 0.1}, "constant"),
    ],
)
def test_impossible_relapse_models_are_refused(spec: dict[str, object], needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        Relapse.model_validate(spec)


def test_a_model_and_the_shorthand_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="not both"):
        DiseaseOutcome.model_validate(
            {
                "response": 0.5,
                "relapse_hazard_per_year": 0.1,
                "relapse": {"model": "constant", "hazard_per_year": 0.1},
            }
        )


RESCUE = {"rescue": {"rescue_only": True, "stages": [{"name": "t", "kind": "treatment"}]}}


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"cart": {"on_relapse": [{"arm": "nowhere", "share": 0.5}]}}, "unknown arm 'nowhere'"),
        (
            {"cart": {"on_relapse": [{"arm": "rescue", "share": 0.7}] * 2}, **RESCUE},
            "sum to 1.4",
        ),
        ({"cart": {"rescue_only": True}}, "at least one must be compared"),
    ],
)
def test_impossible_rules_are_refused(changes: dict[str, object], needle: str) -> None:
    with pytest.raises(CartsimError, match=needle):
        make_scenario(scenario_dict(arms=changes))


def test_a_rescue_arm_is_not_compared() -> None:
    scenario = make_scenario(
        scenario_dict(arms={"cart": {"on_relapse": [{"arm": "rescue", "share": 0.5}]}, **RESCUE})
    )
    assert scenario.compared_arms == ["cart"]


def test_a_wrong_rule_in_a_file_is_one_line_naming_file_field_and_line(write_yaml) -> None:
    data = scenario_dict(arms={"cart": {"on_relapse": [{"arm": "bcma", "share": 0.5}]}})
    path = write_yaml(data)
    assert_user_error(cartsim("check", str(path)), path.name, "on_relapse.0.arm", "'bcma'")
