"""The share of PSA spread that is patient-level noise, against a simulated two-level model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cartsim.decide.psa import noise_share


def units(iterations: int, reps: int, sd_param: float, sd_noise: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    effect = rng.normal(1000.0, sd_param, iterations)  # INMB of arm B given the parameters
    rows = []
    for i in range(iterations):
        for r in range(reps):
            rows += [
                {"iteration": i, "replication": r, "arm": "A", "cost": 0.0, "qaly": 0.0},
                {"iteration": i, "replication": r, "arm": "B",
                 "cost": -(effect[i] + rng.normal(0.0, sd_noise)), "qaly": 0.0},
            ]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.statistical
def test_noise_share_recovers_the_variance_components(seed: int) -> None:
    sd_param, sd_noise, reps = 300.0, 600.0, 4
    out = noise_share(units(4000, reps, sd_param, sd_noise, seed=seed), wtp=1.0, reference="A")
    row = out.iloc[0]
    expected = (sd_noise**2 / reps) / (sd_param**2 + sd_noise**2 / reps)  # 0.5
    assert row["comparison"] == "B vs A" and row["replications"] == reps
    assert row["noise_variance"] == pytest.approx(sd_noise**2 / reps, rel=0.07)
    # relative standard errors: about 1.3% for the within variance, 3% for the share
    assert row["noise_share"] == pytest.approx(expected, rel=0.15)


def test_no_noise_gives_zero_and_one_replication_cannot_tell() -> None:
    assert noise_share(units(50, 3, 100.0, 0.0, seed=2), 1.0, "A")["noise_share"].iloc[0] == 0.0
    assert math.isnan(noise_share(units(50, 1, 100.0, 50.0, seed=3), 1.0, "A")["noise_share"][0])
