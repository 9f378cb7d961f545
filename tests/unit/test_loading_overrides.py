"""Loading a scenario: ``--set`` and ``--vary`` overrides and the errors they cause, the error
chosen and located among many, money converted as values are put in, and the extremes of every
parameter checked. Each test names the one-line bug it catches."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from builders import BASELINE, ROOT, scenario_dict

from cartsim.inputs import loading
from cartsim.inputs.errors import ScenarioError

SHARE = "parameters.cap_female_share_sle"  # used by demand.SLE.female (a probability)
NATIONAL = ROOT / "scenarios" / "national_central.yaml"
THERAPIES = ROOT / "scenarios" / "therapies_2026.yaml"


def refusal(*sets: str, varied: list[str] | None = None, path: Path = BASELINE) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        loading.load(path, list(sets), varied)
    return caught.value


def source(*overridden: tuple[str, str]) -> loading.ScenarioSource:
    """A composed scenario whose lines are known for two parameters and their table."""
    lines = {
        "parameters": ("s.yaml", 2),
        "parameters.los": ("s.yaml", 3),
        "parameters.los_icu": ("base.yaml", 7),
        "parameters.los_icu.value": ("base.yaml", 8),
    }
    return loading.ScenarioSource(Path("s.yaml"), {}, [], lines=lines, overridden=overridden)


# --- locate: the option that set a field, or the file and line --------------------------------


def test_an_error_in_a_field_an_option_set_names_the_option() -> None:
    """Catches ``exc.field == path or exc.field.startswith(path + ".")`` turned into ``and``:
    an error in the field ``--set`` or ``--vary`` wrote (or below it) names that option."""
    located = source(("parameters.los.value", "--vary")).locate(
        ScenarioError("bad", "s.yaml", "parameters.los.value")
    )
    assert located.message == "bad (from --vary parameters.los.value)" and located.lineno is None
    below = source(("parameters.los", "--set")).locate(
        ScenarioError("bad", "s.yaml", "parameters.los.value")
    )
    assert below.message == "bad (from --set parameters.los)"


def test_an_option_on_a_field_whose_name_is_a_prefix_is_not_blamed() -> None:
    """Catches the ``"."`` dropped from ``startswith(path + ".")``: ``--set parameters.los`` did
    not write ``parameters.los_icu``, whose error keeps the line of the file."""
    located = source(("parameters.los", "--set")).locate(
        ScenarioError("bad", "s.yaml", "parameters.los_icu.value")
    )
    assert (located.message, located.file, located.lineno) == ("bad", "base.yaml", 8)


def test_an_error_in_a_whole_names_only_the_options_below_it() -> None:
    """Catches the ``"."`` dropped from ``p.startswith(exc.field + ".")``: an override of
    ``parameters.los_icu.value`` is not below ``parameters.los``; one of ``parameters.los.value``
    is (the error keeps the line of the whole)."""
    sibling = source(("parameters.los_icu.value", "--set")).locate(
        ScenarioError("bad", "s.yaml", "parameters.los")
    )
    assert (sibling.message, sibling.file, sibling.lineno) == ("bad", "s.yaml", 3)
    below = source(("parameters.los.value", "--vary"), ("run.seed", "--set")).locate(
        ScenarioError("bad", "s.yaml", "parameters.los")
    )
    assert below.message == "bad (after --vary parameters.los.value)" and below.lineno == 3


def test_vary_is_applied_after_set_and_its_errors_name_it() -> None:
    """``load``'s ``varied``: applied after the ``--set`` overrides; an error it causes, and a
    path it names that the schema lacks, name ``--vary``."""
    source = loading.load(BASELINE, ["run.seed=1"], ["run.seed=2"])
    assert source.build().run.seed == 2
    assert source.overridden == (("run.seed", "--set"), ("run.seed", "--vary"))
    bad = refusal(varied=["run.horizon_days=-5"])
    assert bad.field == "run.horizon_days" and bad.message.endswith(
        "(from --vary run.horizon_days)"
    )
    unknown = refusal(varied=["run.nope=1"])
    assert unknown.field == "run.nope" and "(from --vary)" in unknown.message


def test_the_option_that_gave_the_value_last_is_blamed() -> None:
    """A path set by ``--set`` and then by ``--vary`` holds the ``--vary`` value: a mistake in it
    names ``--vary`` (a search from the first override would blame ``--set``)."""
    bad = refusal("run.horizon_days=900", varied=["run.horizon_days=-5"])
    assert bad.message.endswith("(from --vary run.horizon_days)"), bad.message


# --- build: references, origins, money -------------------------------------------------------


def test_an_unknown_reference_names_the_parameter_and_the_field() -> None:
    """Catches ``exc.args[0]`` read at another index and the name cut one character short
    (``leaf[2:]``): the error is one located line, not a crash."""
    error = refusal('run.seed="@nope"')
    assert error.field == "run.seed"
    assert error.message == "unknown parameter @nope (from --set run.seed)"


def test_an_error_in_a_referring_field_names_the_parameter_and_its_file() -> None:
    """Catches ``raw[1:] in self.origins`` read as ``raw[2:]``: a field refused for the value of a
    parameter names the parameter and the file that defines it."""
    error = refusal(f"{SHARE}.value=1.5")
    assert error.field == "demand.SLE.female" and error.lineno is not None
    origin = ROOT / "scenarios" / "evidence" / "capacity.yaml"
    assert f"(the value of @cap_female_share_sle, set in {origin})" in error.message


def test_money_is_converted_by_multiplying_with_its_factor() -> None:
    """Catches ``v * factors.get(k, 1.0)`` turned into ``/``: a product price in EUR 2023 is put
    in at its value times the factor to EUR 2024, in the base case and in a draw."""
    source = loading.load(NATIONAL)
    factor = source.money_factors()["nat_cost_product"]
    assert factor > 1.01
    keys = next(k for k, name in source.references if name == "nat_cost_product")
    assert keys[-1] == "product"
    base = source.parameters["nat_cost_product"].value
    for values, value in ((None, base), ({"nat_cost_product": 50_000.0}, 50_000.0)):
        costs = source.build(values).arms["cart"].stages[keys[3]].costs
        assert costs["product"] == pytest.approx(value * factor)


def test_a_money_error_of_an_extended_parameter_names_its_file() -> None:
    """Catches ``exc.field or ""`` turned into ``and`` and ``name[0]`` read as ``name[1]`` in
    ``money_factors``: the error names the file that defines the parameter (and the option)."""
    name = "cost_cart_product_academic"
    error = refusal(f"parameters.{name}.currency=GBP")
    assert error.file == str(ROOT / "scenarios" / "evidence" / "costs.yaml")
    assert error.field == f"parameters.{name}.currency"
    assert error.message.endswith(f"(from --set parameters.{name}.currency)")


def test_the_base_case_is_validated_as_written_so_analysis_paths_see_parameter_items() -> None:
    """Catches ``not base_case and self.checked_references(values)`` turned into ``or``: the base
    case built in place has validated parameters instead of the file's mappings, and a scenario
    analysis that changes an item of a parameter's PSA values is refused."""
    analysis = f"{{x: {{description: d, set: {{{SHARE}.psa.values.0: 0.8}}}}}}"
    source = loading.load(
        BASELINE,
        [
            f"{SHARE}.psa={{dist: empirical, values: [0.85, 0.9, 0.95]}}",
            f"scenario_analyses={analysis}",
        ],
    )
    assert list(source.build().scenario_analyses) == ["x"]


