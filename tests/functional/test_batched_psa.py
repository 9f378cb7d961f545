"""Batched PSA draws: block draws and the cached scenario equal the one-by-one path."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import ROOT

from cartsim.inputs import loading
from cartsim.runs.analyses import arm_summary, psa_unit
from cartsim.runs.draws import DRAW_BLOCK, draw_parameters, psa_draws

SCENARIO = ROOT / "scenarios" / "cart_vs_asct.yaml"


@pytest.fixture(scope="module")
def source() -> loading.ScenarioSource:
    return loading.load(SCENARIO)


def test_block_draws_equal_one_draw_at_a_time(source: loading.ScenarioSource) -> None:
    draws = psa_draws(source)
    # out of order and across block edges: a block must be indexed by its own first iteration
    iterations = [0, 1, DRAW_BLOCK - 1, DRAW_BLOCK, 5, 3 * DRAW_BLOCK + 7, 2 * DRAW_BLOCK - 1]
    iterations += list(range(100, 140))
    for iteration in iterations:
        assert draws.values(iteration) == draw_parameters(source, iteration), iteration


def test_cached_scenario_is_the_validated_build_of_its_draw(
    source: loading.ScenarioSource,
) -> None:
    draws = psa_draws(source)
    for iteration in (7, 7, 8, DRAW_BLOCK + 2, 8):
        assert draws.scenario(iteration) == source.build(draw_parameters(source, iteration))


def test_psa_unit_equals_the_unbatched_unit(source: loading.ScenarioSource) -> None:
    for iteration, replication in ((2, 0), (DRAW_BLOCK + 1, 1)):
        scenario = source.build(draw_parameters(source, iteration))
        expected = [
            {"iteration": iteration, **row} for row in arm_summary(scenario, replication, iteration)
        ]
        assert psa_unit(source, iteration, replication) == expected


def test_draws_follow_the_source_in_use(tmp_path: Path, source: loading.ScenarioSource) -> None:
    other = loading.load(SCENARIO, ["run.seed=12345"])
    assert psa_draws(other).source is other
    assert psa_draws(other).values(3) == draw_parameters(other, 3)
    assert psa_draws(other).values(3) != draw_parameters(source, 3)  # not the first source's
    assert psa_draws(source).source is source
