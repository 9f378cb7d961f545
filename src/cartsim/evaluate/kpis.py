"""Key performance indicators per replication and arm, and their means with 95% CIs."""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Callable, Container, Mapping
from typing import TYPE_CHECKING

import numpy as np

from cartsim.engine.eventlog import STATUSES
from cartsim.inputs.errors import CartsimError, ScenarioError
from cartsim.inputs.scenario import PlanningTarget, Scenario
from cartsim.inputs.sites import all_resources
from cartsim.inputs.stages import Transport
from cartsim.inputs.units import DAYS_PER_YEAR

if TYPE_CHECKING:
    import pandas as pd

    from cartsim.inputs.loading import ScenarioSource


SUMMARY_KPIS = (  # what a probabilistic or one-way row reports of each arm (with utilisation)
    "treated",
    "died_waiting",
    "dropped_out",
    "mean_referral_to_treatment_days",
    "p90_vein_to_vein_days",
)


def _stats(
    values: np.ndarray, name: str, out: dict[str, float], wanted: Container[str] | None = None
) -> None:
    """Mean, median and 90th centile of the finite values (NaN when there are none); with
    ``wanted``, only those of them it names."""
    v = values[np.isfinite(values)]
    empty = v.size == 0
    for stat, of in (("mean", np.mean), ("median", np.median), ("p90", _p90)):
        key = f"{stat}_{name}"
        if wanted is None or key in wanted:
            out[key] = np.nan if empty else float(of(v))


def _p90(values: np.ndarray) -> float:
    return float(np.quantile(values, 0.9))


def patient_metrics(
    p: Mapping[str, np.ndarray], wanted: Container[str] | None = None
) -> dict[str, float]:
    """Counts, waits, times and (when present) mean cost and QALYs of one arm's patients;
    with ``wanted`` (e.g. :data:`SUMMARY_KPIS`), the counts and only the other KPIs it names."""
    treated = np.isfinite(np.asarray(p["treatment_day"], dtype=float))
    out: dict[str, float] = {"referred": float(treated.size), "treated": float(treated.sum())}
    counts = np.bincount(np.asarray(p["status"]), minlength=len(STATUSES))
    out.update({status: float(counts[i]) for i, status in enumerate(STATUSES)})
    waits = [c for c in p if c.startswith("wait_") and c != "wait_days"] if wanted is None else []
    for col in waits:
        values = np.asarray(p[col], dtype=float)
        if np.isfinite(values).any():  # stages of other arms have no values here
            out[f"mean_{col}"] = float(np.nanmean(values))
    for col in ("referral_to_treatment_days", "vein_to_vein_days"):
        _stats(np.asarray(p[col], dtype=float), col, out, wanted)
    if wanted is not None:
        return out
    for col in ("inpatient_days", "icu_days"):
        values = np.asarray(p[col], dtype=float)[treated]
        out[f"mean_{col}"] = float(values.mean()) if values.size else np.nan
    for col in ("cost_total", "qaly_total", "qaly_undiscounted"):
        if col in p:
            values = np.asarray(p[col], dtype=float)
            out[f"mean_{col}"] = float(values.mean()) if values.size else np.nan
    return out


def resource_metrics(
    series: dict[str, np.ndarray], resources: list[str], warmup_days: float, window_days: float
) -> dict[str, float]:
    """Utilisation, mean queue and mean units in use per resource over the steady state.

    ``series`` comes from :func:`cartsim.evaluate.derive.resource_series`. The steady state runs
    from the end of the warm-up to the end of the referral window, before the service drains.
    """
    out: dict[str, float] = {}
    keep = steady_state(series["day"], warmup_days, window_days)
    for code, name in enumerate(resources):
        mine = keep & (series["resource"] == code)
        out[f"utilisation_{name}"] = float(series["utilisation"][mine].mean())
        out[f"mean_queue_{name}"] = float(series["queue_length"][mine].mean())
        out[f"mean_in_use_{name}"] = float(series["in_use"][mine].mean())
    return out


def utilisation_metrics(
    utilisation: list[np.ndarray], resources: list[str], warmup_days: float, window_days: float
) -> dict[str, float]:
    """``utilisation_<resource>`` of :func:`resource_metrics` from each resource's daily
    utilisation alone (no queue series needed)."""
    out: dict[str, float] = {}
    for daily, name in zip(utilisation, resources, strict=True):
        keep = steady_state(np.arange(daily.size), warmup_days, window_days)
        out[f"utilisation_{name}"] = float(daily[keep].mean())
    return out


def steady_state(day: np.ndarray, warmup_days: float, window_days: float) -> np.ndarray:
    """Which days count for resource KPIs: from the end of the warm-up to the end of the
    referral window, before the service drains."""
    return (day >= warmup_days) & (day < window_days)


