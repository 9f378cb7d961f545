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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

# numpy's SeedSequence constants (numpy/random/bit_generator.pyx) and PCG64's multiplier
_MASK32, _MASK64, _MASK128 = 0xFFFFFFFF, (1 << 64) - 1, (1 << 128) - 1
_DOUBLE = 1.0 / 9007199254740992.0  # 2**-53
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


Tail = tuple[tuple[int, int], ...]  # the hash constants of a name's words


@lru_cache(maxsize=65_536)
def _key_hashes(key: int, tail: Tail) -> tuple[int, ...]:
    """The words of ``key`` hashed as SeedSequence mixes them into each of the pool's words
    (word by word, then pool word by pool word), with the constants ``tail``: they depend on
    the name and how many words were hashed before it, never on the pool."""
    hashed = []
    for w, word in enumerate(_words(key)):
        for dst in range(_POOL):
            x, m = tail[w * _POOL + dst]
            h = ((word ^ x) * m) & _MASK32
            hashed.append(h ^ (h >> _XSHIFT))
    return tuple(hashed)


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
        self.tail: Tail = tuple(_hash_consts(self.const, _MULT_A, 2 * _POOL))  # a name's words

    def _hash(self, value: int) -> int:
        value ^= self.const
        self.const = (self.const * _MULT_A) & _MASK32
        value = (value * self.const) & _MASK32
        return value ^ (value >> _XSHIFT)

    def state_words(self, key: int) -> list[int]:
        """``generate_state(4, np.uint64)`` (eight 32-bit words) of the pool with the words of
        ``key`` mixed in last, unrolled: this runs once per stream (the key's hashes kept)."""
        hashed = _key_hashes(key, self.tail)
        if len(hashed) > 2 * _POOL:  # a key is 64 bits: never more than two words
            raise ValueError("a stream key has at most two words")
        pool = list(self.pool)
        for i, h in enumerate(hashed):
            r = (_MIX_L * pool[i & 3] - _MIX_R * h) & _MASK32
            pool[i & 3] = r ^ (r >> _XSHIFT)
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


def first_uniforms(seed: int, draws: Sequence[int], keys: Sequence[int]) -> np.ndarray:
    """``Streams(seed, draw=d).uniforms(name, 1)[0]`` for the name of every key (rows: keys
    of :func:`name_key`) in every draw (columns), all streams seeded and stepped at once."""
    out = np.empty((len(keys), len(draws)))
    mixers = [Streams(seed, draw=int(d))._common for d in draws]
    for tail in {m.tail for m in mixers}:
        cols = [c for c, m in enumerate(mixers) if m.tail == tail]
        for rows, words in _state_words(tail, [mixers[c].pool for c in cols], keys):
            state, inc = _seeded(words)
            hi, lo = _mul128_add(state, _PCG_MULT, inc)  # the first step
            word, rot = hi ^ lo, hi >> _U64[58]
            output = (word >> rot) | (word << ((_U64[64] - rot) & _U64[63]))
            out[np.ix_(rows, cols)] = (output >> _U64[11]).astype(np.float64) * _DOUBLE
    return out


def _state_words(
    tail: Tail, pools: list[list[int]], keys: Sequence[int]
) -> Iterator[tuple[list[int], list[np.ndarray]]]:
    """:meth:`_Mixer.state_words` of every key (rows) in every pool (columns) at once, as eight
    arrays of 32-bit words held in unsigned 64-bit integers (wrapping as SeedSequence does):
    for the keys of one word, then for those of two, each with the rows it covers."""
    pool_words = np.array(pools, dtype=np.uint64).T  # (4, pools)
    hashed = [_key_hashes(key, tail) for key in keys]
    for width in sorted({len(h) for h in hashed}):
        rows = [r for r, h in enumerate(hashed) if len(h) == width]
        words = np.array([hashed[r] for r in rows], dtype=np.uint64)[:, :, None]
        pool = list(np.repeat(pool_words[:, None, :], len(rows), axis=1))  # (rows, pools) each
        for i in range(width):
            mixed = (_MIX_L * pool[i & 3] - _MIX_R * words[:, i]) & _MASK32
            pool[i & 3] = mixed ^ (mixed >> _XSHIFT)
        state = []
        for i, (x, m) in enumerate(_OUTPUT):
            value = ((pool[i & 3] ^ x) * m) & _MASK32
            state.append(value ^ (value >> _XSHIFT))
        yield rows, state


