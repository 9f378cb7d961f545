"""The command line end to end: runs, validation, and one-line errors for user mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from builders import BASELINE, ROOT, assert_user_error, cartsim, scenario_dict


def test_run_writes_the_output_contract(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cartsim("run", str(BASELINE), "--out", str(out), "--replications", "2", "--seed", "3")
    assert result.returncode == 0, result.stderr
    for name in ("events", "patients", "resources", "kpis"):
        assert (out / f"{name}.parquet").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["replications"] == 2
    assert any(k.endswith("baseline.yaml") for k in manifest["scenario_files"])
    events = pd.read_parquet(out / "events.parquet")
    assert list(events.columns) == [
        "replication",
        "arm",
        "patient_id",
        "stage",
        "event",
        "time",
        "resource",
    ]
    kpis = pd.read_parquet(out / "kpis.parquet")
    assert list(kpis.columns) == ["arm", "metric", "mean", "ci_low", "ci_high", "n_replications"]
    patients = pd.read_parquet(out / "patients.parquet")
    for column in (
        "patient_id",
        "disease",
        "age",
        "arrival_day",
        "status",
        "treatment_day",
        "wait_days",
        "vein_to_vein_days",
        "inpatient_days",
        "icu_days",
    ):
        assert column in patients.columns
    assert "vein-to-vein" in result.stdout and "utilisation" in result.stdout


def test_check_accepts_the_shipped_scenarios() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        result = cartsim("check", str(path))
        assert result.returncode == 0, result.stderr


def test_schema_is_json() -> None:
    result = cartsim("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert "arms" in schema["properties"]


def test_set_overrides_a_field(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cartsim(
        "run",
        str(BASELINE),
        "--out",
        str(out),
        "--replications",
        "1",
        "--no-report",
        "--set",
        "resources.manufacturing.capacity=unlimited",
        "--set",
        "arms.cart.stages.manufacturing.duration=10",
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["resources"]["manufacturing"]["capacity"] == "unlimited"
    stages = manifest["scenario"]["arms"]["cart"]["stages"]
    assert stages[1]["duration"] == 10


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        (scenario_dict(colour="red"), ("scenario.yaml", "colour", "unknown field")),
        (
            scenario_dict(resources={"apheresis": {"capacity": -1}}),
            ("resources.apheresis.capacity",),
        ),
        (
            scenario_dict(demand={"SLE": {"age": {"dist": "normal", "mean": 40, "sd": -3}}}),
            ("demand.SLE.age", "sd"),
        ),
        ("name: x\narms: [unclosed\n", ("scenario.yaml", "malformed YAML", "line")),
        (
            "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
            "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
            "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
            "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
            ("scenario.yaml", "alias"),
        ),
        (
            scenario_dict(
                arms={
                    "cart": {
                        "vein_to_vein_from": None,
                        "stages": [
                            {"name": "x", "kind": "activity", "resource": "nowhere", "duration": 1}
                        ],
                    }
                }
            ),
            ("nowhere",),
        ),
        ("extends: missing.yaml\nname: x\n", ("missing.yaml", "extends")),
        (
            scenario_dict(demand={"SLE": {"rate_per_year": "@nope"}}),
            ("@nope", "demand.SLE.rate_per_year"),
        ),
    ],
    ids=[
        "unknown-key",
        "negative-capacity",
        "impossible-distribution",
        "malformed-yaml",
        "alias-bomb",
        "unknown-resource",
        "missing-extends",
        "unknown-parameter",
    ],
)
def test_bad_input_gives_one_line_and_exit_2(write_yaml, content, needles) -> None:
    path = write_yaml(content)
    for command in ("check", "run"):
        result = (
            cartsim(command, str(path), "--out", str(path.parent / "out"))
            if command == "run"
            else cartsim(command, str(path))
        )
        assert_user_error(result, *needles)


def test_missing_file_gives_one_line(tmp_path: Path) -> None:
    assert_user_error(cartsim("run", str(tmp_path / "nope.yaml")), "nope.yaml", "not found")


def test_bad_set_gives_one_line() -> None:
    assert_user_error(cartsim("check", str(BASELINE), "--set", "run.nothing.here=1"), "run.nothing")
    assert_user_error(
        cartsim("check", str(BASELINE), "--set", "run.replications=-4"), "run.replications"
    )


def test_failed_run_leaves_earlier_results_untouched(tmp_path: Path, write_yaml) -> None:
    out = tmp_path / "run"
    ok = cartsim("run", str(BASELINE), "--out", str(out), "--replications", "1", "--no-report")
    assert ok.returncode == 0, ok.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = write_yaml(scenario_dict(colour="red"))
    assert_user_error(cartsim("run", str(bad), "--out", str(out)))
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert before == after


def test_incoherent_grade_risks_are_rejected(write_yaml) -> None:
    crs = {"any": 0.5, "grade2_plus": 0.1, "grade3_plus": 0.3}
    path = write_yaml(scenario_dict(arms={"cart": {"adverse_events": {"crs": crs}}}))
    assert_user_error(cartsim("check", str(path)), "adverse_events.crs", "grade3_plus")


def test_run_refuses_to_mix_two_runs_in_one_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = cartsim("run", str(BASELINE), "--out", str(out), "--replications", "1", "--no-report")
    assert first.returncode == 0, first.stderr
    assert_user_error(cartsim("run", str(BASELINE), "--out", str(out)), "--overwrite")
    again = cartsim(
        "run", str(BASELINE), "--out", str(out), "--replications", "1", "--no-report", "--overwrite"
    )
    assert again.returncode == 0, again.stderr


def test_usage_mistakes_are_one_line(tmp_path: Path) -> None:
    assert_user_error(cartsim("run", "--replications", "0"), "--replications")
    assert_user_error(cartsim("check"), "scenario")
    assert_user_error(cartsim("check", str(ROOT / "scenarios")), "folder")


def test_unknown_sweep_target_is_rejected_before_running(tmp_path: Path, write_yaml) -> None:
    path = write_yaml(
        "extends: [" + str(BASELINE) + "]\ntarget: {metric: p90_v2v, arm: cart, at_most: 35}\n"
    )
    out = tmp_path / "sweep"
    result = cartsim(
        "sweep", str(path), "--vary", "resources.ward_bed.capacity=1,2", "--out", str(out)
    )
    assert_user_error(result, "target.metric", "p90_v2v")
    assert not out.exists()


def test_a_wrong_sweep_value_names_vary_not_set(tmp_path: Path) -> None:
    """A grid value the schema refuses is blamed on ``--vary``, the option that gave it."""
    out = tmp_path / "sweep"
    vary = "resources.ward_bed.capacity=1,-2"
    result = cartsim("sweep", str(BASELINE), "--vary", vary, "--out", str(out))
    assert_user_error(result, "resources.ward_bed.capacity", "--vary")
    assert "--set" not in result.stderr
    assert not out.exists()