def metric_rows(replication: int, arm: str, metrics: dict[str, float]) -> pd.DataFrame:
    """The long ``replication, arm, metric, value`` rows of one arm."""
    import pandas as pd

    return pd.DataFrame(
        {
            "replication": replication,
            "arm": arm,
            "metric": list(metrics),
            "value": np.fromiter(metrics.values(), float, len(metrics)),
        }
    )


RESOURCE_KPIS = ("utilisation", "mean_queue", "mean_in_use")  # each followed by _<resource>


def metric_names(scenario: Scenario) -> set[str]:
    """Every KPI a run of ``scenario`` can report (the names in ``kpis.parquet``)."""
    names = {"referred", "treated", *STATUSES}
    for stat in ("mean", "median", "p90"):
        names |= {f"{stat}_referral_to_treatment_days", f"{stat}_vein_to_vein_days"}
    names |= {"mean_inpatient_days", "mean_icu_days"}
    for arm in scenario.arms.values():
        names |= {f"mean_wait_{s.name}_days" for s in arm.stages
                  if getattr(s, "resource", None) or isinstance(s, Transport)}  # fmt: skip
    for resource in all_resources(scenario):
        names |= {f"{kind}_{resource}" for kind in RESOURCE_KPIS}
    if scenario.economics is not None:
        names |= {"mean_cost_total", "mean_qaly_total", "mean_qaly_undiscounted"}
    return names


def known_metrics_text(metric: str, scenario: Scenario) -> str:
    """The KPIs nearest to ``metric`` by spelling, or every KPI with its families folded."""
    known = sorted(metric_names(scenario))
    close = difflib.get_close_matches(metric, known, n=4, cutoff=0.7)
    if close:
        return f"did you mean {' or '.join(close)}?"
    resources = sorted(all_resources(scenario))
    families = [f"{kind}_{r}" for r in resources for kind in RESOURCE_KPIS]
    waits = sorted(n for n in known if n.startswith("mean_wait_"))
    plain = [n for n in known if n not in families and n not in waits]
    folded = ["/".join(f"{kind}_<resource>" for kind in RESOURCE_KPIS)] if resources else []
    folded += ["mean_wait_<stage>_days"] if waits else []
    stages = ", ".join(n.removeprefix("mean_wait_").removesuffix("_days") for n in waits)
    return (f"known: {', '.join(plain + folded)}"
            + (f"; resources: {', '.join(resources)}" if resources else "")
            + (f"; stages with a wait: {stages}" if waits else ""))  # fmt: skip


def check_metric(metric: str, scenario: Scenario, file: object) -> None:
    """A clear error for a KPI name that no run of the scenario reports."""
    if metric not in metric_names(scenario):
        raise CartsimError(
            f"unknown KPI {metric!r}; {known_metrics_text(metric, scenario)}",
            file=str(file),
            field="target.metric",
        )


PERIOD_KINDS = ("referral_year", "calendar_year")
PERIOD_COUNTS = ("referred", "treated", "died_waiting", "dropped_out")
PERIOD_TIMES = ("vein_to_vein_days", "referral_to_treatment_days")
PERIOD_METRICS = (
    *PERIOD_COUNTS,
    *(f"{stat}_{time}" for time in PERIOD_TIMES for stat in ("mean", "median", "p90")),
)  # the measures of each year (a target per year may judge only these)


def _period_values(group: pd.DataFrame) -> dict[str, float]:
    status = group["status"].astype(str)
    out = {
        "referred": float(len(group)),
        "treated": float(np.isfinite(group["treatment_day"].to_numpy(dtype=float)).sum()),
        "died_waiting": float((status == "died_waiting").sum()),
        "dropped_out": float((status == "dropped_out").sum()),
    }
    for column in PERIOD_TIMES:
        _stats(group[column].to_numpy(dtype=float), column, out)
    return out


def _site_values(group: pd.DataFrame) -> dict[str, float]:
    """The measures of a year, with the mean wait and (with economics) cost per patient."""
    out = _period_values(group)
    out["mean_wait_days"] = float(group["wait_days"].to_numpy(dtype=float).mean())
    if "cost_total" in group:
        out["mean_cost_total"] = float(group["cost_total"].to_numpy(dtype=float).mean())
    return out


SERVICE_SITE = "service"  # the whole service in per-site tables
SITE_KINDS = ("all", *PERIOD_KINDS)


def site_metrics(patients: pd.DataFrame, warmup_days: float, start_date: dt.date) -> pd.DataFrame:
    """Per site and for the whole service (site ``service``): the measures of every patient
    (``period_kind`` ``all``, period 0) and of each year, per replication and arm: long rows
    ``replication, arm, site, period_kind, period, metric, value``. Counts of the sites sum to
    the service's; a replication in which a site referred nobody counts 0 there."""
    import pandas as pd

    replications = np.unique(patients["replication"])
    site = patients["site"].astype(str)
    frames = []
    for name in [*patients["site"].cat.categories, SERVICE_SITE]:
        mine = patients if name == SERVICE_SITE else patients[site == name]
        rows = period_metrics(mine, warmup_days, start_date, SITE_KINDS, replications, _site_values)
        rows.insert(2, "site", name)
        frames.append(rows)
    return pd.concat(frames, ignore_index=True)


