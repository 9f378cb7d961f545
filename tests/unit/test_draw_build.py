"""A draw's scenario built by putting values where they are referred to (parameters validated
once) equals the one built by substituting every leaf and validating it all, for every shipped
scenario; building leaves the composed scenario untouched; a draw the schema refuses is still
one located error."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from builders import ROOT

from cartsim.inputs import loading
from cartsim.inputs.errors import ScenarioError
from cartsim.runs.draws import draw_parameters

SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_a_draw_built_in_place_equals_the_full_build(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = loading.load(path)
    composed = copy.deepcopy(source.raw)
    draws = [draw_parameters(source, iteration) for iteration in (0, 7)]
    assert all(source.checked_references({**source.base_values(), **d}) for d in draws)
    fast = [source.build(d) for d in draws]
    monkeypatch.setattr(loading.ScenarioSource, "checked_references", lambda *_: False)
    slow = [source.build(d) for d in draws]
    assert fast == slow and fast[0] != fast[1]
    assert source.raw == composed


def test_a_refused_draw_names_its_field(tmp_path: Path) -> None:
    source = loading.load(ROOT / "scenarios" / "baseline.yaml")
    assert source.references  # the baseline refers to parameters
    keys, name = next((k, n) for k, n in source.references if "duration" in k)
    with pytest.raises(ScenarioError) as caught:
        source.build({name: -1.0})
    assert "duration" in (caught.value.field or ""), caught.value
