"""Value of further information of a saved PSA: read its folder, compute EVPPI, save it.

The folder is read as the report reads it (:mod:`cartsim.report.folder`: validated manifest,
checked tables); the EVPPI itself is :func:`cartsim.runs.evppi.evppi_table`. Money is in the
scenario's currency and price year.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cartsim.inputs.errors import CartsimError
from cartsim.report.folder import load_manifest, read_checked
from cartsim.report.results import read_manifest, write_files


def evppi_of_folder(
    run_dir: Path, wtp: float | None, groups: list[str], bootstrap: int | None
) -> tuple[pd.DataFrame, str]:
    """EVPPI of the PSA in ``run_dir`` at ``wtp`` (default: the scenario's), written to
    ``evppi.parquet`` there (atomically); returns the table and its money label."""
    manifest = load_manifest(run_dir)
    psa, draws = read_checked(run_dir, "psa"), read_checked(run_dir, "psa_parameters")
    if psa is None or draws is None:
        raise CartsimError(
            "not a PSA folder (no psa.parquet and psa_parameters.parquet)", file=str(run_dir)
        )
    scenario = manifest["scenario"]
    economics = scenario.get("economics") or {}
    at = wtp if wtp is not None else economics.get("wtp_per_qaly")
    if at is None or not economics:
        raise CartsimError("the scenario has no economics: no value of information",
                           file=str(run_dir))  # fmt: skip
    from cartsim.runs.evppi import DEFAULT_BOOTSTRAP, evpi_population, evppi_table  # the fitters

    population = evpi_population(read_checked(run_dir, "evpi"), read_manifest(run_dir)["scenario"])
    reps = DEFAULT_BOOTSTRAP if bootstrap is None else bootstrap
    used, seed = manifest.get("parameters_used"), int(manifest.get("seed") or 0)
    table = evppi_table(psa, draws, float(at), population, used, groups, reps, seed)
    write_files(run_dir, {"evppi": table}, {})
    return table, f"{scenario.get('currency', '')} {scenario.get('price_year', '')}".strip()
