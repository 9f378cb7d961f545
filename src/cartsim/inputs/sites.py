"""Sites of a national service: each with resources of its own and a catchment share of the
national referrals; resources not owned by a site are shared nationally.

A stage that names a resource uses, for a patient, the resource of that name of the patient's
site when the site owns one, else the national one (``resources:``). A site's own resource is
known elsewhere by its qualified name ``site.resource`` (in the event log, the resource table and
KPI names such as ``utilisation_north.manufacturing``). A national resource stands at one place,
:data:`NATIONAL`, apart from every site, so a transport leg between a site's resource and a
national one is taken, and a leg between two resources of the same site is not.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from cartsim.inputs.capacity import Resource
from cartsim.inputs.fields import NonNegative, Probability, Strict
from cartsim.inputs.stages import Transport

if TYPE_CHECKING:
    from cartsim.inputs.scenario import Scenario

NATIONAL = "national"  # where the nationally shared resources stand
RESERVED_SITES = (NATIONAL, "service")  # "service": the whole service in per-site tables
SHARE_TOL = 1e-9
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")  # a site's name: it is part of qualified names


class Site(Strict):
    """A treatment centre: its catchment of the national referrals and its own resources."""

    label: str = Field(default="", description="name shown in reports (text)")
    description: str = Field(default="", description="what the site is (text)")
    catchment: dict[str, Probability] | Probability = Field(
        default=0.0,
        description="share of the national referrals of each disease referred to this site "
        "(one share for every disease, or one per disease); per disease, the sites' shares sum "
        "to 1",
    )
    referrals_per_year: dict[str, NonNegative] = Field(
        default={},
        description="referrals a year of each disease to this site, instead of catchment "
        "shares: the national demand's rate_per_year of a disease given this way is the sum over "
        "the sites, and each site's share is its rate over that sum",
    )
    resources: dict[str, Resource] = Field(
        default={}, description="resources of this site by name (a national one of the same "
        "name is then not used by its patients)"
    )  # fmt: skip

    @field_validator("catchment", mode="before")
    @classmethod
    def _one_share_or_a_share_per_disease(cls, value: Any) -> Any:
        """A mistake in the one-share form is named as such (not as a bad mapping)."""
        if isinstance(value, dict):
            return value
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(f"{value!r} is not a share between 0 and 1 (give one share for "
                             "every disease, or a share per disease)")  # fmt: skip
        return float(value)

    def share(self, disease: str) -> float:
        """Catchment share of the national referrals of ``disease`` (0 when not given)."""
        c = self.catchment
        return c.get(disease, 0.0) if isinstance(c, dict) else c


def disease_shares(scenario: Scenario, disease: str) -> list[float]:
    """Each site's share of the national referrals of ``disease``: its catchment share, or its
    ``referrals_per_year`` over the sites' sum when the disease is given as rates."""
    rates = [site.referrals_per_year.get(disease) for site in scenario.sites.values()]
    if all(r is None for r in rates):
        return [site.share(disease) for site in scenario.sites.values()]
    total = sum(r or 0.0 for r in rates)
    return [(r or 0.0) / total if total > 0 else 0.0 for r in rates]


def qualified(site: str, resource: str) -> str:
    """The name a site's own resource is known by outside its site."""
    return f"{site}.{resource}"


def all_resources(scenario: Scenario) -> dict[str, Resource]:
    """The national resources, then every site's own under its qualified name."""
    out = dict(scenario.resources)
    for site, spec in scenario.sites.items():
        out.update({qualified(site, name): r for name, r in spec.resources.items()})
    return out


def resolve(scenario: Scenario, resource: str, site: str | None) -> str:
    """The resource a patient of ``site`` uses for ``resource`` (qualified when the site owns
    it); ``site`` None: no sites, the national one."""
    if site is not None and resource in scenario.sites[site].resources:
        return qualified(site, resource)
    return resource


def location(scenario: Scenario, resource: str, site: str | None) -> str:
    """Where ``resource`` used by a patient of ``site`` stands: the site, or :data:`NATIONAL`."""
    owned = site is not None and resource in scenario.sites[site].resources
    return site if owned and site is not None else NATIONAL


def site_names(scenario: Scenario) -> list[str | None]:
    """The sites patients can be referred to; ``[None]`` when the scenario has none."""
    return list(scenario.sites) or [None]


