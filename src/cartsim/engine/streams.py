"""Named random streams: one independent generator per (seed, draw, replication, name).

Every random quantity has a name (``"arrivals|SLE"``, ``"cart.manufacturing.duration.0"``,
``"crs_grade|SLE"``). Its generator is a PCG64 seeded by a :class:`numpy.random.SeedSequence`
whose spawn key holds the parameter draw, the replication and a stable hash of the name, so adding
or reordering quantities never shifts another quantity's numbers. Nothing is seeded globally.

A replication asks for hundreds of streams of a few numbers each, and seeding a generator through
numpy costs more than the numbers drawn from it. :meth:`Streams.uniforms` therefore seeds one
reused PCG64 itself: the SeedSequence hash of the entropy common to a replication's streams (seed,
draw, replication) is mixed once, and only the name's words per stream (:func:`pcg64_state`,
kept equal to numpy's own seeding by a differential test).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

# numpy's SeedSequence constants (numpy/random/bit_generator.pyx) and PCG64's multiplier
_MASK32, _MASK128 = 0xFFFFFFFF, (1 << 128) - 1
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _XSHIFT, _POOL = 0xCA01F9DD, 0x4973F715, 16, 4
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645


@lru_cache(maxsize=65_536)
def name_key(name: str) -> int:
    """A stable 64-bit integer for a stream name (independent of Python's hash seed)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def _words(value: int) -> list[int]:
    """A non-negative integer as little-endian 32-bit words, as SeedSequence reads it."""
    if value < 0:
        raise ValueError("seed and spawn keys must be non-negative")
    words = [value & _MASK32]
    value >>= 32
    while value:
        words.append(value & _MASK32)
        value >>= 32
    return words


def _hash_consts(start: int, mult: int, count: int) -> list[tuple[int, int]]:
    """The (xor, multiplier) pairs of ``count`` successive hashes from the constant ``start``:
    they depend on how many words were hashed before, never on the words."""
    pairs = []
    for _ in range(count):
        nxt = (start * mult) & _MASK32
        pairs.append((start, nxt))
        start = nxt
    return pairs


_OUTPUT = _hash_consts(_INIT_B, _MULT_B, 8)  # generate_state(4, np.uint64): eight words


class _Mixer:
    """SeedSequence's entropy pool being mixed, word by word."""

    def __init__(self, entropy: list[int]) -> None:
        self.const = _INIT_A
        self.pool = [self._hash((entropy + [0] * _POOL)[i]) for i in range(_POOL)]
        for src in range(_POOL):
            for dst in range(_POOL):
                if src != dst:
                    self.pool[dst] = _mix(self.pool[dst], self._hash(self.pool[src]))
        for word in entropy[_POOL:]:
            for dst in range(_POOL):
                self.pool[dst] = _mix(self.pool[dst], self._hash(word))
        self.tail = _hash_consts(self.const, _MULT_A, 2 * _POOL)  # a name's two words

    def _hash(self, value: int) -> int:
        value ^= self.const
        self.const = (self.const * _MULT_A) & _MASK32
        value = (value * self.const) & _MASK32
        return value ^ (value >> _XSHIFT)

    def state_words(self, key: int) -> list[int]:
        """``generate_state(4, np.uint64)`` (eight 32-bit words) of the pool with the words of
        ``key`` mixed in last, unrolled: this runs once per stream."""
        pool = list(self.pool)
        words = _words(key)
        for w, word in enumerate(words):
            for dst in range(_POOL):
                x, m = self.tail[w * _POOL + dst]
                h = ((word ^ x) * m) & _MASK32
                h ^= h >> _XSHIFT
                r = (_MIX_L * pool[dst] - _MIX_R * h) & _MASK32
                pool[dst] = r ^ (r >> _XSHIFT)
        if len(words) > 2:  # a key is 64 bits: never more than two words
            raise ValueError("a stream key has at most two words")
        out = []
        for i, (x, m) in enumerate(_OUTPUT):
            value = ((pool[i & 3] ^ x) * m) & _MASK32
            out.append(value ^ (value >> _XSHIFT))
        return out


def _mix(x: int, y: int) -> int:
    result = (_MIX_L * x - _MIX_R * y) & _MASK32
    return result ^ (result >> _XSHIFT)


def pcg64_state(words: list[int]) -> dict[str, int]:
    """PCG64's ``state`` and ``inc`` after seeding with ``generate_state(4, np.uint64)``."""
    seed = [words[2 * i] | (words[2 * i + 1] << 32) for i in range(4)]
    initstate, initseq = (seed[0] << 64) | seed[1], (seed[2] << 64) | seed[3]
    inc = ((initseq << 1) | 1) & _MASK128
    state = (inc + initstate) & _MASK128  # a step from 0 gives inc
    state = (state * _PCG_MULT + inc) & _MASK128
    return {"state": state, "inc": inc}


_THREAD = threading.local()


def _scratch() -> tuple[np.random.PCG64, np.random.Generator]:
    """This thread's generator, re-seeded for each call of :meth:`Streams.uniforms` (never
    handed out)."""
    scratch = getattr(_THREAD, "scratch", None)
    if scratch is None:
        bits = np.random.PCG64(0)
        scratch = _THREAD.scratch = (bits, np.random.Generator(bits))
    return scratch


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
        """``size`` uniforms on [0, 1) from the stream ``name``: ``rng(name).random(size)``."""
        bits, generator = _scratch()
        state: dict[str, Any] = {
            "bit_generator": "PCG64",
            "state": pcg64_state(self._common.state_words(name_key(name))),
            "has_uint32": 0,
            "uinteger": 0,
        }
        bits.state = state  # type: ignore[assignment]  # the stub wants its TypedDict
        return generator.random(size)

    @cached_property
    def _common(self) -> _Mixer:
        """The pool mixed with the entropy every stream of this replication shares."""
        entropy = _words(self.seed)
        entropy += [0] * (_POOL - len(entropy))  # padded before a spawn key, as SeedSequence does
        return _Mixer(entropy + _words(self.draw) + _words(self.replication))
