"""``extends:`` composition: merge rules, relative paths, missing files and cycles."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartsim.inputs.errors import CartsimError, ScenarioError
from cartsim.inputs.loading import LINES, ORIGINS, compose, deep_merge


def body(data: dict) -> dict:
    """The composed mapping without its bookkeeping."""
    return {k: v for k, v in data.items() if k not in (ORIGINS, LINES)}


def test_mappings_merge_key_by_key(write_yaml) -> None:
    write_yaml({"run": {"seed": 1, "replications": 2}, "name": "base"}, "base.yaml")
    top = write_yaml({"extends": ["base.yaml"], "run": {"seed": 5}})
    data, _ = compose(top)
    assert body(data) == {"run": {"seed": 5, "replications": 2}, "name": "base"}


def test_lists_and_scalars_replace(write_yaml) -> None:
    write_yaml({"stages": [{"name": "a"}, {"name": "b"}], "name": "base", "x": {"y": 1}}, "b.yaml")
    top = write_yaml({"extends": "b.yaml", "stages": [{"name": "c"}], "name": "top", "x": 3})
    data, _ = compose(top)
    assert body(data) == {"stages": [{"name": "c"}], "name": "top", "x": 3}


def test_later_bases_override_earlier_and_the_file_overrides_all(write_yaml) -> None:
    write_yaml({"v": {"a": 1, "b": 1, "c": 1}}, "one.yaml")
    write_yaml({"v": {"b": 2, "c": 2}}, "two.yaml")
    top = write_yaml({"extends": ["one.yaml", "two.yaml"], "v": {"c": 3}})
    data, files = compose(top)
    assert data["v"] == {"a": 1, "b": 2, "c": 3}
    assert [f.name for f in files] == ["one.yaml", "two.yaml", "scenario.yaml"]


def test_paths_are_relative_to_the_extending_file(write_yaml, tmp_path, monkeypatch) -> None:
    write_yaml({"from": "shared"}, "lib/shared.yaml")
    write_yaml({"extends": ["../lib/shared.yaml"], "mid": True}, "sub/mid.yaml")
    top = write_yaml({"extends": ["sub/mid.yaml"]}, "top.yaml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    data, files = compose(Path("..") / "top.yaml")
    assert body(data) == {"from": "shared", "mid": True}
    assert files == [
        (tmp_path / "lib/shared.yaml").resolve(),
        (tmp_path / "sub/mid.yaml").resolve(),
        top.resolve(),
    ]


def test_a_diamond_is_not_a_cycle(write_yaml) -> None:
    write_yaml({"root": 1}, "root.yaml")
    write_yaml({"extends": ["root.yaml"], "left": 1}, "left.yaml")
    write_yaml({"extends": ["root.yaml"], "right": 1}, "right.yaml")
    data, files = compose(write_yaml({"extends": ["left.yaml", "right.yaml"]}))
    assert body(data) == {"root": 1, "left": 1, "right": 1}
    assert [f.name for f in files] == ["root.yaml", "left.yaml", "right.yaml", "scenario.yaml"]


@pytest.mark.parametrize(
    "files",
    [
        {"a.yaml": ["a.yaml"]},
        {"a.yaml": ["b.yaml"], "b.yaml": ["a.yaml"]},
        {"a.yaml": ["b.yaml"], "b.yaml": ["c.yaml"], "c.yaml": ["b.yaml"]},
    ],
    ids=["self", "two", "three"],
)
def test_cycles_are_refused_with_a_clear_error(write_yaml, files: dict[str, list[str]]) -> None:
    for name, bases in files.items():
        write_yaml({"extends": bases, "name": name}, name)
    with pytest.raises(ScenarioError, match="extends forms a cycle") as info:
        compose(write_yaml({"extends": ["a.yaml"]}, "top.yaml"))
    assert info.value.field == "extends"
    assert Path(info.value.file or "").name in files


def test_a_missing_file_names_the_extending_file(write_yaml) -> None:
    top = write_yaml({"extends": ["nowhere.yaml"]})
    with pytest.raises(
        ScenarioError, match="extended file not found or unreadable: nowhere.yaml"
    ) as info:
        compose(top)
    assert info.value.file == str(top.resolve())
    assert info.value.field == "extends"
    assert isinstance(info.value, CartsimError)


def test_a_folder_is_not_a_file(write_yaml, tmp_path) -> None:
    (tmp_path / "folder.yaml").mkdir()
    with pytest.raises(ScenarioError, match="extended file is a folder"):
        compose(write_yaml({"extends": ["folder.yaml"]}))


@pytest.mark.parametrize("bad", [3, {"a": "b.yaml"}, ["b.yaml", 4]])
def test_extends_must_be_names(write_yaml, bad: object) -> None:
    write_yaml({"x": 1}, "b.yaml")
    with pytest.raises(ScenarioError, match="must be a file name or a list of them"):
        compose(write_yaml({"extends": bad}))


def test_origins_name_the_file_that_last_defines_a_parameter(write_yaml) -> None:
    base = write_yaml({"parameters": {"p": {"value": 1}, "q": {"value": 2}}}, "base.yaml")
    top = write_yaml({"extends": ["base.yaml"], "parameters": {"q": {"value": 3}}})
    data, _ = compose(top)
    assert data["parameters"] == {"p": {"value": 1}, "q": {"value": 3}}
    assert data[ORIGINS] == {"p": str(base.resolve()), "q": str(top.resolve())}


def test_deep_merge_does_not_alias_or_mutate_its_inputs() -> None:
    base = {"a": {"b": [1, 2]}, "c": 1}
    top = {"a": {"d": {"e": 1}}}
    out = deep_merge(base, top)
    assert out == {"a": {"b": [1, 2], "d": {"e": 1}}, "c": 1}
    out["a"]["b"].append(3)
    out["a"]["d"]["e"] = 2
    assert base == {"a": {"b": [1, 2]}, "c": 1} and top == {"a": {"d": {"e": 1}}}
