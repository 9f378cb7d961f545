"""External validation: published figures the inputs were not taken from, and verdicts.

A target is a published value with its interval (a 95% CI, an approximate one, a range, or a
direction such as "aHSCT survival minus SoC survival >= 0"). The model's value is the mean over
replications with its 95% t-interval (:func:`cartsim.decide.stats.mean_ci`). The verdict compares
the two intervals, never the means:

- ``consistent``: the intervals overlap (``position`` ``inside`` when the simulated interval lies
  wholly within the target's, else ``overlaps``). Overlap is absence of evidence of a
  difference, not proof of agreement.
- ``outside``: they do not overlap (``position`` ``above`` or ``below``). For two independent
  95% intervals of roughly normal estimates, no overlap means the difference is significant at
  well under the 5% level (about 0.6% for equal widths), so an ``outside`` verdict is rarely due
  to chance alone; with a wide simulated interval (few replications) ``consistent`` says little.
- ``not estimable``: fewer than two replications with patients in the denominator.
- ``not applicable``: an arm of the target is not in the scenario run.

Targets live in ``cartsim/data/validation_targets.yaml``; :func:`load_targets` validates them.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cartsim.decide.stats import mean_ci
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.units import DAYS_PER_YEAR

MEASURES = ("overall_survival", "event_free_survival", "overall_survival_difference")
VERDICTS = ("consistent", "outside", "not estimable", "not applicable")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a target's figure was published."""

    citation: str = Field(description="authors, journal, year, volume:pages")
    doi: str | None = None
    keys: list[Annotated[str, Field(min_length=3)]] = Field(
        min_length=1,
        description="strings that name this publication in an evidence file's source field",
    )


class Target(_Strict):
    """One published figure to compare the model with."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    description: str
    disease: Literal["SLE", "IIM", "SSc"]
    population: str = Field(description="who the published figure is about")
    min_age: float | None = Field(default=None, ge=0, description="years, at referral")
    max_age: float | None = Field(default=None, gt=0, description="years, at referral")
    measure: Literal["overall_survival", "event_free_survival", "overall_survival_difference"]
    time_months: float = Field(gt=0, description="months after the origin")
    origin: Literal["referral", "treatment"] = Field(
        description="referral: from arrival (intention to treat); treatment: treated patients"
    )
    value: float | None = Field(description="published value (share); none for a direction")
    interval: tuple[float, float] = Field(description="low, high (shares, or a difference)")
    interval_kind: Literal["95% CI", "approximate 95% CI", "range", "direction"]
    scenario: str = Field(description="the scenario the target was written for")
    arms: list[str] = Field(min_length=1, max_length=2)
    source: Source
    shares_source_with: dict[str, str] = Field(
        default_factory=dict,
        description="input parameters taken from the same publication, each with why this "
        "figure is not the one they were taken from",
    )
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        low, high = self.interval
        if not low <= high:
            raise ValueError(f"interval low {low} above high {high}")
        if self.value is not None and not low <= self.value <= high:
            raise ValueError(f"value {self.value} outside its interval [{low}, {high}]")
        two = self.measure == "overall_survival_difference"
        if two != (len(self.arms) == 2):
            raise ValueError("a difference needs two arms (first minus second); others one arm")
        if (self.interval_kind == "direction") != (self.value is None):
            raise ValueError("a direction has no value; every other target has one")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age above max_age")
        return self

    @property
    def time_days(self) -> float:
        return self.time_months * DAYS_PER_YEAR / 12.0


class TargetFile(_Strict):
    """The targets file: a list of targets with unique ids."""

    targets: list[Target] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> TargetFile:
        ids = [t.id for t in self.targets]
        doubles = sorted({i for i in ids if ids.count(i) > 1})
        if doubles:
            raise ValueError(f"duplicate target id {doubles[0]}")
        return self


def default_targets_path() -> Path:
    """The targets shipped with cartsim."""
    return Path(str(resources.files("cartsim") / "data" / "validation_targets.yaml"))


def load_targets(path: Path | None = None) -> list[Target]:
    """Read and validate a targets file; a problem is one :class:`CartsimError` line."""
    path = path or default_targets_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CartsimError(f"cannot read: {exc.strerror}", file=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise CartsimError(f"{where}not valid YAML", file=str(path)) from None
    try:
        return TargetFile.model_validate(data).targets
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"])
        index = (
            error["loc"][1] if error["loc"][:1] == ("targets",) and len(error["loc"]) > 1 else None
        )
        if isinstance(index, int):
            items = data.get("targets") if isinstance(data, dict) else None
            item = items[index] if isinstance(items, list) and index < len(items) else None
            name = item.get("id") if isinstance(item, dict) else None
            line = _item_line(path, index)
            where = ", ".join(x for x in (f"target {name}" if name else "", line) if x)
            loc = f"{loc} ({where})" if where else loc
        raise CartsimError(error["msg"], file=str(path), field=loc or None) from None


def _item_line(path: Path, index: int) -> str:
    """``line N`` where the ``index``-th target starts in ``path`` ('' when unknown)."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return ""
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            is_list = key.value == "targets" and isinstance(value, yaml.SequenceNode)
            if is_list and index < len(value.value):
                return f"line {value.value[index].start_mark.line + 1}"
    return ""


