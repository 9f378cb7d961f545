"""Named random streams: one independent generator per (seed, draw, replication, name).

Every random quantity has a name (``"arrivals|SLE"``, ``"cart.manufacturing.duration.0"``,
``"crs_grade|SLE"``). Its generator comes from a :class:`numpy.random.SeedSequence` whose spawn key
holds the replication, the parameter draw and a stable hash of the name, so adding or reordering
quantities never shifts another quantity's numbers. Nothing is seeded globally.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


def name_key(name: str) -> int:
    """A stable 64-bit integer for a stream name (independent of Python's hash seed)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


@dataclass(frozen=True)
class Streams:
    """The random streams of one replication of one parameter draw."""

    seed: int
    replication: int = 0
    draw: int = 0

    def rng(self, name: str) -> np.random.Generator:
        """The generator for ``name``; the same arguments always give the same numbers."""
        seq = np.random.SeedSequence(
            entropy=self.seed, spawn_key=(self.draw, self.replication, name_key(name))
        )
        return np.random.Generator(np.random.PCG64(seq))

    def uniforms(self, name: str, size: int) -> np.ndarray:
        """``size`` uniforms on [0, 1) from the stream ``name``."""
        return self.rng(name).random(size)
