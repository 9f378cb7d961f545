"""Severity modifier of the NICE reference case: QALY weights from the QALY shortfall.

NICE health technology evaluations manual (PMG36, 2022, sections 6.2.16-6.2.20): the QALY
shortfall of people with the condition on current practice is the general population's expected
remaining discounted QALYs (of the same age and sex mix) minus theirs. QALY gains are weighted
1.2 when the absolute shortfall is at least 12 or the proportional shortfall at least 0.85, and
1.7 when at least 18 or 0.95; otherwise 1.

The general population's QALYs are its quality-adjusted life expectancy from the age of referral:
survival from the scenario's Gompertz general-population mortality, utility from the age norms
``economics.utility_age_norms`` (1 when none are given), discounted at the effects rate, over the
scenario's horizon (up to ``mortality.max_age``). Current practice is the reference arm (SoC).
QALYs are per patient; time in years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.integrate import simpson

from cartsim.decide.head_to_head import ALL, incremental_results
from cartsim.decide.stats import mean_ci, with_ci
from cartsim.evaluate.discounting import continuous_rate
from cartsim.inputs.clinical import Mortality, UtilityNorms
from cartsim.inputs.scenario import Scenario

# NICE PMG36 (2022) section 6.2.18, table 6.1: (weight, absolute at least, proportional at least)
SEVERITY_WEIGHTS = ((1.7, 18.0, 0.95), (1.2, 12.0, 0.85))
STEPS_PER_YEAR = 24  # Simpson's rule on half-month steps: error far below a thousandth of a QALY

Floats = NDArray[np.float64]


def qaly_weight(absolute: float, proportional: float) -> float:
    """NICE's QALY weight for an absolute (QALYs) and a proportional (share) shortfall."""
    for weight, at_least_absolute, at_least_proportional in SEVERITY_WEIGHTS:
        if absolute >= at_least_absolute or proportional >= at_least_proportional:
            return weight
    return 1.0


def norm_utility(norms: UtilityNorms | None, age: Floats, male: Floats) -> Floats:
    """General-population utility at ``age`` (years), at most 1; 1 without norms."""
    if norms is None:
        return np.ones_like(age)
    u = norms.intercept + norms.male * male + norms.age * age + norms.age_squared * age**2
    return np.minimum(u, 1.0)


def general_population_qale(
    age: Floats,
    female: NDArray[np.bool_],
    mortality: Mortality,
    norms: UtilityNorms | None,
    rate: float,
    horizon_years: float | None,
) -> Floats:
    """Discounted quality-adjusted life expectancy per person, QALYs.

    ``integral over t of S(t) * u(age + t) * exp(-delta t)`` from 0 to the horizon (or to
    ``mortality.max_age``), with Gompertz survival ``S(t) = exp(-a/b e^(b age) (e^(b t) - 1))``
    and ``delta = ln(1 + rate)``.
    """
    age = np.asarray(age, dtype=float)
    female = np.asarray(female, dtype=bool)
    limit = np.maximum(mortality.max_age - age, 0.0)
    if horizon_years is not None:
        limit = np.minimum(limit, horizon_years)
    steps = 2 * max(1, int(np.ceil(limit.max(initial=0.0) * STEPS_PER_YEAR / 2)))
    share = np.linspace(0.0, 1.0, steps + 1)
    t = limit[:, None] * share[None, :]  # each person's own grid from 0 to their limit
    a = np.where(female, mortality.female.a, mortality.male.a)[:, None]
    b = np.where(female, mortality.female.b, mortality.male.b)[:, None]
    survival = np.exp(-a / b * np.exp(b * age[:, None]) * np.expm1(b * t))
    utility = norm_utility(norms, age[:, None] + t, (~female).astype(float)[:, None])
    integrand = survival * utility * np.exp(-continuous_rate(rate) * t)
    return np.asarray(simpson(integrand, x=t, axis=1), dtype=float)


