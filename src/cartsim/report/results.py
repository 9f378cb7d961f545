"""Run folders: tidy tables as Parquet plus ``manifest.json``, written atomically.

Files are first written to a scratch folder beside the run folder and then moved into place one
by one, so an interrupted or failed run never leaves a half-written table behind, and files
already in the folder are only replaced by complete ones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from cartsim.inputs.errors import CartsimError

PACKAGES = ("cartsim", "simpy", "numpy", "scipy", "pandas", "pyarrow", "plotly", "pydantic")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_id(now: dt.datetime, seed: int) -> str:
    """A folder name for a run: its start time and seed."""
    return f"{now:%Y%m%d-%H%M%S}-seed{seed}"


def prepare_out_dir(out: Path) -> Path:
    """Create ``out`` if needed; a file in its place is a user error."""
    if out.exists() and not out.is_dir():
        raise CartsimError("exists and is not a folder", file=str(out), field="--out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CartsimError(f"cannot create folder: {exc.strerror}", str(out), "--out") from None
    return out


CONTRACT = (
    "events.parquet", "patients.parquet", "resources.parquet", "kpis.parquet", "metrics.parquet",
    "budget.parquet", "incremental.parquet",
)  # fmt: skip


def write_files(
    out: Path, tables: dict[str, pd.DataFrame], extra: dict[str, str], replace: bool = False
) -> list[Path]:
    """Write ``name.parquet`` for each table and each ``extra`` text file into ``out``.

    ``replace``: the folder holds one run: tables of the run contract that this run did not
    write (another scenario's incremental table, say) are removed.
    """
    prepare_out_dir(out)
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=out))
    try:
        names = []
        for name, frame in tables.items():
            frame.to_parquet(scratch / f"{name}.parquet", index=False)
            names.append(f"{name}.parquet")
        for name, text in extra.items():
            (scratch / name).write_text(text, encoding="utf-8")
            names.append(name)
        for name in names:
            os.replace(scratch / name, out / name)
        if replace:
            for stale in set(CONTRACT) - set(names):
                (out / stale).unlink(missing_ok=True)
        return [out / n for n in names]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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


def read_table(run_dir: Path, name: str) -> pd.DataFrame | None:
    """A table of a run folder, or None when the run did not write it."""
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
