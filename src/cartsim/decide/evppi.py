"""Expected value of partial perfect information (EVPPI) by regression on PSA samples.

Method of Strong, Oakley & Brennan (Med Decis Making 2014;34:311-326,
doi:10.1177/0272989X13505910). For every arm ``d`` but the first, the incremental net benefit
``INB_d = NMB_d - NMB_1`` of each PSA iteration is regressed on the parameters of interest
``phi``; the fitted values estimate ``E[INB_d | phi]`` and

    EVPPI = mean_i max(0, g_2(phi_i), ..., g_D(phi_i)) - max(0, mean_i g_2, ..., mean_i g_D).

The regression (the "metamodel") is, as in Strong et al.:

* one parameter: a penalised cubic regression spline -- scikit-learn's ``SplineTransformer``
  followed by ``RidgeCV``, the penalty chosen by efficient leave-one-out cross-validation: the
  regression-spline analogue of the generalised additive model of the paper;
* a group of up to ``MAX_GP_PARAMETERS`` parameters: a Gaussian process with one length scale
  per parameter and a white-noise term (scikit-learn ``GaussianProcessRegressor``),
  hyperparameters by maximum marginal likelihood, fitted on at most ``max_gp_points`` iterations
  and evaluated at all;
* a larger group: an additive model (a penalised regression spline per parameter, one ridge
  penalty), which ignores interactions between the group's parameters -- the method column says
  so, and such a value is a lower estimate when parameters interact.

scikit-learn is used because it is maintained, has both smoothers, and needs no compiled R
toolchain (mgcv, used by BCEA/voi/hesim, is not available from Python). The Monte Carlo standard
error is a bootstrap over iterations that refits the regression (with the Gaussian process's
hyperparameters held at their fitted values), so it covers both the sampling of iterations and
the regression. Money is in the scenario's currency; ``population`` scales per-patient values.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer

from cartsim.decide.samples import FloatArray, check_wtp, wide
from cartsim.decide.stats import nmb

ALPHAS = np.logspace(-6, 6, 25)  # ridge penalties tried for the spline metamodel
MAX_GP_PARAMETERS = 12  # beyond this a Gaussian process fit is slow and poorly determined
Fitter = Callable[[FloatArray, FloatArray], FloatArray]


def incremental_net_benefit(psa: pd.DataFrame, wtp: float) -> FloatArray:
    """``(n_iteration, n_arm - 1)`` INB of every arm against the first, at ``wtp``."""
    _, cost, qaly = wide(psa, "iteration")
    net = nmb(cost, qaly, check_wtp(wtp))
    return net[:, 1:] - net[:, :1]


def value_of_information(fitted: FloatArray) -> float:
    """``mean max(0, g) - max(0, mean g)`` over iterations (rows) and arms (columns)."""
    best_each = np.maximum(fitted.max(axis=1), 0.0)
    best_on_average = max(float(fitted.mean(axis=0).max()), 0.0)
    return max(float(best_each.mean()) - best_on_average, 0.0)


def _standardised(x: FloatArray) -> FloatArray:
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def spline_fitter(x: FloatArray, y: FloatArray) -> FloatArray:
    """Fitted values of a penalised cubic regression spline (additive over the columns of
    ``x``) of each column of ``y``."""
    knots = int(min(10, max(3, np.unique(x[:, 0]).size // 10)))
    model = make_pipeline(
        SplineTransformer(n_knots=knots, degree=3, knots="quantile", extrapolation="linear"),
        RidgeCV(alphas=ALPHAS),
    )
    return np.asarray(model.fit(x, y).predict(x), dtype=np.float64).reshape(y.shape)


class GaussianProcessMetamodel:
    """ARD squared-exponential + white-noise Gaussian process, one per column of ``y``.

    The first call fits the hyperparameters (maximum marginal likelihood); later calls, the
    bootstrap refits, keep them and only recompute the posterior. At most ``max_points`` rows
    (a seeded subsample) are used to fit; fitted values are returned for every row.
    """

    def __init__(self, max_points: int, seed: int) -> None:
        self.max_points = max_points
        self.seed = seed
        self.kernels: list[object] | None = None

    def __call__(self, x: FloatArray, y: FloatArray) -> FloatArray:
        rows = np.arange(x.shape[0])
        if rows.size > self.max_points:
            rng = np.random.default_rng(self.seed)
            rows = np.sort(rng.choice(rows, self.max_points, replace=False))
        out = np.empty_like(y)
        kernels = []
        for j in range(y.shape[1]):
            if self.kernels is None:
                kernel = ConstantKernel(1.0) * RBF(np.ones(x.shape[1]), (1e-2, 1e3)) + WhiteKernel(
                    0.1, (1e-8, 1e2)
                )
                model = GaussianProcessRegressor(kernel, normalize_y=True, random_state=self.seed)
            else:
                model = GaussianProcessRegressor(self.kernels[j], optimizer=None, normalize_y=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(x[rows], y[rows, j])
            kernels.append(model.kernel_)
            # the white-noise term does not enter predictions away from the diagonal, so this is
            # the posterior mean of the noise-free signal
            out[:, j] = model.predict(x)
        if self.kernels is None:
            self.kernels = kernels
        return out


def metamodel(n_parameters: int, max_gp_points: int, seed: int) -> tuple[str, Fitter]:
    """The regression used for a group of ``n_parameters`` parameters, and its name."""
    if n_parameters == 1:
        return "regression spline", spline_fitter
    if n_parameters <= MAX_GP_PARAMETERS:
        return "Gaussian process", GaussianProcessMetamodel(max_gp_points, seed)
    return "additive splines (no interactions)", spline_fitter


PREFIX_GROUPS = {
    "capacity and delivery": "cap_",
    "CAR-T clinical": "cart_",
    "aHSCT clinical": "ahsct_",
    "standard of care": "soc_",
    "costs": "cost_",
    "utilities": "util_",
}


def default_groups(parameters: Sequence[str]) -> dict[str, list[str]]:
    """Every parameter alone, the groups of :data:`PREFIX_GROUPS` and all parameters together.

    ``parameters`` are parameter names (without the ``param_`` column prefix).
    """
    groups = {name: [f"param_{name}"] for name in parameters}
    for label, prefix in PREFIX_GROUPS.items():
        members = [f"param_{n}" for n in parameters if n.startswith(prefix)]
        if len(members) > 1:
            groups[f"group: {label}"] = members
    if len(parameters) > 1:
        groups["group: all parameters"] = [f"param_{n}" for n in parameters]
    return groups


def evppi_of(
    x: FloatArray, inb: FloatArray, fitter: Fitter, bootstrap: int = 0, seed: int = 0
) -> tuple[float, float]:
    """EVPPI per patient of the parameters in the columns of ``x``, and its bootstrap SE.

    ``bootstrap`` resamples of the iterations refit the metamodel; 0 gives a NaN SE.
    """
    xs = _standardised(np.asarray(x, dtype=np.float64))
    value = value_of_information(fitter(xs, inb))
    if bootstrap < 2:
        return value, math.nan
    rng = np.random.default_rng(seed)
    n = xs.shape[0]
    reps = []
    for _ in range(bootstrap):
        rows = rng.integers(0, n, n)
        reps.append(value_of_information(fitter(xs[rows], inb[rows])))
    return value, float(np.std(reps, ddof=1))


def evppi(
    psa: pd.DataFrame,
    parameters: pd.DataFrame,
    wtp: float,
    groups: Mapping[str, Sequence[str]],
    population: float = 1.0,
    *,
    bootstrap: int = 30,
    max_gp_points: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """EVPPI of single parameters and named groups at one willingness to pay.

    Parameters
    ----------
    psa : pandas.DataFrame
        ``iteration, arm, cost, qaly`` per PSA iteration and arm (money, QALYs per patient).
    parameters : pandas.DataFrame
        ``iteration`` and one column per drawn parameter (as ``psa_parameters.parquet``).
    wtp : float
        Willingness to pay, money per QALY.
    groups : mapping of str to list of str
        Name -> parameter columns; a one-column group is a single parameter.
    population : float
        Patients the decision affects (for the population columns).

    Returns
    -------
    pandas.DataFrame
        ``group, parameters, n_parameters, method, evppi_per_patient, se_per_patient,
        evppi_population, se_population, wtp``, sorted by value, largest first.
    """
    iterations = np.unique(psa["iteration"].to_numpy())
    table = parameters.set_index("iteration").reindex(iterations)
    inb = incremental_net_benefit(psa, wtp)
    rows = []
    for name, columns in groups.items():
        missing = [c for c in columns if c not in table.columns]
        if missing or not columns:
            raise ValueError(f"group {name!r}: unknown parameter column(s) {missing}")
        x = table[list(columns)].to_numpy(dtype=np.float64)
        method, fitter = metamodel(len(columns), max_gp_points, seed)
        value, se = evppi_of(x, inb, fitter, bootstrap, seed)
        rows.append(
            {
                "group": name,
                "parameters": ", ".join(columns),
                "n_parameters": len(columns),
                "method": method,
                "evppi_per_patient": value,
                "se_per_patient": se,
                "evppi_population": value * population,
                "se_population": se * population,
                "wtp": float(wtp),
            }
        )
    out = pd.DataFrame(rows)
    return out.sort_values("evppi_per_patient", ascending=False, ignore_index=True)