def shortfall_table(
    patients: pd.DataFrame,
    reference: str,
    mortality: Mortality,
    norms: UtilityNorms | None,
    rate: float,
    horizon_years: float | None,
) -> pd.DataFrame:
    """One row: general-population and current-practice QALYs, shortfalls and the QALY weight.

    ``patients`` holds ``replication, arm, age, female, qaly_total`` (one row per referred
    patient); ``reference`` is current practice. Values are means over replications of the
    per-patient means, with 95% t-intervals; the weight is read off the means, and
    ``qaly_weight_ci_low``/``_ci_high`` off the ends of the intervals (they differ when the
    interval crosses a cut-off).
    """
    own = patients[patients["arm"] == reference]
    if own.empty:
        raise ValueError(f"no patients in the reference arm {reference!r}")
    qale = general_population_qale(
        own["age"].to_numpy(float), own["female"].to_numpy(bool), mortality, norms, rate,
        horizon_years,
    )  # fmt: skip
    frame = pd.DataFrame(
        {"replication": own["replication"].to_numpy(), "general": qale,
         "condition": own["qaly_total"].to_numpy(float)}
    )  # fmt: skip
    per_rep = frame.groupby("replication").mean()
    per_rep["absolute"] = per_rep["general"] - per_rep["condition"]
    per_rep["proportional"] = per_rep["absolute"] / per_rep["general"]
    row: dict[str, object] = {"reference": reference}
    names = {
        "general": "qale_general_population",
        "condition": "qaly_current_practice",
        "absolute": "absolute_shortfall",
        "proportional": "proportional_shortfall",
    }
    for column, name in names.items():
        row.update(with_ci(name, mean_ci(per_rep[column].to_numpy(float))))
    for suffix in ("", "_ci_low", "_ci_high"):  # the weight at each end of the shortfall's CI
        absolute = float(row[f"absolute_shortfall{suffix}"])  # type: ignore[arg-type]
        proportional = float(row[f"proportional_shortfall{suffix}"])  # type: ignore[arg-type]
        known = np.isfinite(absolute) and np.isfinite(proportional)
        row[f"qaly_weight{suffix}"] = qaly_weight(absolute, proportional) if known else np.nan
    row["n_replications"] = len(per_rep)
    return pd.DataFrame([row])


def weighted_comparisons(
    patients: pd.DataFrame, reference: str, weight: float, wtps: list[float]
) -> pd.DataFrame:
    """Pairwise comparisons with ``reference``, without and with the QALY weight, at each WTP.

    Columns ``qaly_weight`` (1 or the severity weight), ``wtp`` (money per QALY) and those of
    :func:`cartsim.decide.incremental.pairwise_table` (all patients): with the weight, QALY
    gains count ``weight`` times, so ICERs are divided by it and INMB uses ``weight * dQALY``.
    """
    tables = []
    for applied in sorted({1.0, weight}):
        weighted = patients.assign(qaly_total=patients["qaly_total"] * applied)
        for wtp in wtps:
            table = incremental_results(weighted, wtp, reference)
            table = table[(table["population"] == ALL) & (table["analysis"] == "pairwise")]
            table = table.drop(columns=["population", "analysis"])
            table.insert(0, "qaly_weight", applied)
            tables.append(table)
    return pd.concat(tables, ignore_index=True)


def severity_results(scenario: Scenario, patients: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``severity`` (the shortfall and weight) and ``severity_comparisons`` (each arm against
    the reference arm at each WTP of the scenario, without and with the weight)."""
    economics, mortality = scenario.economics, scenario.mortality
    if economics is None or mortality is None or economics.reference_arm is None:
        raise ValueError("the severity modifier needs economics.reference_arm and mortality")
    reference = economics.reference_arm
    norms, rate = economics.utility_age_norms, economics.discount_rate_effects
    shortfall = shortfall_table(
        patients, reference, mortality, norms, rate, economics.horizon_years
    )
    wtps = [economics.wtp_per_qaly]
    if economics.wtp_per_qaly_upper is not None:
        wtps.append(economics.wtp_per_qaly_upper)
    weight = float(shortfall["qaly_weight"].iloc[0])
    comparisons = weighted_comparisons(patients, reference, weight, wtps)
    return {"severity": shortfall, "severity_comparisons": comparisons}
