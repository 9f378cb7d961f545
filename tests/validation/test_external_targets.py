"""External validation: targets as data, survival at fixed times, verdicts and ``cartsim validate``.

The rule that separates validation from verification is tested here too: no input parameter of
a shipped scenario may come from a target's publication unless the target declares it (another
figure of the same trial), and no such input may quote the target's own figure.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from builders import ROOT, assert_user_error, cartsim

from cartsim.decide.validation import (
    Target,
    default_targets_path,
    load_targets,
    position,
    report_rows,
    validation_table,
    verdict,
)
from cartsim.evaluate.survival import Cohort, share_by_replication
from cartsim.inputs import loading
from cartsim.inputs.errors import CartsimError

TARGETS = load_targets()
TARGETS_PATH = default_targets_path()
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
NAN = math.nan


# --- verdicts on synthetic intervals ---------------------------------------------------------


@pytest.mark.parametrize(
    ("sim", "target", "where", "says"),
    [
        ((0.70, 0.75), (0.66, 0.80), "inside", "consistent"),
        ((0.60, 0.70), (0.66, 0.80), "overlaps", "consistent"),
        ((0.50, 0.90), (0.66, 0.80), "overlaps", "consistent"),  # target inside a wide sim
        ((0.80, 0.85), (0.66, 0.80), "overlaps", "consistent"),  # touching counts as overlap
        ((0.81, 0.90), (0.66, 0.80), "above", "outside"),
        ((0.40, 0.65), (0.66, 0.80), "below", "outside"),
        ((NAN, NAN), (0.66, 0.80), "unknown", "not estimable"),
    ],
)
def test_verdict_compares_the_intervals(sim, target, where, says) -> None:
    assert position(sim, target) == where
    assert verdict(sim, target) == says


def _target(**changes: object) -> Target:
    base = TARGETS[0].model_dump()
    base.update(changes)
    return Target.model_validate(base)


def test_verdict_uses_the_interval_not_the_mean() -> None:
    """A mean outside the target with an interval reaching into it is consistent, and back."""
    target = _target(id="t", value=0.73, interval=(0.66, 0.80))
    wide = np.array([0.50, 0.95, 0.55, 0.90])  # mean 0.725 but t-interval far wider
    narrow_off = np.full(10, 0.82) + np.linspace(-0.005, 0.005, 10)  # mean 0.82, tight
    near = np.array([0.78, 0.86, 0.80, 0.84])  # mean 0.82, interval reaches 0.80
    table = validation_table(
        [target, target.model_copy(update={"id": "u"}), target.model_copy(update={"id": "v"})],
        {"t": wide, "u": narrow_off, "v": near},
    )
    assert list(table["verdict"]) == ["consistent", "outside", "consistent"]
    assert list(table["position"]) == ["overlaps", "above", "overlaps"]


def test_a_passed_and_a_failed_target_both_show_and_nothing_is_dropped() -> None:
    inside = _target(id="passes", value=0.73, interval=(0.66, 0.80))
    outside = _target(id="fails", value=0.50, interval=(0.33, 0.67))
    missing = _target(id="no_arm")
    sims = {"passes": np.array([0.72, 0.74, 0.73]), "fails": np.array([0.90, 0.92, 0.91])}
    table = validation_table([inside, outside, missing], {**sims, "no_arm": None})
    assert list(table["target"]) == ["passes", "fails", "no_arm"]
    assert list(table["verdict"]) == ["consistent", "outside", "not applicable"]
    row = table.set_index("target").loc["fails"]
    assert row["simulated"] == pytest.approx(0.91)
    assert row["simulated_low"] > row["target_high"]


def test_report_rows_name_the_advishe_item_of_each_target() -> None:
    independent = _target(id="own")
    shared = _target(id="shared", shares_source_with={"ahsct_trm_ssc": "another figure"})
    table = validation_table([independent, shared], {"own": np.array([0.95, 0.97, 0.96])})
    rows = report_rows(table)
    assert [r["target"] for r in rows] == ["own", "shared"]
    assert rows[0]["AdViSHE item"].startswith("D5") and rows[1]["AdViSHE item"].startswith("D4")
    assert rows[0]["verdict"] == "consistent (inside)"
    assert rows[1]["verdict"] == "not applicable (—)" and rows[1]["simulated (95% CI)"] == "—"


# --- survival at a fixed time ----------------------------------------------------------------


def _patients() -> pd.DataFrame:
    """Two replications of hand-made patients (days); warm-up 100, horizon 10 years."""
    rows = [
        # rep, arrival, status, treatment, death, response, relapse, age
        (0, 200, "completed", 250, 200 + 300, True, NAN, 40),  # dies 300 d after referral
        (0, 200, "completed", 250, NAN, True, 250 + 200, 40),  # alive, relapses at 200 d
        (0, 200, "completed", 250, 200 + 3000, False, NAN, 40),  # alive at 1 y, no response
        (0, 200, "completed", 250, 200 + 365.25, True, NAN, 40),  # dies exactly at 1 y
        (0, 50, "completed", 60, 55, True, NAN, 40),  # warm-up: not counted
        (0, 200, "not_eligible", NAN, 300, False, NAN, 40),  # never entered the arm
        (0, 200, "in_progress", NAN, NAN, False, NAN, 40),  # pathway not over
        (0, 200, "completed", 250, 210, True, NAN, 70),  # too old for the band
        (1, 300, "dropped_out", NAN, NAN, False, NAN, 30),  # untreated, alive
        (1, 300, "completed", 320, 500, True, NAN, 30),  # dies at 200 d
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "replication",
            "arrival_day",
            "status",
            "treatment_day",
            "death_day",
            "response",
            "relapse_day",
            "age",
        ],
    )
    frame["arm"], frame["disease"] = "x", "SSc"
    return frame


def _share(measure: str, origin: str = "referral", response_model: bool = True, **kw: object):
    cohort = Cohort("x", "SSc", origin, max_age=65)  # type: ignore[arg-type]
    options = {"warmup_days": 100.0, "horizon_years": 10.0, "replications": 2, **kw}
    return share_by_replication(
        _patients(),
        cohort,
        measure,  # type: ignore[arg-type]
        365.25,
        response_model=response_model,
        **options,  # type: ignore[arg-type]
    )


def test_overall_survival_counts_the_right_patients() -> None:
    # rep 0: 4 counted (warm-up, not eligible, in progress, too old left out); alive: 2 of 4
    # (death at exactly 1 y is not alive at 1 y). rep 1: dropped out alive, death at 200 d.
    np.testing.assert_allclose(_share("overall_survival"), [2 / 4, 1 / 2])


def test_event_free_survival_ends_with_relapse_and_non_response() -> None:
    np.testing.assert_allclose(_share("event_free_survival"), [0 / 4, 0 / 2])
    # without a response model only death and relapse end event-free time
    np.testing.assert_allclose(_share("event_free_survival", response_model=False), [1 / 4, 1 / 2])


def test_origin_treatment_counts_treated_patients_from_their_treatment_day() -> None:
    # rep 0 treated: deaths at 250 d, never, 2950 d and 315.25 d after treatment -> 2 of 4;
    # rep 1: the dropped-out patient is not treated; the other dies 180 d after treatment.
    np.testing.assert_allclose(_share("overall_survival", origin="treatment"), [2 / 4, 0 / 1])


def test_a_time_beyond_the_outcome_horizon_has_no_denominator() -> None:
    shares = _share("overall_survival", horizon_years=0.5)
    assert np.isnan(shares).all()
    np.testing.assert_allclose(_share("overall_survival", horizon_years=None), [2 / 4, 1 / 2])


# --- the targets file --------------------------------------------------------------------------


def test_the_shipped_file_holds_enough_sourced_targets() -> None:
    assert len(TARGETS) >= 8
    for t in TARGETS:
        assert t.source.doi and t.source.doi.startswith("10."), t.id
        assert re.search(r"(19|20)\d\d", t.source.citation), t.id
    for t in TARGETS:  # the scenario a target was written for has its arms
        scenario = loading.load(ROOT / "scenarios" / f"{t.scenario}.yaml").build()
        assert set(t.arms) <= set(scenario.arms), t.id
        assert t.disease in scenario.demand, t.id
    measures = {(t.disease, t.measure) for t in TARGETS}
    assert ("SSc", "overall_survival") in measures
    assert ("SSc", "overall_survival_difference") in measures
    assert ("SLE", "overall_survival") in measures


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d["targets"][0].update(interval=[0.9, 0.8]), "targets.0"),
        (lambda d: d["targets"][0].update(value=0.2), "value 0.2 outside"),
        (lambda d: d["targets"][0].pop("source"), "targets.0.source"),
        (lambda d: d["targets"][0].update(measure="median_survival"), "measure"),
        (lambda d: d["targets"][1].update(id=d["targets"][0]["id"]), "duplicate target id"),
        (lambda d: d["targets"][0].update(arms=["ahsct", "soc"]), "two arms"),
    ],
)
def test_a_malformed_target_is_one_line_naming_the_file_and_field(tmp_path, change, needle):
    data = yaml.safe_load(TARGETS_PATH.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CartsimError) as caught:
        load_targets(path)
    line = caught.value.line()
    assert "\n" not in line and str(path) in line and needle in line, line


def test_targets_that_are_not_yaml_give_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("targets:\n  - id: a\n    value: [1, 2\n", encoding="utf-8")
    with pytest.raises(CartsimError, match=r"line \d+: not valid YAML"):
        load_targets(path)


# --- validation, not verification: no target figure is an input ------------------------------


def _mentions(text: str, target: Target) -> bool:
    low = text.lower()
    keys = [*target.source.keys, *([target.source.doi] if target.source.doi else [])]
    return any(k.lower() in low for k in keys)


def _quotes(text: str, value: float) -> bool:
    """Whether ``text`` quotes ``value`` as a survival figure: a percentage (73%) or a
    two-decimal share (0.73) within 40 characters of a survival word (survival, EFS, OS)."""
    number = rf"(?<![\d.])(?:{re.escape(f'{value * 100:g}')}\s?%|{re.escape(f'{value:.2f}')}(?!\d))"
    word = r"(?:surviv|\bEFS|\bOS\b|event-free)"
    near = rf"{word}.{{0,40}}?{number}|{number}.{{0,40}}?{word}"
    return re.search(near, text, flags=re.IGNORECASE | re.DOTALL) is not None


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_no_input_is_taken_from_a_target_unless_declared(scenario: Path) -> None:
    source = loading.load(scenario)
    used = {name: source.parameters[name] for name in source.used_parameters()}
    for target in TARGETS:
        sharing = {n for n, p in used.items() if _mentions(p.source, target)}
        undeclared = sharing - set(target.shares_source_with)
        assert not undeclared, f"{target.id}: inputs {sorted(undeclared)} share its source"
        for name in sharing:
            p = used[name]
            text = " ".join(x for x in (p.evidence, p.note, p.description) if x)
            if target.value is not None:
                assert not _quotes(text, target.value), f"{target.id}: {name} quotes its figure"


def test_declared_shared_inputs_exist_and_cite_the_source() -> None:
    """A declaration that no longer matches the evidence files is stale: fix it."""
    source = loading.load(ROOT / "scenarios" / "cart_vs_asct.yaml")
    for target in TARGETS:
        for name in target.shares_source_with:
            assert name in source.parameters, f"{target.id}: no parameter {name}"
            assert _mentions(source.parameters[name].source, target), (target.id, name)


def test_the_independence_check_can_fail() -> None:
    """SCOT's transplant-arm 54-month event-free survival (79%) is what ahsct_response_ssc was
    derived from: as a target it would be caught. Round numbers elsewhere are not."""
    scot = next(t for t in TARGETS if t.id == "scot_cy_os_72m")
    assert _mentions("[R21] Sullivan KM et al. NEJM 2018 (SCOT)", scot)
    response = loading.load(ROOT / "scenarios" / "cart_vs_asct.yaml").parameters[
        "ahsct_response_ssc"
    ]
    text = " ".join(x for x in (response.evidence, response.note) if x)
    assert _quotes(text, 0.79)
    assert _quotes("overall survival 51% at 72 months", 0.51)
    assert _quotes("EFS54 0.50 in the control arm", 0.5)
    assert not _quotes("overall survival 0.515, 151%", 0.51)
    assert not _quotes("Gamma k=4 (CV 50%)", 0.5)


# --- the command end to end --------------------------------------------------------------------


def test_validate_writes_every_target_row(tmp_path: Path) -> None:
    out = tmp_path / "val"
    result = cartsim(
        "validate",
        str(ROOT / "scenarios" / "cart_vs_asct.yaml"),
        "--out",
        str(out),
        "--replications",
        "2",
        "--seed",
        "5",
        "--workers",
        "1",
        "--set",
        "run.arrival_window_days=730",
        "--set",
        "run.horizon_days=900",
        "--set",
        "run.warmup_days=90",
    )
    assert result.returncode == 0, result.stderr
    table = pd.read_parquet(out / "validation.parquet")
    assert list(table["target"]) == [t.id for t in TARGETS]
    for column in ("scenario", "arms", "measure", "time_months", "origin", "simulated"):
        assert column in table.columns
    for column in ("simulated_low", "simulated_high", "target_low", "target_high", "verdict"):
        assert column in table.columns
    assert set(table["verdict"]) <= {"consistent", "outside", "not estimable"}
    assert (table["n_replications"] == 2).all()
    for t in TARGETS:
        assert t.id[:14] in result.stdout


def test_validate_keeps_targets_whose_arms_are_missing(tmp_path: Path) -> None:
    out = tmp_path / "val"
    result = cartsim(
        "validate",
        str(ROOT / "scenarios" / "baseline.yaml"),
        "--out",
        str(out),
        "--replications",
        "2",
        "--workers",
        "1",
        "--set",
        "run.arrival_window_days=400",
        "--set",
        "run.horizon_days=500",
        "--set",
        "run.warmup_days=30",
    )
    assert result.returncode == 0, result.stderr
    table = pd.read_parquet(out / "validation.parquet")
    assert len(table) == len(TARGETS)
    assert (table["verdict"] == "not applicable").all()  # baseline has only a CAR-T arm


def test_validate_with_a_malformed_target_file_is_exit_2_and_writes_nothing(tmp_path) -> None:
    bad = tmp_path / "targets.yaml"
    bad.write_text(yaml.safe_dump({"targets": [{"id": "x"}]}), encoding="utf-8")
    out = tmp_path / "val"
    result = cartsim("validate", "--targets", str(bad), "--out", str(out))
    assert_user_error(result, str(bad), "targets.0", "target x, line 2")
    assert not out.exists()