def position(sim: tuple[float, float], target: tuple[float, float]) -> str:
    """``inside``, ``overlaps``, ``above``, ``below`` or ``unknown`` (a NaN bound)."""
    s_low, s_high = sim
    t_low, t_high = target
    if any(math.isnan(x) for x in (s_low, s_high)):
        return "unknown"
    if s_low > t_high:
        return "above"
    if s_high < t_low:
        return "below"
    if t_low <= s_low and s_high <= t_high:
        return "inside"
    return "overlaps"


def verdict(sim: tuple[float, float], target: tuple[float, float]) -> str:
    """``consistent`` when the intervals overlap, ``outside`` when not (see the module)."""
    where = position(sim, target)
    if where == "unknown":
        return "not estimable"
    return "outside" if where in ("above", "below") else "consistent"


def compare(target: Target, values: np.ndarray | None, level: float = 0.95) -> dict[str, object]:
    """One row of the validation table from the per-replication simulated ``values``.

    ``values`` is ``None`` when the target does not apply to the run (an arm is missing).
    """
    row: dict[str, object] = {
        "target": target.id,
        "description": target.description,
        "disease": target.disease,
        "arms": " - ".join(target.arms),
        "measure": target.measure,
        "time_months": target.time_months,
        "origin": target.origin,
        "target_value": np.nan if target.value is None else target.value,
        "target_low": target.interval[0],
        "target_high": target.interval[1],
        "interval_kind": target.interval_kind,
        "source": target.source.citation,
        "doi": target.source.doi or "",
        "shares_source_with": ", ".join(sorted(target.shares_source_with)),
    }
    finite = np.asarray([] if values is None else values, dtype=float)
    finite = finite[np.isfinite(finite)]
    mean, low, high = mean_ci(finite, level) if finite.size else (np.nan, np.nan, np.nan)
    row.update(simulated=mean, simulated_low=low, simulated_high=high)
    row["n_replications"] = int(finite.size)
    if values is None:
        row.update(position="—", verdict="not applicable")
    else:
        row["position"] = position((low, high), target.interval)
        row["verdict"] = verdict((low, high), target.interval)
    return row


def validation_table(
    targets: list[Target], values: dict[str, np.ndarray | None], level: float = 0.95
) -> pd.DataFrame:
    """Every target, in file order, with its simulated interval and verdict (none dropped)."""
    return pd.DataFrame([compare(t, values.get(t.id), level) for t in targets])


def report_rows(table: pd.DataFrame) -> list[dict[str, str]]:
    """Rows for the report's validation section, each tied to its AdViSHE item.

    AdViSHE (Vemer et al., PharmacoEconomics 2016;34:349, doi:10.1007/s40273-015-0327-2) part D,
    validation of outcomes: D5 compares with data not used to build the model (independent);
    a target that shares its publication with an input (another figure of the same trial) is
    listed under D4, comparison with data used in the model's development (dependent).
    """
    rows = []
    for r in table.to_dict("records"):
        item = "D4 (partly dependent data)" if r["shares_source_with"] else "D5 (independent data)"
        low, high, mean = (float(r[k]) for k in ("simulated_low", "simulated_high", "simulated"))
        sim = f"{mean:.3f} ({low:.3f} to {high:.3f})" if math.isfinite(low) else "—"
        value = float(r["target_value"])
        published = "" if math.isnan(value) else f"{value:.3f} "
        rows.append(
            {
                "AdViSHE item": item,
                "target": str(r["target"]),
                "what": str(r["description"]),
                "simulated (95% CI)": sim,
                "published": f"{published}[{float(r['target_low']):g}, "
                f"{float(r['target_high']):g}] ({r['interval_kind']})",
                "verdict": f"{r['verdict']} ({r['position']})",
                "source": str(r["source"]),
            }
        )
    return rows
