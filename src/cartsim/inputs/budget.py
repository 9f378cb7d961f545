"""The memory a run needs, estimated before it starts, against the memory it may use.

A run keeps, for every replication, one event record per referred patient and stage visit in
each arm, plus the patient and resource tables derived from them. The estimate is

    referrals x replications x (sum over arms of (stage visits + 2) x BYTES_PER_RECORD
                                + BYTES_PER_PATIENT)

with referrals at the Poisson mean plus six standard deviations. The constants are measured:
the baseline scenario (one arm of four stages, ten records per referral at most) scaled to
200,000 referrals and one replication peaks at 810 MiB resident memory with every table written
(``benchmarks/throughput.py --sizes 200000``), about 3.4 KiB per referral; the estimate allows
4 KiB. The limit is the machine's physical memory, or
``run.memory_limit_gb`` when the scenario sets it (to allow more on purpose, or less).
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

from cartsim.inputs.units import DAYS_PER_YEAR

if TYPE_CHECKING:
    from cartsim.inputs.scenario import Scenario

BYTES_PER_RECORD = 300  # one event record with its share of the derived tables, bytes
BYTES_PER_PATIENT = 1000  # cohort attributes, draws and the patient table row, bytes
GIB = 2**30


def physical_memory() -> float:
    """Bytes of physical memory of this machine (inf where the system does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def expected_referrals(scenario: Scenario) -> float:
    """Referrals of one replication: the Poisson mean plus six standard deviations."""
    window = scenario.run.arrival_window_days
    mean = 0.0
    for demand in scenario.demand.values():
        rates = demand.rate_per_year
        rates = rates if isinstance(rates, list) else [rates]
        year = 0
        while year * DAYS_PER_YEAR < window:
            days = min(window, (year + 1) * DAYS_PER_YEAR) - year * DAYS_PER_YEAR
            mean += rates[min(year, len(rates) - 1)] * days / DAYS_PER_YEAR
            year += 1
    return mean + 6.0 * math.sqrt(mean)


def estimated_bytes(scenario: Scenario) -> float:
    """Memory a run of ``scenario`` is estimated to need, bytes."""
    records = 0
    for arm in scenario.arms.values():
        visits = max([s.failure.max_attempts for s in arm.stages if s.failure] or [1])
        records += len(arm.stages) * visits + 2
    per_patient = records * BYTES_PER_RECORD + BYTES_PER_PATIENT
    return expected_referrals(scenario) * scenario.run.replications * per_patient


def check_budget(scenario: Scenario) -> None:
    """Raise ``ValueError("run.memory_limit_gb: ...")`` when the estimate exceeds the limit."""
    limit_gb = scenario.run.memory_limit_gb
    limit = physical_memory() if limit_gb is None else limit_gb * GIB
    need = estimated_bytes(scenario)
    if need > limit:
        origin = "run.memory_limit_gb" if limit_gb is not None else "this machine's memory"
        raise ValueError(
            f"run.memory_limit_gb: the run is estimated to need {need / GIB:,.1f} GiB "
            f"({expected_referrals(scenario):,.0f} referrals x {scenario.run.replications} "
            f"replication(s) x {len(scenario.arms)} arm(s)), more than the limit of "
            f"{limit / GIB:,.1f} GiB ({origin}); lower the demand, window or replications, "
            "or raise run.memory_limit_gb on purpose"
        )
