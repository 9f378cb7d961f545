"""Figures of decision uncertainty: value of information, thresholds, and how far a PSA has
converged (running means with their 95% bands, acceptability curves with Monte Carlo bands).

Money is in the scenario's currency and price year (``currency`` labels it); bands are 95%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import stats as sps

from cartsim.decide.samples import wide
from cartsim.decide.stats import mean_ci, nmb
from cartsim.decide.threshold import UNCERTAIN
from cartsim.report.plots.common import _colour, _f32, _finish, esc, has_columns

Z95 = float(sps.norm.ppf(0.975))  # two-sided 95% normal quantile, for CEAC Monte Carlo bands
RUNNING_POINTS = 200  # numbers of iterations at which running means are drawn


def plot_evppi(
    evppi: pd.DataFrame | None, currency: str = "", evpi: tuple[float, float] | None = None
) -> go.Figure | None:
    """EVPPI per patient ranked by value, as horizontal bars with +-2 SE error bars.

    ``evppi``: ``evppi.parquet`` (``group, evppi_per_patient, se_per_patient``); ``evpi``:
    (EVPI per patient, its SE) at the same willingness to pay, drawn as a dashed line.
    """
    if not has_columns(evppi, "group", "evppi_per_patient", "se_per_patient"):
        return None
    assert evppi is not None
    frame = evppi.sort_values("evppi_per_patient", ascending=True)  # largest at the top
    se = frame["se_per_patient"].fillna(0.0)
    fig = go.Figure(
        go.Bar(
            x=_f32(frame["evppi_per_patient"]),
            y=[esc(g) for g in frame["group"]],
            orientation="h",
            error_x={"type": "data", "array": _f32(2.0 * se), "visible": True},
            marker={"color": _colour(0)},
            name="EVPPI per patient (±2 SE)",
        )
    )
    if evpi is not None and np.isfinite(evpi[0]):
        fig.add_vline(
            x=float(evpi[0]),
            line_dash="dash",
            annotation_text=f"EVPI {evpi[0]:,.0f} (SE {evpi[1]:,.0f})",
        )
    fig.update_xaxes(title_text=f"EVPPI per patient ({esc(currency)})", rangemode="tozero")
    height = max(350, 28 * len(frame) + 150)
    return _finish(fig, "Expected value of partial perfect information", height=height)


UNCERTAIN_COLOUR = "#d0d0d0"  # a two-way cell where no arm is clearly best


def plot_threshold_grid(grid: pd.DataFrame | None) -> go.Figure | None:
    """Heat map of the preferred arm over a two-way grid, one colour per arm with its legend
    entry; cells where no arm is clearly best (``preferred_arm`` "uncertain") are grey, and the
    hover names the best arm by mean and its INMB interval against the closest arm."""
    if not has_columns(grid, "value", "by", "by_value", "preferred_arm", "parameter"):
        return None
    assert grid is not None
    arms = sorted({str(a) for a in grid["preferred_arm"]} - {UNCERTAIN})
    arms += [UNCERTAIN] if (grid["preferred_arm"] == UNCERTAIN).any() else []
    code = {arm: i for i, arm in enumerate(arms)}
    colours = [UNCERTAIN_COLOUR if a == UNCERTAIN else _colour(i) for i, a in enumerate(arms)]
    cells = grid.assign(code=[code[str(a)] for a in grid["preferred_arm"]], hover=_hover(grid))
    table = cells.pivot_table(index="by_value", columns="value", values="code", aggfunc="first")
    hover = cells.pivot_table(index="by_value", columns="value", values="hover", aggfunc="first")
    n = len(arms)
    scale = []
    for i in range(n):  # a step colour scale: code i takes colour i over [i/n, (i+1)/n]
        scale += [[i / n, colours[i]], [(i + 1) / n, colours[i]]]
    fig = go.Figure(
        go.Heatmap(
            x=_f32(table.columns.to_numpy(dtype=np.float64)),
            y=_f32(table.index.to_numpy(dtype=np.float64)),
            z=table.to_numpy(dtype=np.float64),
            zmin=-0.5,
            zmax=n - 0.5,
            colorscale=scale,
            showscale=False,
            customdata=hover.reindex_like(table).fillna("").to_numpy(dtype=object),
            hovertemplate="%{x:,.4g}, %{y:,.4g}: %{customdata}<extra></extra>",
        )
    )
    for i, arm in enumerate(arms):  # legend entries: one square per arm
        fig.add_trace(
            go.Scatter(x=[None], y=[None], mode="markers", name=esc(arm),
                       marker={"symbol": "square", "size": 12, "color": colours[i]})
        )  # fmt: skip
    fig.update_xaxes(title_text=esc(grid["parameter"].iloc[0]))
    fig.update_yaxes(title_text=esc(grid["by"].iloc[0]))
    return _finish(fig, "Preferred arm (highest expected net benefit, where clear)")


def _hover(grid: pd.DataFrame) -> list[str]:
    """Per cell: the preferred arm, and the best arm's INMB interval against the closest."""
    need = ("best_arm", "closest_arm", "inmb_closest", "inmb_closest_ci_low")
    if not all(c in grid for c in (*need, "inmb_closest_ci_high", "level")):
        return [esc(a) for a in grid["preferred_arm"]]
    return [
        f"{esc(r.preferred_arm)} (best by mean {esc(r.best_arm)}; INMB vs "
        f"{esc(r.closest_arm)} {r.inmb_closest:,.0f}, {r.level:.1%} CI "
        f"{r.inmb_closest_ci_low:,.0f} to {r.inmb_closest_ci_high:,.0f})"
        for r in grid.itertuples()
    ]