def check_sites(s: Scenario) -> None:
    """Raise ``ValueError("field: problem")``: resource names with a '.', reserved, malformed
    or unknown names, catchment shares that do not sum to 1, a stage's resource that resolves
    to nothing for a site."""
    for where, owned in [("resources", s.resources)] + [
        (f"sites.{n}.resources", site.resources) for n, site in s.sites.items()
    ]:
        for resource in owned:
            if not resource.strip() or "." in resource:
                raise ValueError(f"{where}.{resource}: a resource name must not be empty or hold "
                                 "a '.' (site.resource names a site's own resource)")  # fmt: skip
    if not s.sites:
        for arm_name, arm in s.arms.items():
            for stage in arm.stages:
                if isinstance(stage, Transport):
                    raise ValueError(f"arms.{arm_name}.stages.{stage.name}: a transport leg needs "
                                     "sites (without them every resource stands at one place and "
                                     "the leg is never taken)")  # fmt: skip
        return
    for name, site in s.sites.items():
        if name in RESERVED_SITES or not NAME.fullmatch(name):
            raise ValueError(f"sites.{name}: the site name {name!r} is reserved, or not a letter "
                             "followed by letters, digits, '_' or '-'")  # fmt: skip
        for disease in site.catchment if isinstance(site.catchment, dict) else []:
            if disease not in s.demand:
                raise ValueError(
                    f"sites.{name}.catchment.{disease}: unknown disease (known: {sorted(s.demand)})"
                )
    _check_rates(s)
    for disease in s.demand:
        each = disease_shares(s, disease)
        total = sum(each)
        if abs(total - 1.0) > SHARE_TOL:
            shares = ", ".join(f"{n} {x:g}" for n, x in zip(s.sites, each, strict=True))
            raise ValueError(
                f"sites: the catchment shares of {disease} sum to {total:.6g}, not 1 ({shares})"
            )
    for where in s.sites:  # a site without referrals too: the engine plans every site
        for arm_name, arm in s.arms.items():
            for stage in arm.stages:
                for key, res in stage_resources(stage):
                    if res not in s.resources and res not in s.sites[where].resources:
                        raise ValueError(
                            f"arms.{arm_name}.stages.{stage.name}.{key}: resource {res!r} "
                            f"resolves to nothing for site {where!r} (neither its own nor national)"
                        )


def _check_rates(s: Scenario) -> None:
    """A site gives shares or rates, not both; a disease given as rates has a national rate
    (one number) equal to the sites' sum."""
    for name, site in s.sites.items():
        if site.referrals_per_year and site.catchment != 0.0:
            raise ValueError(f"sites.{name}: give catchment or referrals_per_year, not both")
        for disease in site.referrals_per_year:
            if disease not in s.demand:
                raise ValueError(f"sites.{name}.referrals_per_year.{disease}: unknown disease")
    for disease, demand in s.demand.items():
        rates = [site.referrals_per_year.get(disease) for site in s.sites.values()]
        if all(r is None for r in rates):
            continue
        total = sum(r or 0.0 for r in rates)
        national = demand.rate_per_year
        if isinstance(national, list):
            raise ValueError(
                f"demand.{disease}.rate_per_year: yearly rates cannot be split by the sites' "
                f"referrals_per_year (one rate each): give the sites catchment shares instead"
            )
        if abs(national - total) > SHARE_TOL * max(1.0, total):
            raise ValueError(
                f"demand.{disease}.rate_per_year: {national} a year, but the sites' "
                f"referrals_per_year of {disease} sum to {total:g}; make them equal"
            )


def stage_resources(stage: object) -> list[tuple[str, str]]:
    """``(field, resource name)`` of every resource a stage names."""
    out = []
    for key in ("resource", "origin", "destination"):
        value = getattr(stage, key, None)
        if value is not None:
            out.append(({"origin": "from", "destination": "to"}.get(key, key), value))
    icu = getattr(stage, "icu", None)
    if icu is not None:
        out.append(("icu.resource", icu.resource))
    return out


def network_rows(s: Scenario) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The service as plain rows: per site, each resource its patients use (name, where it
    stands, capacity); and each transport leg of each arm for each site (its ends' places and
    whether it applies). ``site`` is empty without sites."""
    resources: list[dict[str, object]] = []
    legs: list[dict[str, object]] = []
    every = all_resources(s)
    for site in site_names(s):
        names = sorted({r for arm in s.arms.values() for st in arm.stages
                        for _, r in stage_resources(st)})  # fmt: skip
        for name in names:
            used = resolve(s, name, site)
            if used not in every:
                continue  # a site without referrals need not have it
            spec = every[used]
            resources.append({"site": site or "", "resource": name, "used": used,
                              "place": location(s, name, site),
                              "capacity": float("inf") if spec.capacity == "unlimited"
                              else float(spec.capacity)})  # fmt: skip
        for arm_name, arm in s.arms.items():
            for stage in arm.stages:
                if not isinstance(stage, Transport):
                    continue
                ends = [location(s, r, site) for r in (stage.origin, stage.destination)]
                legs.append({"site": site or "", "arm": arm_name, "stage": stage.name,
                             "from": stage.origin, "to": stage.destination,
                             "from_place": ends[0], "to_place": ends[1],
                             "applies": ends[0] != ends[1],
                             "dispatch_weekdays": ", ".join(stage.dispatch_days),
                             "cut_off_hour": stage.cut_off_hour})  # fmt: skip
    return resources, legs
