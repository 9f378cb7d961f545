"""The one walker of nested scenario data: paths, order, stages by name."""

from __future__ import annotations

import pytest

from cartsim.inputs import tree
from cartsim.report.text import find

DATA = {
    "run": {"seed": 1},
    "arms": {"cart": {"stages": [{"name": "apheresis", "duration": 1}, {"name": "mfg"}]}},
    "parameters": {"p": {"value": 3}},
}


def test_nodes_visit_parents_before_children_with_dotted_paths() -> None:
    paths = [path for path, _ in tree.nodes(DATA)]
    assert paths[:3] == ["", "run", "run.seed"]
    assert "arms.cart.stages.0.duration" in paths
    assert paths.index("arms.cart.stages") < paths.index("arms.cart.stages.1.name")


def test_map_leaves_copies_and_passes_each_leaf_its_path() -> None:
    seen = {}
    out = tree.map_leaves(DATA, lambda path, leaf: seen.setdefault(path, leaf) and 0)
    assert seen["arms.cart.stages.0.duration"] == 1 and seen["parameters.p.value"] == 3
    assert out["run"]["seed"] == 0 and DATA["run"]["seed"] == 1  # a copy


@pytest.mark.parametrize(
    ("key", "index"), [("0", 0), ("-1", -1), ("mfg", 1), ("2", None), ("nope", None)]
)
def test_list_items_by_position_or_name(key: str, index: int | None) -> None:
    assert tree.list_index(DATA["arms"]["cart"]["stages"], key) == index


def test_value_at_reads_stages_by_name_and_gives_none_for_missing() -> None:
    assert tree.value_at(DATA, "arms.cart.stages.apheresis.duration") == 1
    assert tree.value_at(DATA, "arms.cart.stages.0.duration") == 1
    assert tree.value_at(DATA, "arms.cart.stages.nope.duration") is None
    assert tree.value_at(DATA, "run.seed.deeper") is None


def test_find_prefers_a_mappings_own_keys_and_skips_parameters() -> None:
    data = {"a": {"x": 1}, "x": 2, "parameters": {"y": 5}}
    assert find(data, "x") == 2  # the top level's own key before a child's
    assert find({"a": {"x": 1}, "b": {"x": 3}}, "x") == 1  # children in order
    assert find(data, "y") is None  # nothing inside parameters


def test_leaves_give_the_keys_of_every_leaf_in_order() -> None:
    found = dict(tree.leaves(DATA))
    assert found[("arms", "cart", "stages", 0, "duration")] == 1
    assert found[("arms", "cart", "stages", 1, "name")] == "mfg"
    assert list(found)[0] == ("run", "seed") and len(found) == 5


def test_replaced_equals_map_leaves_and_leaves_the_tree_alone() -> None:
    """Replacing two leaves gives what mapping every leaf gives; nothing of ``DATA`` changes and
    only the containers on the way to a change are new."""
    change = {("arms", "cart", "stages", 0, "duration"): 9, ("parameters", "p", "value"): 4}
    out = tree.replaced(DATA, change.items())
    by_path = {".".join(map(str, k)): v for k, v in change.items()}
    assert out == tree.map_leaves(DATA, lambda path, leaf: by_path.get(path, leaf))
    assert DATA["arms"]["cart"]["stages"][0]["duration"] == 1 and DATA["parameters"]["p"] == {
        "value": 3
    }
    assert (
        out["run"] is DATA["run"]
        and out["arms"]["cart"]["stages"][1] is DATA["arms"]["cart"]["stages"][1]
    )
    assert out["arms"]["cart"]["stages"] is not DATA["arms"]["cart"]["stages"]