def _prefixes(n: int) -> np.ndarray:
    """Numbers of iterations (2..n) at which a running mean is drawn."""
    return np.unique(np.linspace(2, n, min(RUNNING_POINTS, max(n - 1, 1))).astype(int))


def running_mean(values: np.ndarray) -> pd.DataFrame:
    """``n, mean, low, high``: mean of the first ``n`` values with its 95% t-interval."""
    rows = [(int(k), *mean_ci(values[:k])) for k in _prefixes(values.size)]
    return pd.DataFrame(rows, columns=["n", "mean", "low", "high"])


def _band(fig: go.Figure, run: pd.DataFrame, name: str, colour: str) -> None:
    fig.add_trace(go.Scatter(x=_f32(run["n"]), y=_f32(run["high"]), mode="lines",
                             line={"width": 0}, showlegend=False, hoverinfo="skip"))  # fmt: skip
    fig.add_trace(go.Scatter(x=_f32(run["n"]), y=_f32(run["low"]), mode="lines", fill="tonexty",
                             line={"width": 0}, opacity=0.2, fillcolor=colour, showlegend=False,
                             hoverinfo="skip"))  # fmt: skip
    fig.add_trace(go.Scatter(x=_f32(run["n"]), y=_f32(run["mean"]), mode="lines", name=name,
                             line={"color": colour}))  # fmt: skip


def plot_running_inmb(
    psa: pd.DataFrame | None, wtp: float, reference: str | None, currency: str = ""
) -> go.Figure | None:
    """Running mean of INMB of every arm against ``reference`` (default: the first arm) over
    the PSA iterations, with its running 95% band."""
    if not has_columns(psa, "iteration", "arm", "cost", "qaly") or psa is None:
        return None
    arms, cost, qaly = wide(psa[["iteration", "arm", "cost", "qaly"]], "iteration")
    if len(arms) < 2 or cost.shape[0] < 3:
        return None
    net = nmb(cost, qaly, wtp)
    ref = arms.index(reference) if reference in arms else 0
    fig = go.Figure()
    for i, arm in enumerate(arms):
        if i != ref:
            run = running_mean(net[:, i] - net[:, ref])
            _band(fig, run, esc(f"{arm} vs {arms[ref]}"), _colour(i))
    fig.update_xaxes(title_text="PSA iterations")
    fig.update_yaxes(title_text=f"mean INMB per patient ({esc(currency)})")
    return _finish(fig, f"Running mean of incremental net benefit at {wtp:,.0f} per QALY")


def plot_running_probability(psa: pd.DataFrame | None, wtp: float) -> go.Figure | None:
    """Running share of iterations in which each arm has the highest NMB, with its 95% band."""
    if not has_columns(psa, "iteration", "arm", "cost", "qaly") or psa is None:
        return None
    arms, cost, qaly = wide(psa[["iteration", "arm", "cost", "qaly"]], "iteration")
    if len(arms) < 2 or cost.shape[0] < 3:
        return None
    net = nmb(cost, qaly, wtp)
    best = net == net.max(axis=1, keepdims=True)
    share = best / best.sum(axis=1, keepdims=True)  # ties split evenly, as in the CEAC
    fig = go.Figure()
    for i, arm in enumerate(arms):
        _band(fig, running_mean(share[:, i]), esc(arm), _colour(i))
    fig.update_xaxes(title_text="PSA iterations")
    fig.update_yaxes(title_text="P(cost-effective)", range=[0, 1])
    return _finish(fig, f"Running probability of being cost-effective at {wtp:,.0f} per QALY")


def plot_ceac_bands(ceac: pd.DataFrame | None) -> go.Figure | None:
    """Acceptability curves with 95% Monte Carlo bands (``probability_se``)."""
    if not has_columns(ceac, "wtp", "arm", "probability_cost_effective", "probability_se"):
        return None
    assert ceac is not None
    fig = go.Figure()
    for i, arm in enumerate(pd.unique(ceac["arm"])):
        mine = ceac[ceac["arm"] == arm].sort_values("wtp")
        p, se = mine["probability_cost_effective"], mine["probability_se"]
        run = pd.DataFrame({"n": mine["wtp"], "mean": p, "low": p - Z95 * se,
                            "high": p + Z95 * se})  # fmt: skip
        _band(fig, run, esc(arm), _colour(i))
    fig.update_xaxes(title_text="willingness to pay (per QALY)")
    fig.update_yaxes(title_text="P(cost-effective)", range=[0, 1])
    return _finish(fig, "Acceptability curves with 95% Monte Carlo bands")
