"""Fixtures shared by the whole suite.

Statistical tests take their seeds from the ``seed`` fixture (``CARTSIM_TEST_SEED``, default
fixed), are marked ``statistical``, and size their criteria from confidence intervals so that
they pass for any seed: ``CARTSIM_TEST_SEED=7 pytest -m statistical``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import TEST_SEED

BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "statistical: checks a random quantity; seeded by CARTSIM_TEST_SEED"
    )
    workers = getattr(config, "workerinput", {}).get("workercount")
    if workers:  # an xdist worker: its share of the cores, so the workers' BLAS threads (and
        # those of the command lines they start) do not outnumber the cores
        share = max(1, len(os.sched_getaffinity(0)) // int(workers))
        for name in BLAS_THREADS:
            os.environ.setdefault(name, str(share))
        from threadpoolctl import threadpool_limits

        threadpool_limits(share)


def pytest_report_header(config: pytest.Config) -> str:
    return f"CARTSIM_TEST_SEED={TEST_SEED}"


@pytest.fixture
def seed() -> int:
    """The base seed of statistical tests (``CARTSIM_TEST_SEED``)."""
    return TEST_SEED


@pytest.fixture
def write_yaml(tmp_path: Path):
    """Write a mapping (or raw text) to a YAML file in the test's folder and return its path."""

    def write(content: dict[str, Any] | str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write
