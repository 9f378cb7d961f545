"""Parameter draws of a PSA come from the same named streams as every other random quantity."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cartsim.engine.streams import Streams
from cartsim.inputs.loading import load
from cartsim.runs.draws import parameter_draws

SCENARIO = Path(__file__).parents[2] / "scenarios" / "cart_vs_asct.yaml"


def test_each_parameter_draw_is_its_named_stream_through_its_distribution() -> None:
    source = load(SCENARIO, ["run.seed=5"])
    table = parameter_draws(source, [0, 7, 3])
    name, parameter = next((n, p) for n, p in source.parameters.items() if p.psa is not None)
    expected = [
        parameter.psa.ppf(Streams(5, draw=i).uniforms(f"psa.{name}", 1))[0] for i in (0, 7, 3)
    ]
    np.testing.assert_array_equal(table[f"param_{name}"].to_numpy(), expected)
