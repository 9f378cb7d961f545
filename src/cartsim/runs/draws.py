"""The parameter draws of a probabilistic sensitivity analysis.

Parameter ``name`` of draw ``iteration`` takes the first uniform of the named stream ``psa.<name>``
of that draw (:class:`cartsim.engine.streams.Streams`, replication 0), so a draw depends on the
seed, the iteration and the name alone, whichever worker asks for it and in whatever order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cartsim.engine.streams import first_uniforms, name_key
from cartsim.inputs.loading import ScenarioSource
from cartsim.inputs.scenario import Scenario


def parameter_draws(source: ScenarioSource, iterations: Sequence[int]) -> pd.DataFrame:
    """Probabilistic draws of every parameter with a distribution: one row per iteration.

    Parameter ``name`` of draw ``iteration`` takes the first uniform of the named stream
    ``psa.<name>`` of that draw (:class:`cartsim.engine.streams.Streams`, replication 0): adding,
    removing or reordering parameters changes no other draw, and the table is the same whichever
    iterations it is asked for.
    """
    table: dict[str, np.ndarray] = {"iteration": np.asarray(iterations, dtype=np.int64)}
    table.update({f"param_{k}": v for k, v in _drawn(source, iterations).items()})
    return pd.DataFrame(table)


def _drawn(source: ScenarioSource, iterations: Sequence[int]) -> dict[str, np.ndarray]:
    """Each parameter with a distribution: its draws of ``iterations`` (as
    :func:`parameter_draws`), every stream's first uniform found at once."""
    drawn = {name: p.psa for name, p in source.parameters.items() if p.psa is not None}
    keys = [name_key(f"psa.{name}") for name in drawn]
    u = first_uniforms(source_seed(source), [int(i) for i in iterations], keys)
    return {name: dist.ppf(u[k]) for k, (name, dist) in enumerate(drawn.items())}


def draws_in_scenario_money(source: ScenarioSource, draws: pd.DataFrame) -> pd.DataFrame:
    """``draws`` (as :func:`parameter_draws`, each parameter in its own unit) with money
    parameters converted to the scenario's currency and price year, as the model used them."""
    factors = source.money_factors()
    converted = {
        column: draws[column] * factors[name]
        for column in draws.columns
        if (name := str(column).removeprefix("param_")) in factors and column != "iteration"
    }
    return draws.assign(**converted) if converted else draws


def draw_parameters(source: ScenarioSource, iteration: int) -> dict[str, float]:
    """The parameter values of one draw (see :func:`parameter_draws`)."""
    row = parameter_draws(source, [iteration]).iloc[0]
    return {str(k).removeprefix("param_"): float(v) for k, v in row.items() if k != "iteration"}


DRAW_BLOCK = 16  # iterations whose parameters a worker draws at once (a batch of units at most)


class PsaDraws:
    """A worker's parameter draws of one scenario, drawn a block of iterations at a time (one
    vectorised ppf call per parameter and block), and the scenario of the last draw built, so
    the replications of an iteration (consecutive units) validate it once."""

    def __init__(self, source: ScenarioSource) -> None:
        self.source = source
        self.blocks: dict[int, dict[str, np.ndarray]] = {}
        self.built: tuple[int, Scenario] | None = None

    def values(self, iteration: int) -> dict[str, float]:
        block = iteration // DRAW_BLOCK
        table = self.blocks.get(block)
        if table is None:
            start = block * DRAW_BLOCK
            table = _drawn(self.source, range(start, start + DRAW_BLOCK))
            self.blocks = {block: table}  # one block held: memory flat in the iterations
        row = iteration - block * DRAW_BLOCK
        return {name: float(values[row]) for name, values in table.items()}

    def scenario(self, iteration: int) -> Scenario:
        if self.built is None or self.built[0] != iteration:
            self.built = (iteration, self.source.build(self.values(iteration)))
        return self.built[1]


_DRAWS: PsaDraws | None = None


def psa_draws(source: ScenarioSource) -> PsaDraws:
    """The draws of ``source`` in this process (kept while the same source object is in use)."""
    global _DRAWS
    if _DRAWS is None or _DRAWS.source is not source:
        _DRAWS = PsaDraws(source)
    return _DRAWS


def source_seed(source: ScenarioSource) -> int:
    return int(source.raw.get("run", {}).get("seed", 0) or 0)
