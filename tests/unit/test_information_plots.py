"""Figures of decision uncertainty: the data they draw, not only that they are figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import TEST_SEED

from cartsim.decide.psa import ceac
from cartsim.decide.stats import mean_ci
from cartsim.decide.threshold import UNCERTAIN
from cartsim.report.console import noise_guidance
from cartsim.report.plots.information import (
    UNCERTAIN_COLOUR,
    Z95,
    plot_ceac_bands,
    plot_evppi,
    plot_running_inmb,
    plot_running_probability,
    plot_threshold_grid,
    running_mean,
)


def psa_table(n: int = 60, seed: int = TEST_SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        rows.append((i, "soc", 1000 + rng.normal(0, 100), 1.0 + rng.normal(0, 0.1)))
        rows.append((i, "cart", 9000 + rng.normal(0, 500), 1.2 + rng.normal(0, 0.1)))
    return pd.DataFrame(rows, columns=["iteration", "arm", "cost", "qaly"])


def test_evppi_bars_are_ranked_with_two_standard_error_bars() -> None:
    table = pd.DataFrame(
        {
            "group": ["cap_failure", "group: costs", "util_x <b>"],
            "evppi_per_patient": [50.0, 300.0, 10.0],
            "se_per_patient": [5.0, 20.0, np.nan],
        }
    )
    fig = plot_evppi(table, "GBP 2024", evpi=(400.0, 30.0))
    bar = fig.data[0]
    assert list(bar.y) == ["util_x &lt;b&gt;", "cap_failure", "group: costs"]  # largest on top
    assert list(bar.x) == [10.0, 50.0, 300.0]
    assert list(bar.error_x.array) == [0.0, 10.0, 40.0]
    assert "EVPI 400" in fig.layout.annotations[0].text
    assert "GBP 2024" in fig.layout.xaxis.title.text
    assert plot_evppi(None) is None


def test_threshold_heat_map_codes_each_arm_with_its_legend_colour() -> None:
    grid = pd.DataFrame(
        {
            "parameter": "price",
            "value": [1.0, 1.0, 2.0, 2.0],
            "by": "wtp",
            "by_value": [0.0, 10.0, 0.0, 10.0],
            "preferred_arm": ["soc", "cart", "soc", "soc"],
        }
    )
    fig = plot_threshold_grid(grid)
    heat = fig.data[0]
    # arms sorted: cart = 0, soc = 1; rows are by_value, columns value
    assert heat.z.tolist() == [[1.0, 1.0], [0.0, 1.0]]
    legend = {t.name: t.marker.color for t in fig.data[1:]}
    assert set(legend) == {"cart", "soc"}
    colours = dict(heat.colorscale)
    assert legend["cart"] == colours[0.0] and legend["soc"] == colours[1.0]
    assert heat.customdata.tolist() == [["soc", "soc"], ["cart", "soc"]]


def test_uncertain_cells_are_grey_and_their_hover_gives_the_interval() -> None:
    grid = pd.DataFrame(
        {
            "parameter": "price",
            "value": [1.0, 2.0],
            "by": "wtp",
            "by_value": [0.0, 0.0],
            "best_arm": ["soc", "cart"],
            "preferred_arm": ["soc", UNCERTAIN],
            "closest_arm": ["cart", "soc"],
            "inmb_closest": [900.0, 40.0],
            "inmb_closest_ci_low": [300.0, -25.0],
            "inmb_closest_ci_high": [1500.0, 105.0],
            "level": [0.95, 0.95],
        }
    )
    fig = plot_threshold_grid(grid)
    heat = fig.data[0]
    assert heat.z.tolist() == [[0.0, 1.0]]  # the arms first, "uncertain" last
    legend = {t.name: t.marker.color for t in fig.data[1:]}
    assert legend == {"soc": legend["soc"], UNCERTAIN: UNCERTAIN_COLOUR}
    assert dict(heat.colorscale)[1.0] == UNCERTAIN_COLOUR
    hover = heat.customdata.tolist()[0]
    assert hover[1] == "uncertain (best by mean cart; INMB vs soc 40, 95.0% CI -25 to 105)"
    assert hover[0].startswith("soc (best by mean soc")


def test_running_mean_is_the_prefix_mean_with_its_t_interval() -> None:
    values = np.random.default_rng(TEST_SEED).normal(3.0, 2.0, 500)
    run = running_mean(values)
    assert run["n"].iloc[0] == 2 and run["n"].iloc[-1] == 500
    for _, row in run.sample(5, random_state=1).iterrows():
        k = int(row["n"])
        assert (row["mean"], row["low"], row["high"]) == pytest.approx(mean_ci(values[:k]))


def test_running_inmb_ends_at_the_mean_inmb_of_all_iterations() -> None:
    psa = psa_table()
    fig = plot_running_inmb(psa, 50_000.0, "soc", "EUR")
    wide = psa.assign(nmb=50_000.0 * psa["qaly"] - psa["cost"]).pivot(
        index="iteration", columns="arm", values="nmb"
    )
    inmb = (wide["cart"] - wide["soc"]).to_numpy()
    mean, low, high = mean_ci(inmb)
    line = fig.data[2]
    assert line.name == "cart vs soc"
    assert line.y[-1] == pytest.approx(mean, rel=1e-5)
    assert fig.data[0].y[-1] == pytest.approx(high, rel=1e-5)
    assert fig.data[1].y[-1] == pytest.approx(low, rel=1e-5)


def test_running_probability_ends_at_the_ceac_value() -> None:
    psa = psa_table()
    fig = plot_running_probability(psa, 30_000.0)
    curve = ceac(psa, [30_000.0]).set_index("arm")["probability_cost_effective"]
    lines = {t.name: t for t in fig.data if t.name}
    for arm in ("soc", "cart"):
        assert lines[arm].y[-1] == pytest.approx(curve[arm], abs=1e-6)


def test_ceac_bands_are_1_96_standard_errors_wide() -> None:
    table = ceac(psa_table(), [0.0, 40_000.0, 80_000.0])
    fig = plot_ceac_bands(table)
    first = table[table["arm"] == "soc"].sort_values("wtp")
    upper, lower = np.asarray(fig.data[0].y), np.asarray(fig.data[1].y)
    expected = Z95 * first["probability_se"].to_numpy()
    assert upper - first["probability_cost_effective"].to_numpy() == pytest.approx(
        expected, abs=1e-6
    )
    assert first["probability_cost_effective"].to_numpy() - lower == pytest.approx(
        expected, abs=1e-6
    )


@pytest.mark.parametrize(
    ("share", "reps", "needed"),
    [(0.18, 1, 5), (0.4, 2, 26), (0.04, 1, None)],
)
def test_noise_guidance_names_the_replications_that_bring_noise_under_the_limit(
    share, reps, needed
) -> None:
    noise = pd.DataFrame({"comparison": ["cart vs soc"], "replications": [reps],
                          "noise_share": [share]})  # fmt: skip
    line = noise_guidance(noise, 0.05)
    if needed is None:
        assert line is None
    else:
        assert f"{share:.0%} of the spread of INMB" in line
        assert f"--replications {needed} or more" in line

        # at that many replications the share falls to the limit or below, one fewer does not
        def share_at(r: float) -> float:
            noise_var = share * reps / r
            return noise_var / (1 - share + noise_var)

        assert share_at(needed) <= 0.05 < share_at(needed - 1)


MARK = "<img src=x onerror=alert(1)>"


def write_decision_folder(folder) -> None:
    """A run folder with every decision table, names carrying markup."""
    import json

    from cartsim.decide.psa import evpi

    folder.mkdir()
    manifest = {
        "seed": 1,
        "replications": 2,
        "scenario": {
            "name": MARK,
            "currency": "GBP",
            "price_year": 2024,
            "economics": {"wtp_per_qaly": 30000.0},
            "arms": {"soc": {}, "cart": {}},
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    psa = psa_table()
    tables = {
        "psa": psa,
        "ceac": ceac(psa, [0.0, 30000.0]),
        "evpi": evpi(psa, [0.0, 30000.0], 100.0),
        "psa_noise": pd.DataFrame({"comparison": ["cart vs soc"], "replications": [2],
                                   "noise_share": [0.12]}),  # fmt: skip
        "evppi": pd.DataFrame({"group": [MARK, "group: capacity and delivery"],
                               "parameters": ["param_x", "param_cap_a, param_cap_b"],
                               "method": ["regression spline", "Gaussian process"],
                               "evppi_per_patient": [123.0, 45.0], "se_per_patient": [7.0, 3.0],
                               "evppi_population": [12300.0, 4500.0],
                               "se_population": [700.0, 300.0], "wtp": [30000.0, 30000.0]}),
        "threshold": pd.DataFrame({"parameter": ["price"], "arm": [MARK], "comparator": ["soc"],
                                   "base_value": [1e5], "threshold": [87654.0],
                                   "threshold_ci_low": [80000.0], "threshold_ci_high": [90000.0],
                                   "headroom": [-12346.0], "inmb_base": [-5.0],
                                   "method": ["linear (Fieller)"], "level": [0.95],
                                   "wtp": [30000.0], "replications": [3]}),
        "threshold_grid": pd.DataFrame({"parameter": "price", "value": [1.0, 2.0], "by": "wtp",
                                        "by_value": [0.0, 0.0],
                                        "preferred_arm": ["soc", MARK]}),
        "validation": pd.DataFrame({
            "target": ["in_target", "out_target"], "description": [MARK, "remission"],
            "simulated": [0.5, 0.9], "simulated_low": [0.4, 0.85], "simulated_high": [0.6, 0.95],
            "target_value": [0.5, 0.5], "target_low": [0.45, 0.4], "target_high": [0.55, 0.6],
            "interval_kind": ["95% CI", "95% CI"], "verdict": ["consistent", "outside"],
            "position": ["overlaps", "above"], "source": ["Smith 2020", "Jones 2021"],
            "shares_source_with": ["", "x"]}),
    }  # fmt: skip
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)


def test_report_sections_of_decision_tables_render_escaped(tmp_path) -> None:
    from cartsim.report.html import write_report

    folder = tmp_path / "run"
    write_decision_folder(folder)
    html = write_report(folder).read_text(encoding="utf-8")
    for title in ("Uncertainty of the PSA", "Value of further information",
                  "Threshold and value-based price", "Validation"):  # fmt: skip
        assert f">{title}</h2>" in html
    assert MARK not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "87,654" in html and "-12,346" in html  # threshold and headroom
    assert (
        "group: capacity and delivery" in html
        and "capacity and delivery: 45 GBP 2024 per patient" in html
    )
    assert "EVPI at 30,000 GBP 2024 per QALY" in html
    assert "<td><b>out_target</b>" in html and "<td>in_target</td>" in html
    assert "<b>outside (above)</b>" in html and "<b>consistent" not in html
    assert "D4 (partly dependent data)" in html and "D5 (independent data)" in html
    assert "TECH-VER" in html
