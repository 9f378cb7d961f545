"""Incremental analysis of a head-to-head run: per-replication means, then decision tables.

Every arm treats the same referred cohort with the same draws, so per-replication means are
paired across arms and the confidence intervals of differences are paired too.
"""

from __future__ import annotations

import pandas as pd

from cartsim.decide.incremental import incremental_table, pairwise_table

ALL = "all"


def replication_means(patients: pd.DataFrame, by_disease: bool = False) -> pd.DataFrame:
    """Mean cost (EUR, discounted) and QALYs per referred patient, per replication and arm."""
    keys = ["replication", "arm", *(["disease"] if by_disease else [])]
    means = (
        patients.groupby(keys, observed=True)[["cost_total", "qaly_total"]]
        .mean()
        .reset_index()
        .rename(columns={"cost_total": "cost", "qaly_total": "qaly"})
    )
    means["arm"] = means["arm"].astype(str)
    return means


def incremental_results(
    patients: pd.DataFrame, wtp: float, reference: str | None = None
) -> pd.DataFrame:
    """Fully incremental and pairwise tables for all patients and for each disease.

    Columns: ``population`` (``all`` or a disease), ``analysis`` (``fully incremental`` or
    ``pairwise``), then the columns of :func:`cartsim.decide.incremental.incremental_table` or
    :func:`cartsim.decide.incremental.pairwise_table`, and ``wtp`` (EUR per QALY).
    """
    overall = replication_means(patients)
    by_disease = replication_means(patients, by_disease=True)
    populations = [(ALL, overall)] + [
        (str(d), g.drop(columns="disease")) for d, g in by_disease.groupby("disease", observed=True)
    ]
    tables = []
    for population, summary in populations:
        if summary["arm"].nunique() < 2:
            continue
        ref = reference if reference in set(summary["arm"]) else None
        for analysis, table in (
            ("fully incremental", incremental_table(summary, wtp, ref)),
            ("pairwise", pairwise_table(summary, wtp, reference=ref)),
        ):
            table.insert(0, "analysis", analysis)
            table.insert(0, "population", population)
            tables.append(table)
    if not tables:
        return pd.DataFrame()
    out = pd.concat(tables, ignore_index=True)
    out["wtp"] = wtp
    return out
