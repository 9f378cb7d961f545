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
* a group: a Gaussian process with one length scale per parameter and a white-noise term
  (scikit-learn ``GaussianProcessRegressor``), hyperparameters by maximum marginal likelihood on
  at most ``max_gp_points`` iterations, fitted values by cross-fitting (each iteration predicted
  by a process fitted without it, so the patient-level noise of a PSA iteration cannot be
  mistaken for information). A group of more than ``MAX_GP_PARAMETERS`` parameters is screened
  to the members whose own regression explains most of the incremental net benefit; the method
  column says so, and such a value is a lower estimate.

scikit-learn is used because it is maintained, has both smoothers, and needs no compiled R
toolchain (mgcv, used by BCEA/voi/hesim, is not available from Python). The Monte Carlo standard
error is a bootstrap of the estimate over the iterations' fitted values: it covers the sampling
of iterations, not the error of the regression. Money is in the scenario's currency;
``population`` scales per-patient values.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Kernel, WhiteKernel
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer

from cartsim.decide.samples import FloatArray, check_wtp, wide
from cartsim.decide.stats import nmb

ALPHAS = np.logspace(-6, 6, 25)  # ridge penalties tried for the spline metamodel
MAX_GP_PARAMETERS = 12  # beyond this a Gaussian process fit is slow and poorly determined
MIN_LENGTH_SCALE = 0.3  # standard deviations of a parameter
MIN_NOISE = 1e-3  # share of the variance of the incremental net benefit
FOLDS = 5
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
    """Fitted values of a penalised cubic regression spline of each column of ``y`` on the
    single column of ``x``."""
    knots = int(min(10, max(3, np.unique(x[:, 0]).size // 10)))
    model = make_pipeline(
        SplineTransformer(n_knots=knots, degree=3, knots="quantile", extrapolation="linear"),
        RidgeCV(alphas=ALPHAS),
    )
    return np.asarray(model.fit(x, y).predict(x), dtype=np.float64).reshape(y.shape)


def explained_share(x: FloatArray, y: FloatArray) -> FloatArray:
    """Per column of ``x``: share of the variance of ``y`` its own regression spline explains."""
    total = float(((y - y.mean(axis=0)) ** 2).sum())
    shares = np.zeros(x.shape[1])
    for j in range(x.shape[1]):
        if total > 0 and x[:, j].std() > 0:
            fitted = spline_fitter(x[:, j : j + 1], y)
            shares[j] = 1.0 - float(((y - fitted) ** 2).sum()) / total
    return shares


class GaussianProcessMetamodel:
    """ARD squared-exponential + white-noise Gaussian process, one per column of ``y``.

    The first call fits the hyperparameters by maximum marginal likelihood on at most
    ``max_points`` rows (a seeded subsample); length scales are kept at or above
    ``MIN_LENGTH_SCALE`` standard deviations and the noise at or above ``MIN_NOISE`` of the
    variance, so that the process cannot interpolate the patient-level noise. Fitted values are
    out-of-fold predictions (``FOLDS``-fold cross-fitting with those hyperparameters), so no
    iteration's own noise enters its fitted value.
    """

    def __init__(self, max_points: int, seed: int) -> None:
        self.max_points = max_points
        self.seed = seed
        self.kernels: list[Kernel] | None = None

    def _kernels(self, x: FloatArray, y: FloatArray) -> list[Kernel]:
        rows = np.arange(x.shape[0])
        if rows.size > self.max_points:
            rng = np.random.default_rng(self.seed)
            rows = np.sort(rng.choice(rows, self.max_points, replace=False))
        kernels = []
        for j in range(y.shape[1]):
            kernel = ConstantKernel(1.0) * RBF(
                np.ones(x.shape[1]), (MIN_LENGTH_SCALE, 1e3)
            ) + WhiteKernel(0.1, (MIN_NOISE, 1e1))
            model = GaussianProcessRegressor(kernel, normalize_y=True, random_state=self.seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(x[rows], y[rows, j])
            kernels.append(model.kernel_)
        return kernels

    def __call__(self, x: FloatArray, y: FloatArray) -> FloatArray:
        if self.kernels is None:
            self.kernels = self._kernels(x, y)
        out = np.empty_like(y)
        folds = np.random.default_rng(self.seed).permutation(x.shape[0]) % FOLDS
        for j, kernel in enumerate(self.kernels):
            for k in range(FOLDS):
                test = folds == k
                model = GaussianProcessRegressor(kernel, optimizer=None, normalize_y=True)
                model.fit(x[~test], y[~test, j])
                # the white-noise term does not enter predictions at new points: this is the
                # posterior mean of the noise-free signal
                out[test, j] = model.predict(x[test])
        return out


def metamodel(
    x: FloatArray, y: FloatArray, max_gp_points: int, seed: int
) -> tuple[str, Fitter, FloatArray]:
    """The regression for the parameters in the columns of ``x``: its name, the fitter and the
    columns it uses (a large group keeps its ``MAX_GP_PARAMETERS`` members whose own regression
    explains the most of ``y``)."""
    if x.shape[1] == 1:
        return "regression spline", spline_fitter, x
    method = "Gaussian process"
    if x.shape[1] > MAX_GP_PARAMETERS:
        keep = np.sort(np.argsort(-explained_share(x, y), kind="stable")[:MAX_GP_PARAMETERS])
        method += f" on the {MAX_GP_PARAMETERS} of {x.shape[1]} members explaining most"
        x = x[:, keep]
    return method, GaussianProcessMetamodel(max_gp_points, seed), x


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
    """EVPPI per patient of the (standardised) parameters in the columns of ``x``, and its Monte
    Carlo standard error: the standard deviation of the estimate over ``bootstrap`` resamples
    of the iterations' fitted values (0 gives NaN). It measures the sampling of iterations; the
    error of the regression itself is not included."""
    fitted = fitter(x, inb)
    value = value_of_information(fitted)
    if bootstrap < 2:
        return value, math.nan
    rng = np.random.default_rng(seed)
    n = fitted.shape[0]
    reps = [value_of_information(fitted[rng.integers(0, n, n)]) for _ in range(bootstrap)]
    return value, float(np.std(reps, ddof=1))


def evppi(
    psa: pd.DataFrame,
    parameters: pd.DataFrame,
    wtp: float,
    groups: Mapping[str, Sequence[str]],
    population: float = 1.0,
    *,
    bootstrap: int = 200,
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
        x = _standardised(table[list(columns)].to_numpy(dtype=np.float64))
        method, fitter, x = metamodel(x, inb, max_gp_points, seed)
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