def test_references_are_unchecked_when_the_parameters_were_not_validated() -> None:
    """Catches ``parameters.keys() == raw.keys() and all(...)`` turned into ``or``: a source whose
    parameters load did not validate is built by full substitution, parameters and all."""
    loaded = loading.load(BASELINE)
    values = loaded.base_values()
    assert loaded.checked_references(values)
    unvalidated = dataclasses.replace(loaded, parameters={})
    assert not unvalidated.checked_references(values)
    assert unvalidated.build(values).parameters.keys() == loaded.parameters.keys()
    assert not loaded.checked_references({})  # every reference needs a value


def test_a_threshold_price_another_arm_uses_is_refused_by_load() -> None:
    """Catches ``problem[1]``/``problem[0]`` of ``price_reference_problem`` read at other
    indices in ``load``: the field is the price's, the message says why, the option is named."""
    error = refusal("threshold_prices.prices.allo_cart=cost_cart_product_academic", path=THERAPIES)
    assert error.field == "threshold_prices.prices.allo_cart"
    assert error.message.startswith("'cost_cart_product_academic' is not used by arm 'allo_cart'")
    assert error.message.endswith("(from --set threshold_prices.prices.allo_cart)")


def test_an_option_that_puts_a_number_where_a_price_was_referred_to_is_accepted() -> None:
    """``--set`` (or a scenario analysis) replacing the arm's ``"@price"`` by a number is a
    question about that number, not a wrong threshold price: loading goes on."""
    source = loading.load(THERAPIES, ["arms.allo_cart.stages.admission.costs.product=300000"])
    stage = next(s for s in source.build().arms["allo_cart"].stages if s.name == "admission")
    assert stage.costs["product"] == 300000


def test_a_wrong_price_as_written_is_refused_whatever_else_is_set(tmp_path: Path) -> None:
    """A file whose threshold price its arm never refers to is refused even with an unrelated
    ``--set`` (the check looks at the file as written too)."""
    path = tmp_path / "s.yaml"
    path.write_text(
        f"extends: [{THERAPIES}]\n"
        "threshold_prices: {against: cart, prices: {allo_cart: tec_dose_cost}}\n"
    )
    error = refusal("run.seed=3", path=path)
    assert error.field == "threshold_prices.prices.allo_cart" and "not used by arm" in error.message


