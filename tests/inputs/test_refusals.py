"""``check`` is the contract: every input ``run`` cannot use is refused in one line, exit 2."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import BASELINE, scenario_dict, sites_dict
from typer.testing import CliRunner

from cartsim.cli import app
from cartsim.inputs import loading
from cartsim.inputs.errors import ScenarioError

runner = CliRunner()


def check(path: Path, *sets: str) -> tuple[int, str]:
    """Exit code and the error (or ok) line of ``cartsim check`` run in-process."""
    args = ["check", str(path)]
    for assignment in sets:
        args += ["--set", assignment]
    result = runner.invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: the test fails with it
    return result.exit_code, result.output.strip()


def refused(path: Path, *sets: str) -> str:
    code, output = check(path, *sets)
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 2, output
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


def write(tmp_path: Path, data: dict[str, Any] | str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


STAGE = "arms.cart.stages"
SET_CASES = [
    ("run.horizon_days=.inf", "run.horizon_days", "finite"),
    ("run.horizon_days=.nan", "run.horizon_days", "finite"),
    ("run.horizon_days=1e9", "run.horizon_days", "36525"),
    ("run.arrival_window_days=1e308", "run.arrival_window_days", "36525"),
    ("demand.SLE.rate_per_year=.inf", "demand.SLE.rate_per_year", "finite"),
    ("demand.SLE.rate_per_year=[]", "demand.SLE.rate_per_year", ""),
    ("demand.SLE.rate_per_year=[5, 5, 5]", "demand.SLE.rate_per_year", "one rate per year"),
    ("demand.SLE.rate_per_year=yes", "demand.SLE.rate_per_year", ""),
    ("demand.SLE.rate_per_year=1:30", "demand.SLE.rate_per_year", ""),
    ("demand.SLE.rate_per_year=0x10", "demand.SLE.rate_per_year", ""),
    ("demand.SLE.rate_per_year='12'", "demand.SLE.rate_per_year", ""),
    ("demand.SLE.age=.nan", "demand.SLE.age", ""),
    ("demand.SLE.age=-4", "demand.SLE.age", "years"),
    ("demand.SLE.age={dist: normal, mean: 40, sd: 30}", "demand.SLE.age", "below 0"),
    (f"{STAGE}.manufacturing.duration=90000", "manufacturing.duration", "3650 days"),
    (f"{STAGE}.manufacturing.duration=-1", "manufacturing.duration", "days"),
    (f"{STAGE}.manufacturing.duration=.nan", "manufacturing.duration", ""),
    (
        f"{STAGE}.manufacturing.duration={{dist: normal, mean: 13, sd: 5}}",
        "manufacturing.duration",
        "probability 0.00466 below 0",
    ),
    (f"{STAGE}.manufacturing.kind=bogus", "manufacturing", "unknown stage kind"),
    (f"{STAGE}.manufacturing.costs={{total: 5}}", "costs.total", "reserved"),
    (f"{STAGE}.manufacturing.costs={{undiscounted: 5}}", "costs.undiscounted", "reserved"),
    ("run.start_date=2026-02-30", "run.start_date", "2026-02-30"),
    ("run.replications=yes", "run.replications", ""),
    ("run.replications=2.5", "run.replications", ""),
    ("resources.manufactring.capacity=2", "resources.manufactring", "no such item"),
    ("resources.manufacturing.capacty=2", "resources.manufacturing.capacty", "no such field"),
    ("resources.apheresis.calendar.open_days=[]", "calendar", "at least one weekday"),
    ("resources.apheresis.calendar.hours=[8, 8]", "calendar", "open before"),
    ("waiting.dropout_hazard_per_day={XYZ: 0.1}", "waiting.dropout_hazard_per_day.XYZ", "unknown"),
    ("disease_course={XYZ: {utility_active: 0.5, utility_remission: 0.8}}", "XYZ", "unknown"),
    ("arms.cart.eligibility.max_age=1e9", "max_age", ""),
    ("waiting.dropout_hazard_per_day=.inf", "dropout_hazard_per_day", ""),
]


@pytest.mark.parametrize(("assignment", "field", "needle"), SET_CASES)
def test_bad_values_are_refused_naming_the_field(
    tmp_path: Path, assignment: str, field: str, needle: str
) -> None:
    path = write(tmp_path, scenario_dict())
    line = refused(path, assignment)
    assert field in line and needle in line, line


def test_a_valid_scenario_passes(tmp_path: Path) -> None:
    code, output = check(write(tmp_path, scenario_dict()))
    assert code == 0 and output.startswith("ok:"), output


def test_a_yearly_rate_list_must_cover_the_window(tmp_path: Path) -> None:
    path = write(tmp_path, scenario_dict())
    line = refused(path, "run.arrival_window_days=730", "run.horizon_days=800",
                   "demand.SLE.rate_per_year=[5]")  # fmt: skip
    assert "1 yearly rate(s)" in line and "2 started year(s)" in line, line
    assert check(path, "demand.SLE.rate_per_year=[5]")[0] == 0


def test_a_calendar_that_never_opens_is_refused(tmp_path: Path) -> None:
    first = dt.date(2026, 1, 5)
    closed = [str(first + dt.timedelta(days=k)) for k in range(400)]
    calendar = {"open_days": ["mon", "wed"], "closed_dates": closed}
    data = scenario_dict(resources={"apheresis": {"capacity": 1, "calendar": calendar}})
    line = refused(write(tmp_path, data))
    assert "calendar" in line and "closed" in line and "365 days" in line, line
    data["resources"]["apheresis"]["calendar"]["closed_dates"] = closed[:300]  # 300 days: fine
    assert check(write(tmp_path, data))[0] == 0


def test_an_arm_named_service_is_refused(tmp_path: Path) -> None:
    data = scenario_dict()
    data["arms"]["service"] = data["arms"].pop("cart")
    assert "reserved" in refused(write(tmp_path, data))


def test_a_stock_dose_that_is_also_booked_is_refused(tmp_path: Path) -> None:
    data = scenario_dict()
    stage = next(s for s in data["arms"]["cart"]["stages"] if s["kind"] == "activity")
    later = data["arms"]["cart"]["stages"][-1]["name"]
    stage.update(restock_days=30, hold_until=later)
    line = refused(write(tmp_path, data))
    assert "restock_days" in line and "hold_until" in line and stage["name"] in line, line
    assert f"{stage['name']}.activity" not in line, line  # the stage kind is not a field


def test_parameter_low_above_high_is_refused(tmp_path: Path) -> None:
    data = scenario_dict(parameters={"p": {"value": 1, "unit": "days", "source": "x",
                                           "status": "E", "low": 3, "high": 2}})  # fmt: skip
    line = refused(write(tmp_path, data))
    assert "parameters.p" in line and "low" in line, line


def test_routing_shares_above_one_are_refused(tmp_path: Path) -> None:
    data = scenario_dict(comparison="service_mix")
    data["arms"]["other"] = data["arms"]["cart"]
    data["referral_policy"] = {"default": "cart", "rules": [
        {"arm": "other", "diseases": ["SLE"], "share": 0.7},
        {"arm": "cart", "share": 0.4}]}  # fmt: skip
    line = refused(write(tmp_path, data))
    assert "referral_policy.rules" in line and "1.1" in line, line


YAML_CASES = [
    ("name: x\nname: y\n", "repeated key"),
    ("a: &a [*a]\n", "recursive"),
    ("a: " + "[" * 10_000 + "]" * 10_000 + "\n", "nest"),
    ("? [a, b]\n: 1\n", "plain name"),
    ("a0: &a0 " + "[" * 50 + "1" + "]" * 50 + "\na1: " + "[" * 50 + "*a0" + "]" * 50, "nest"),
    (
        "l0: &l0 [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n"
        + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9)),
        "alias bomb",
    ),  # fmt: skip
    ("a: [1, 2\n", "malformed"),
    ("- 1\n- 2\n", "mapping"),
    ("a: !!python/object:os.system ls\n", ""),
]


@pytest.mark.parametrize(("text", "needle"), YAML_CASES)
def test_yaml_oddities_are_refused_in_one_line(tmp_path: Path, text: str, needle: str) -> None:
    line = refused(write(tmp_path, text))
    assert needle in line, line


def test_yaml_11_words_are_text_not_booleans_or_numbers(tmp_path: Path) -> None:
    data = yaml.safe_dump(scenario_dict()).replace("female: 0.9", "female: yes")
    line = refused(write(tmp_path, data))
    assert "demand.SLE.female" in line, line


def test_errors_name_the_line_even_in_an_extended_file(tmp_path: Path) -> None:
    base = yaml.safe_dump(scenario_dict(), sort_keys=False).replace("duration: 13", "duration: -3")
    write(tmp_path, base, "base.yaml")
    top = write(tmp_path, "extends: base.yaml\nname: top\n", "top.yaml")
    line = refused(top)
    number = next(i for i, t in enumerate(base.splitlines(), 1) if "duration: -3" in t)
    assert line.startswith(f"error: {tmp_path / 'base.yaml'}:{number}: "), line
    assert "arms.cart.stages.manufacturing.duration" in line, line


def test_unreadable_and_looping_files_give_one_line(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    assert "loop.yaml" in refused(loop)
    top = write(tmp_path, "extends: loop.yaml\nname: x\n", "top.yaml")
    assert "extends" in refused(top)


def test_a_scenario_too_big_for_memory_is_refused_fast(tmp_path: Path) -> None:
    path = write(tmp_path, scenario_dict())
    started = time.perf_counter()
    line = refused(path, "demand.SLE.rate_per_year=[1e7, 1e7, 1e7, 1e7, 1e7]",
                   "run.arrival_window_days=1826", "run.horizon_days=2000")  # fmt: skip
    assert time.perf_counter() - started < 2.0
    assert "GiB" in line and "limit" in line and "run.memory_limit_gb" in line, line


def test_the_memory_limit_can_be_raised_on_purpose(tmp_path: Path) -> None:
    path = write(tmp_path, scenario_dict())
    big = "demand.SLE.rate_per_year=1e8"
    assert "limit of 1.0 GiB" in refused(path, big, "run.memory_limit_gb=1")
    code, output = check(path, big, "run.memory_limit_gb=1e6")
    assert code == 0, output


def test_a_million_referrals_pass_check(tmp_path: Path) -> None:
    path = write(tmp_path, scenario_dict())
    code, output = check(path, "demand.SLE.rate_per_year=1e6", "run.replications=1")
    assert code == 0, output


def test_a_misspelt_path_in_set_is_not_a_new_item() -> None:
    with pytest.raises(ScenarioError, match="no such item"):
        loading.load(BASELINE, ["resources.manufactring.capacity=2"])
    source = loading.load(BASELINE, ["resources.manufacturing.capacity=2"])
    assert source.build().resources["manufacturing"].capacity == 2


def test_a_parameter_that_analyses_can_draw_out_of_range_is_refused(tmp_path: Path) -> None:
    param = {"value": 13, "unit": "days", "source": "x", "status": "E",
             "psa": {"dist": "normal", "mean": 13, "sd": 3}}  # fmt: skip
    data = scenario_dict(parameters={"mfg": param})
    data["arms"]["cart"]["stages"][1]["duration"] = "@mfg"
    line = refused(write(tmp_path, data))
    assert "@mfg" in line and "lowest" in line and "manufacturing.duration" in line, line
    data["parameters"]["mfg"]["psa"] = {"dist": "lognormal", "mean": 13, "sd": 3}
    assert check(write(tmp_path, data))[0] == 0
    data["parameters"]["mfg"].update(low=-1, high=20)  # a one-way range below 0
    assert "@mfg = -1" in refused(write(tmp_path, data))


def test_a_site_without_referrals_must_still_resolve_its_resources(tmp_path: Path) -> None:
    """A site with no catchment is planned like the others: a resource it lacks is named."""
    data = sites_dict()
    data["sites"]["east"] = {}  # a catchment of 0, no resources of its own
    line = refused(write(tmp_path, data))
    assert "site 'east'" in line and "apheresis" in line, line


@pytest.mark.parametrize("name", ["", "north east", "1st"])
def test_a_site_name_that_cannot_be_part_of_a_resource_name_is_refused(
    tmp_path: Path, name: str
) -> None:
    data = sites_dict()
    data["sites"][name] = data["sites"].pop("south")
    assert "site name" in refused(write(tmp_path, data))


@pytest.mark.parametrize("where", ["national", "site"])
def test_a_resource_name_with_a_dot_is_refused(tmp_path: Path, where: str) -> None:
    data = sites_dict()
    owner = data if where == "national" else data["sites"]["north"]
    owner["resources"]["north.apheresis"] = {"capacity": 5}
    line = refused(write(tmp_path, data))
    assert "north.apheresis" in line and "'.'" in line, line


def test_a_transport_leg_without_sites_is_refused(tmp_path: Path) -> None:
    data = scenario_dict()
    stages = data["arms"]["cart"]["stages"]
    stages.insert(1, {"name": "ship", "kind": "transport", "from": "apheresis",
                      "to": "manufacturing", "duration": 2})  # fmt: skip
    line = refused(write(tmp_path, data))
    assert f"{STAGE}.ship" in line and "needs sites" in line, line


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"to": "apheresis"}, "to itself"),
        ({"dispatch_days": ["mon", "mon", "tue"]}, "twice"),
    ],
)
def test_a_transport_leg_that_cannot_mean_anything_is_refused(
    tmp_path: Path, change: dict[str, Any], needle: str
) -> None:
    data = sites_dict()
    leg = next(s for s in data["arms"]["cart"]["stages"] if s["kind"] == "transport")
    leg.update(change)
    line = refused(write(tmp_path, data))
    assert needle in line and leg["name"] in line, line


def test_a_stock_that_restocks_at_once_is_refused(tmp_path: Path) -> None:
    data = scenario_dict()
    stage = next(s for s in data["arms"]["cart"]["stages"] if s["kind"] == "activity")
    stage["restock_days"] = 0
    line = refused(write(tmp_path, data))
    assert "restock_days" in line and stage["name"] in line, line


@pytest.mark.parametrize("share", [-0.15, 1.4, "40%", True])
def test_a_bad_single_catchment_share_is_named_as_a_share(tmp_path: Path, share: Any) -> None:
    data = sites_dict()
    data["sites"]["north"]["catchment"] = share
    line = refused(write(tmp_path, data))
    assert "sites.north.catchment" in line and "not a share between 0 and 1" in line, line


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("hold_until", "nowhere", "hold_until"),
        ("failure", {"probability": 0.1, "back_to": "nowhere"}, "failure.back_to"),
    ],
)
def test_a_stage_reference_mistake_names_the_stage_field_and_its_line(
    tmp_path: Path, field: str, value: Any, path: str
) -> None:
    data = scenario_dict()
    stage = next(s for s in data["arms"]["cart"]["stages"] if s["kind"] == "activity")
    stage[field] = value
    file = write(tmp_path, data)
    line = refused(file)
    lineno = next(n for n, text in enumerate(file.read_text().splitlines(), 1) if "nowhere" in text)
    assert f"{file}:{lineno}: {STAGE}.{stage['name']}.{path}:" in line, line


def test_a_dose_back_before_its_stage_ends_is_refused(tmp_path: Path) -> None:
    data = scenario_dict()
    stage = next(s for s in data["arms"]["cart"]["stages"] if s["kind"] == "activity")
    stage.update(duration=10, restock_days=1)
    line = refused(write(tmp_path, data))
    assert f"{STAGE}.{stage['name']}.restock_days" in line and "shorter" in line, line


def test_a_whole_made_wrong_by_a_set_names_the_set(tmp_path: Path) -> None:
    """The catchment shares sum wrong only after ``--set`` changed one: both are named."""
    line = refused(write(tmp_path, sites_dict()), "sites.north.catchment=0.7")
    assert "sites: the catchment shares" in line and "after --set sites.north.catchment" in line


def test_a_misspelt_kpi_gets_the_nearest_names(tmp_path: Path) -> None:
    line = refused(BASELINE, "target={metric: p90_vein_to_vein, arm: cart, at_most: 35}")
    assert "unknown KPI 'p90_vein_to_vein'; did you mean p90_vein_to_vein_days?" in line, line


def test_an_unknown_kpi_lists_the_known_ones_folded_by_resource(tmp_path: Path) -> None:
    """A service of sites has many resources: their KPIs are named once as a family."""
    path = write(tmp_path, sites_dict())
    line = refused(path, "target={metric: nonsense, arm: cart, at_most: 35}")
    assert "unknown KPI 'nonsense'; known: " in line and "p90_vein_to_vein_days" in line, line
    assert "utilisation_<resource>" in line and "north.ward_bed" in line, line
    assert "utilisation_north.ward_bed" not in line and len(line) < 1000, line