_U64 = [np.uint64(k) for k in range(65)]  # shift counts and small constants as uint64
Pair = tuple[np.ndarray, np.ndarray]  # 128-bit numbers as (high, low) unsigned 64-bit arrays


def _seeded(words: list[np.ndarray]) -> tuple[Pair, Pair]:
    """:func:`pcg64_state` (state, increment) of the eight state words of many streams, in
    128-bit arithmetic on (high, low) pairs of unsigned 64-bit arrays (wrapping). A stream's
    first ``random()`` is then one step's 64-bit output (XSL-RR), its top 53 bits as a double
    (numpy's ``next_double``)."""
    seed = [words[2 * i] | (words[2 * i + 1] << _U64[32]) for i in range(4)]
    inc = ((seed[2] << _U64[1]) | (seed[3] >> _U64[63]), (seed[3] << _U64[1]) | _U64[1])
    return _mul128_add(_add128((seed[0], seed[1]), inc), _PCG_MULT, inc), inc


def _add128(a: Pair, b: Pair) -> Pair:
    lo = a[1] + b[1]
    return a[0] + b[0] + (lo < a[1]).astype(np.uint64), lo


def _mul128_add(a: Pair, const: int, add: Pair) -> Pair:
    """``a * const + add`` modulo 2**128."""
    m_hi, m_lo = np.uint64(const >> 64), np.uint64(const & _MASK64)
    a0, a1 = a[1] & _U64_MASK32, a[1] >> _U64[32]
    m0, m1 = np.uint64(int(m_lo) & _MASK32), np.uint64(int(m_lo) >> 32)
    p00, p01, p10, p11 = a0 * m0, a0 * m1, a1 * m0, a1 * m1
    mid = (p00 >> _U64[32]) + (p01 & _U64_MASK32) + (p10 & _U64_MASK32)
    lo = (p00 & _U64_MASK32) | (mid << _U64[32])
    hi = p11 + (p01 >> _U64[32]) + (p10 >> _U64[32]) + (mid >> _U64[32])
    hi = hi + a[0] * m_lo + a[1] * m_hi
    return _add128((hi, lo), add)


_U64_MASK32 = np.uint64(_MASK32)


_THREAD = threading.local()
SEEDED_TOGETHER = 20  # streams from which seeding them as arrays beats seeding one at a time


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
        return self._seeded_alone(name, size)

    def _seeded_alone(self, name: str, size: int) -> np.ndarray:
        """:meth:`uniforms`, seeding the reused generator in Python (no arrays)."""
        bits, generator = _scratch()
        state: dict[str, Any] = {
            "bit_generator": "PCG64",
            "state": pcg64_state(self._common.state_words(name_key(name))),
            "has_uint32": 0,
            "uinteger": 0,
        }
        bits.state = state  # type: ignore[assignment]  # the stub wants its TypedDict
        return generator.random(size)

    def uniforms_of(self, names: Sequence[str], sizes: Sequence[int]) -> list[np.ndarray]:
        """:meth:`uniforms` of every name (``sizes[i]`` of ``names[i]``), the streams' seeds
        worked out at once (from :data:`SEEDED_TOGETHER` names; fewer are seeded one by one,
        which costs less than the fixed cost of the arrays); each generator then draws its
        own numbers."""
        if len(names) < SEEDED_TOGETHER:
            return [self._seeded_alone(n, size) for n, size in zip(names, sizes, strict=True)]
        mixer = self._common
        out: list[np.ndarray] = [np.empty(0)] * len(names)
        bits, generator = _scratch()
        keys = [name_key(name) for name in names]
        for rows, words in _state_words(mixer.tail, [mixer.pool], keys):
            state, inc = _seeded(words)
            parts = [w.ravel().tolist() for w in (*state, *inc)]
            for r, s_hi, s_lo, i_hi, i_lo in zip(rows, *parts, strict=True):
                bits.state = {
                    "bit_generator": "PCG64",
                    "state": {"state": (s_hi << 64) | s_lo, "inc": (i_hi << 64) | i_lo},
                    "has_uint32": 0,
                    "uinteger": 0,
                }
                out[r] = generator.random(sizes[r])
        return out

    @cached_property
    def _common(self) -> _Mixer:
        """The pool mixed with the entropy every stream of this replication shares."""
        entropy = _words(self.seed)
        entropy += [0] * (_POOL - len(entropy))  # padded before a spawn key, as SeedSequence does
        return _Mixer(entropy + _words(self.draw) + _words(self.replication))