# --- check_draws: the extremes of each parameter -----------------------------------------------


def test_the_lowest_draw_is_the_quantile_of_the_smallest_uniform() -> None:
    """Catches ``SMALLEST_UNIFORM = 2.0**-53`` made smaller (``4.0**-53``, ``2.0**-106``): a
    normal share 8.2 SD above 0 is accepted (it would be 11.8 SD at 2**-106)."""
    psa = f"{SHARE}.psa={{dist: normal, mean: 0.1, sd: 0.01}}"
    loading.load(BASELINE, [psa, f"{SHARE}.value=0.1"])


def test_the_highest_draw_of_a_parameter_is_checked() -> None:
    """Catches ``max(values)`` turned into ``min``: a share whose highest PSA value exceeds 1
    is refused, naming the value and the side."""
    error = refusal(f"{SHARE}.psa={{dist: normal, mean: 0.9, sd: 0.02}}", f"{SHARE}.value=0.9")
    assert error.field == "demand.SLE.female"
    assert "(with @cap_female_share_sle = 1.064" in error.message
    assert "the highest value probabilistic or one-way analysis can give it" in error.message


# --- validate: the most telling of many problems, and where it is ------------------------------


def refused(data: dict) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        loading.validate(data, "s.yaml")
    return caught.value


def test_an_unknown_field_comes_before_an_unknown_stage_kind() -> None:
    """Catches ``extra_forbidden`` ranked 1 (with the unknown kind) or ``min`` turned into
    ``max``: the shallow unknown field wins over the deeper unknown stage kind."""
    data = scenario_dict()
    data["foo"] = 1
    data["arms"]["cart"]["stages"][2]["kind"] = "nope"
    error = refused(data)
    assert (error.field, error.message) == ("foo", "unknown field")


def test_an_unknown_stage_kind_comes_before_a_missing_field() -> None:
    """Catches ``union_tag_invalid`` ranked 2 (with a missing field): the unknown kind of one
    stage wins over the deeper missing duration of another."""
    data = scenario_dict()
    data["arms"]["cart"]["stages"][2]["kind"] = "nope"
    del data["arms"]["cart"]["stages"][0]["duration"]
    error = refused(data)
    assert error.field == "arms.cart.stages.qc_release"
    assert error.message.startswith("unknown stage kind 'nope'")


def test_a_missing_field_comes_before_a_bad_value() -> None:
    """Catches ``missing`` ranked 4 (after every other problem): the missing capacity wins over
    the deeper duration that is not a number."""
    data = scenario_dict()
    del data["resources"]["ward_bed"]["capacity"]
    data["arms"]["cart"]["stages"][0]["duration"] = "abc"
    error = refused(data)
    assert (error.field, error.message) == ("resources.ward_bed.capacity", "Field required")


def test_a_missing_field_is_named_after_the_stage_kind_is_left_out() -> None:
    """Catches ``position == len(loc) - 1`` changed (``!=``, ``len(loc)``, ``+ 1``, ``- 2``):
    the last part of the location, the missing field, is named; the branch label is not."""
    data = scenario_dict()
    del data["arms"]["cart"]["stages"][0]["duration"]
    error = refused(data)
    assert (error.field, error.message) == ("arms.cart.stages.apheresis.duration", "Field required")


# --- reading a file ----------------------------------------------------------------------------


def test_read_yaml_gives_the_mapping_not_its_lines(tmp_path: Path) -> None:
    """Catches ``read_yaml_lines(path)[0]`` read as ``[1]``."""
    path = tmp_path / "s.yaml"
    path.write_text("run:\n  seed: 3\n", encoding="utf-8")
    assert loading.read_yaml(path) == {"run": {"seed": 3}}


def test_a_file_over_the_size_limit_is_refused_and_one_at_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches ``st_size > MAX_FILE_BYTES`` loosened to ``>=`` and the limit of 5,000,000
    bytes changed."""
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (loading.MAX_FILE_BYTES + 1))
    with pytest.raises(ScenarioError, match="file larger than 5000000 bytes"):
        loading.read_yaml(big)
    at = tmp_path / "at.yaml"
    at.write_text("run: {seed: 3}\n", encoding="utf-8")
    monkeypatch.setattr(loading, "MAX_FILE_BYTES", at.stat().st_size)
    assert loading.read_yaml(at) == {"run": {"seed": 3}}


def test_an_unreadable_file_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches ``exc.strerror or exc`` turned into ``and``: the reason, not the raw exception."""
    path = tmp_path / "s.yaml"
    path.write_text("run: {}\n", encoding="utf-8")

    def denied(*_: object, **__: object) -> str:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ScenarioError) as caught:
        loading.read_yaml(path)
    assert caught.value.message == "cannot read: Permission denied"
