"""Run folders' files: tidy tables as Parquet plus ``manifest.json``, each written atomically.

Which folder a run goes to, and how a whole run replaces an earlier one, is
:mod:`cartsim.runs.folders`; here are the files themselves, written and read back.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cartsim.inputs.errors import CartsimError
from cartsim.runs.atomic import atomic_writer, write_text

if TYPE_CHECKING:  # pandas is imported where a table is read: reading a manifest needs none
    import pandas as pd

    from cartsim.inputs.loading import ScenarioSource
    from cartsim.inputs.scenario import Scenario

PACKAGES = ("cartsim", "simpy", "numpy", "scipy", "pandas", "pyarrow", "plotly", "pydantic")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_files(out: Path, tables: dict[str, pd.DataFrame], extra: dict[str, str]) -> list[Path]:
    """Write ``name.parquet`` for each table, then each ``extra`` text file, into ``out``.

    Each file is replaced atomically (:mod:`cartsim.runs.atomic`); ``manifest.json`` given in
    ``extra`` is written last, so a folder with a manifest holds all of its tables.
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        with atomic_writer(out / f"{name}.parquet") as handle:
            frame.to_parquet(handle, index=False)
        paths.append(out / f"{name}.parquet")
    for name, text in extra.items():
        paths.append(write_text(out / name, text))
    return paths


def manifest(
    scenario_dump: dict[str, Any],
    files: dict[str, str],
    seed: int,
    replications: int,
    started: dt.datetime,
    finished: dt.datetime,
    **extra: Any,
) -> str:
    """The ``manifest.json`` text of a run."""
    body = {
        "cartsim_version": package_versions()["cartsim"],
        "scenario_files": files,
        "seed": seed,
        "replications": replications,
        "command_line": sys.argv,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "versions": package_versions(),
        "scenario": scenario_dump,
        **extra,
    }
    return json.dumps(body, indent=2, default=str)


def run_manifest(
    source: ScenarioSource, scenario: Scenario, started: dt.datetime, **extra: Any
) -> dict[str, str]:
    """``{"manifest.json": text}`` of a run of ``scenario`` that started at ``started``."""
    text = manifest(
        scenario.model_dump(mode="json"),
        source.digests(),
        scenario.run.seed,
        scenario.run.replications,
        started,
        dt.datetime.now(),
        parameters_used=source.used_parameters(),
        **extra,
    )
    return {"manifest.json": text}


def read_table(run_dir: Path, name: str) -> pd.DataFrame | None:
    """A table of a run folder, or None when the run did not write it."""
    import pandas as pd

    path = run_dir / f"{name}.parquet"
    return pd.read_parquet(path) if path.is_file() else None


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "manifest.json"
    if not path.is_file():
        raise CartsimError("not a run folder (no manifest.json)", file=str(run_dir))
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CartsimError(f"unreadable manifest: {exc.msg}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise CartsimError(f"unreadable manifest: not UTF-8 ({exc.reason})", str(path)) from None
    except OSError as exc:
        raise CartsimError(f"unreadable manifest: {exc.strerror}", file=str(path)) from None
    return data
