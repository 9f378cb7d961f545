"""The referred cohort: arrivals and attributes, and per-patient pre-sampled uniforms.

Patients are referred by one Poisson stream per disease (a rate per year, optionally one per
successive year). Patient *k* of a disease draws from the *k*-th place of every per-disease stream,
so the same patient gets the same numbers in every arm and in every variant of a scenario that
keeps that disease's referrals: common random numbers that stay in sync. With sites, each
patient is referred to one site by its own uniform (``site``), so the site draw moves no other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from cartsim.engine.streams import Streams
from cartsim.inputs.distributions import to_dist
from cartsim.inputs.scenario import DiseaseDemand, Scenario
from cartsim.inputs.sites import disease_shares
from cartsim.inputs.units import DAYS_PER_YEAR


def poisson_arrivals(
    demand: DiseaseDemand, window_days: float, rng: np.random.Generator
) -> np.ndarray:
    """Sorted referral days in [0, window_days) of a piecewise-constant Poisson process."""
    rates = (
        demand.rate_per_year if isinstance(demand.rate_per_year, list) else [demand.rate_per_year]
    )
    times: list[np.ndarray] = []
    year = 0
    while year * DAYS_PER_YEAR < window_days:
        start = year * DAYS_PER_YEAR
        end = min(window_days, start + DAYS_PER_YEAR)
        rate = rates[min(year, len(rates) - 1)]
        count = rng.poisson(rate * (end - start) / DAYS_PER_YEAR)
        times.append(np.sort(rng.uniform(start, end, count)))
        year += 1
    return np.concatenate(times) if times else np.empty(0)


DRAW_CACHE_BYTES = 64 * 2**20  # uniforms kept per cohort (memory bound; CPU saved on reuse)


@dataclass
class Cohort:
    """Referred patients, ordered by referral day, with their attributes.

    ``draw(name)`` returns one uniform per patient from the per-disease streams ``name|disease``:
    the same numbers for every consumer of a quantity. The most recent draws are kept, up to
    :data:`DRAW_CACHE_BYTES` (every draw of a small cohort; a few of a million patients), and
    a draw no longer kept is drawn again from its stream, identically.
    """

    streams: Streams
    diseases: tuple[str, ...]
    disease: np.ndarray  # int code into ``diseases``, per patient
    rank: np.ndarray  # position of the patient among referrals of the same disease
    arrival_day: np.ndarray
    age: np.ndarray
    female: np.ndarray
    flags: dict[str, np.ndarray] = field(default_factory=dict)
    site: np.ndarray | None = None  # int code into ``sites``, per patient (None: no sites)
    sites: tuple[str, ...] = ()
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    memo: dict[object, np.ndarray] = field(default_factory=dict, repr=False)  # see remember()
    _parent: Cohort | None = field(default=None, repr=False)
    _prefix: str = ""
    _index: np.ndarray | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return int(self.arrival_day.size)

    @property
    def patient_id(self) -> np.ndarray:
        return np.arange(self.size)

    def draw(self, name: str) -> np.ndarray:
        """One uniform per patient for the quantity ``name`` (common random numbers)."""
        if self._parent is not None:
            values = self._parent.draw(self._prefix + name)
            return values if self._index is None else values[self._index]
        cached = self._cache.pop(name, None)
        if cached is None:
            cached = self._joined(
                [self.streams.uniforms(f"{name}|{d}", size) for d, (_, _, size) in self._groups]
            )
        self._keep(name, cached)
        return cached

    def prefetch(self, names: Sequence[str]) -> None:
        """Draw every one of ``names`` not kept yet, their streams seeded at once
        (:meth:`Streams.uniforms_of`): the numbers :meth:`draw` gives, for less. Only while
        they all fit among the draws kept (else each is drawn when asked for)."""
        if self._parent is not None:
            self._parent.prefetch([self._prefix + name for name in names])
            return
        missing = [name for name in dict.fromkeys(names) if name not in self._cache]
        if not missing or len(self._cache) + len(missing) > self._capacity:
            return
        streams = [f"{name}|{disease}" for name in missing for disease, _ in self._groups]
        sizes = [size for _ in missing for _, (_, _, size) in self._groups]
        values = self.streams.uniforms_of(streams, sizes)
        k = len(self._groups)
        for i, name in enumerate(missing):
            self._keep(name, self._joined(values[i * k : (i + 1) * k]))

    @cached_property
    def _groups(self) -> list[tuple[str, tuple[np.ndarray, np.ndarray, int]]]:
        """Per disease: its patients (mask), their places in its streams and how many."""
        masks = [(d, self.disease == code) for code, d in enumerate(self.diseases)]
        return [(d, (m, self.rank[m], int(m.sum()))) for d, m in masks]

    @property
    def _capacity(self) -> int:
        return max(1, DRAW_CACHE_BYTES // max(8 * self.size, 1))

    def _joined(self, per_disease: list[np.ndarray]) -> np.ndarray:
        """Each patient's uniform from the stream of their disease, at their place in it."""
        out = np.empty(self.size)
        for (_, (mask, rank, _)), values in zip(self._groups, per_disease, strict=True):
            out[mask] = values[rank]
        out.flags.writeable = False  # shared by every consumer: none may change it
        return out

    def _keep(self, name: str, values: np.ndarray) -> None:
        self._cache[name] = values  # the most recently used last
        while len(self._cache) > self._capacity:
            del self._cache[next(iter(self._cache))]  # the least recently used

    def remember(self, key: object, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """``compute()``, kept under ``key`` for the next consumer (every arm of a replication)
        while it takes no more than a quarter of :data:`DRAW_CACHE_BYTES`; read-only."""
        kept = self.memo.get(key)
        if kept is None:
            kept = compute()
            kept.flags.writeable = False
            if kept.nbytes <= DRAW_CACHE_BYTES // 4:
                self.memo[key] = kept
        return kept

    def view(self, prefix: str = "", index: np.ndarray | None = None) -> Cohort:
        """The same patients (or those at ``index``) drawing ``prefix + name`` for ``name``:
        a second treatment's own uniforms, still common to every arm."""
        idx = slice(None) if index is None else index
        return Cohort(
            streams=self.streams,
            diseases=self.diseases,
            disease=self.disease[idx],
            rank=self.rank[idx],
            arrival_day=self.arrival_day[idx],
            age=self.age[idx],
            female=self.female[idx],
            flags={k: v[idx] for k, v in self.flags.items()},
            site=None if self.site is None else self.site[idx],
            sites=self.sites,
            _parent=self,
            _prefix=prefix,
            _index=index,
        )


def make_cohort(scenario: Scenario, streams: Streams, window_days: float | None = None) -> Cohort:
    """Sample the referrals of one replication from the scenario's demand."""
    window = scenario.run.arrival_window_days if window_days is None else window_days
    diseases = tuple(scenario.demand)
    arrivals = [
        poisson_arrivals(d, window, streams.rng(f"arrivals|{name}"))
        for name, d in scenario.demand.items()
    ]
    disease = np.concatenate([np.full(a.size, i, dtype=np.int16) for i, a in enumerate(arrivals)])
    rank = np.concatenate([np.arange(a.size) for a in arrivals])
    arrival = np.concatenate(arrivals)
    order = np.argsort(arrival, kind="stable")
    cohort = Cohort(
        streams=streams,
        diseases=diseases,
        disease=disease[order],
        rank=rank[order],
        arrival_day=arrival[order],
        age=np.empty(arrival.size),
        female=np.empty(arrival.size, dtype=bool),
    )
    u_age, u_sex = cohort.draw("age"), cohort.draw("sex")
    names = sorted({f for d in scenario.demand.values() for f in d.flags})
    cohort.flags = {name: np.zeros(cohort.size, dtype=bool) for name in names}
    for code, demand in enumerate(scenario.demand.values()):
        mask = cohort.disease == code
        cohort.age[mask] = to_dist(demand.age).ppf(u_age[mask])
        cohort.female[mask] = u_sex[mask] < demand.female
        for name, share in demand.flags.items():
            cohort.flags[name][mask] = cohort.draw(f"flag.{name}")[mask] < share
    if scenario.sites:
        cohort.sites = tuple(scenario.sites)
        cohort.site = assign_sites(scenario, cohort)
    return cohort


def assign_sites(scenario: Scenario, cohort: Cohort) -> np.ndarray:
    """Each patient's site (index into ``scenario.sites``): one uniform per patient, ``site``,
    against the running sum of the sites' shares of the patient's disease (catchment shares,
    or rates over their sum: splitting a Poisson stream so gives each site a Poisson stream
    of its rate)."""
    u = cohort.draw("site")
    site = np.zeros(cohort.size, dtype=np.int64)
    for code, disease in enumerate(scenario.diseases):
        mask = cohort.disease == code
        bounds = np.cumsum(disease_shares(scenario, disease))
        site[mask] = np.minimum(np.searchsorted(bounds, u[mask], side="right"), bounds.size - 1)
    return site