def period_metrics(
    patients: pd.DataFrame,
    warmup_days: float,
    start_date: dt.date,
    kinds: tuple[str, ...] = PERIOD_KINDS,
    replications: np.ndarray | None = None,
    values: Callable[[pd.DataFrame], dict[str, float]] = _period_values,
) -> pd.DataFrame:
    """Counts and times of the patients referred in each year, per replication and arm.

    Long rows ``replication, arm, period_kind, period, metric, value``. ``referral_year`` is the
    year of the run the patient was referred in (1: days 0 to 365.25 from ``start_date``),
    ``calendar_year`` the calendar year of the referral date. As for the pooled KPIs, only
    patients referred after the warm-up count. A year in which a replication referred nobody
    counts 0 patients there and has no times (missing). The kind ``all`` is one period (0) of
    every patient; ``replications`` (default: those of ``patients``) are the ones reported.
    """
    import pandas as pd

    settled = patients[patients["arrival_day"] >= warmup_days]
    if not len(settled):
        return pd.DataFrame(
            columns=["replication", "arm", "period_kind", "period", "metric", "value"]
        )
    arrival = settled["arrival_day"].to_numpy(dtype=float)
    labels = {
        "all": np.zeros(arrival.size, dtype=int),
        "referral_year": np.floor(arrival / DAYS_PER_YEAR).astype(int) + 1,
        "calendar_year": (
            pd.Timestamp(start_date) + pd.to_timedelta(arrival, unit="D")
        ).year.to_numpy(dtype=int),
    }
    frames = []
    for kind in kinds:
        keys = [settled["replication"], settled["arm"].astype(str), labels[kind]]
        rows = {k: values(g) for k, g in settled.groupby(keys, sort=True)}
        wide = pd.DataFrame.from_dict(rows, orient="index")
        wide.index = pd.MultiIndex.from_tuples(wide.index, names=["replication", "arm", "period"])
        full = pd.MultiIndex.from_product(
            [
                np.unique(patients["replication"]) if replications is None else replications,
                pd.unique(settled["arm"].astype(str)),
                np.unique(labels[kind]),
            ],
            names=["replication", "arm", "period"],
        )
        wide = wide.reindex(full)
        wide[list(PERIOD_COUNTS)] = wide[list(PERIOD_COUNTS)].fillna(0.0)
        long = wide.reset_index().melt(
            id_vars=["replication", "arm", "period"], var_name="metric", value_name="value"
        )
        long.insert(2, "period_kind", kind)
        frames.append(long)
    return pd.concat(frames, ignore_index=True)


def check_bound(target: PlanningTarget) -> None:
    """A bound a KPI can both meet and miss: finite, not below 0 (every KPI but QALYs counts,
    times or money), a utilisation at most 1 (a share of capacity)."""
    at_most = target.at_most is not None
    bound = target.at_most if target.at_most is not None else target.at_least
    assert bound is not None  # exactly one bound (the target's own validation)
    if not math.isfinite(bound):
        problem = "is not a finite number"
    elif bound < 0 and not target.metric.startswith("mean_qaly"):
        met = "never" if at_most else "always"
        problem = f"is below 0, which {target.metric} never is: the target is {met} met"
    elif bound > 1 and target.metric.startswith("utilisation_"):
        met = "always" if at_most else "never"
        problem = f"is above 1, the most a utilisation can be: the target is {met} met"
    else:
        return
    raise CartsimError(f"{bound:g} {problem}", field="at_most" if at_most else "at_least")


def check_targets(source: ScenarioSource, scenario: Scenario) -> None:
    """Refuse a ``target`` or ``targets`` entry naming a KPI no run reports, a KPI not measured
    per year with ``per_year``, or an unknown arm (one line naming file, field and line)."""
    named = [("target", scenario.target)] if scenario.target is not None else []
    named += [(f"targets.{k}", t) for k, t in enumerate(scenario.targets)]
    for where, target in named:
        try:
            check_metric(target.metric, scenario, source.path)
            if target.per_year and target.metric not in PERIOD_METRICS:
                raise CartsimError(
                    f"{target.metric!r} is not measured per year (per year: "
                    f"{', '.join(PERIOD_METRICS)})",
                    file=str(source.path),
                    field="per_year",
                )
            check_bound(target)
            if target.arm not in scenario.arms:
                raise CartsimError(
                    f"target arm {target.arm!r} is not an arm of the scenario "
                    f"(arms: {', '.join(scenario.arms)})",
                    file=str(source.path),
                    field="arm",
                )
        except CartsimError as exc:
            field = f"{where}.{(exc.field or 'metric').rsplit('.', 1)[-1]}"
            raise source.locate(ScenarioError(exc.message, str(source.path), field)) from None
