"""The streams' own seeding of PCG64 against numpy's SeedSequence and PCG64 (differential)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartsim.engine.streams import (
    SEEDED_TOGETHER,
    Streams,
    first_uniforms,
    name_key,
    pcg64_state,
)


def numpy_generator(seed: int, draw: int, replication: int, key: int) -> np.random.Generator:
    seq = np.random.SeedSequence(entropy=seed, spawn_key=(draw, replication, key))
    return np.random.Generator(np.random.PCG64(seq))


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**96),
    draw=st.integers(0, 2**40),
    replication=st.integers(0, 2**20),
    name=st.text(max_size=30),
    size=st.integers(0, 20),
)
def test_uniforms_are_numpys_for_any_seed_draw_replication_and_name(
    seed: int, draw: int, replication: int, name: str, size: int
) -> None:
    streams = Streams(seed, replication=replication, draw=draw)
    expected = numpy_generator(seed, draw, replication, name_key(name)).random(size)
    np.testing.assert_array_equal(streams.uniforms(name, size), expected)
    np.testing.assert_array_equal(streams.rng(name).random(size), expected)


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**40), draw=st.integers(0, 99), key=st.integers(0, 2**64 - 1))
def test_the_seeded_state_is_numpys_for_keys_of_one_and_two_words(
    seed: int, draw: int, key: int
) -> None:
    """Keys under 2**32 (one word) are rare among name hashes: drawn here on purpose."""
    key = key >> 32 if draw % 2 else key  # half of the keys fit in one word
    words = Streams(seed, replication=3, draw=draw)._common.state_words(key)
    seq = np.random.SeedSequence(entropy=seed, spawn_key=(draw, 3, key))
    assert words == seq.generate_state(8, np.uint32).tolist()
    state = np.random.PCG64(seq).state["state"]
    assert pcg64_state(words) == {"state": state["state"], "inc": state["inc"]}


def test_uniforms_in_turn_do_not_disturb_each_other() -> None:
    streams = Streams(5, replication=1, draw=2)
    a, b, again = streams.uniforms("a", 4), streams.uniforms("b", 4), streams.uniforms("a", 4)
    np.testing.assert_array_equal(a, again)
    assert not np.array_equal(a, b)


def test_negative_seeds_are_refused_as_numpy_refuses_them() -> None:
    with pytest.raises(ValueError):
        Streams(-1).uniforms("a", 1)
    with pytest.raises(ValueError):
        np.random.SeedSequence(-1)


def test_a_draw_alone_is_replication_zero_and_a_replication_alone_draw_zero() -> None:
    key = name_key("psa.price")
    np.testing.assert_array_equal(
        Streams(5, draw=2).uniforms("psa.price", 3), numpy_generator(5, 2, 0, key).random(3)
    )
    np.testing.assert_array_equal(
        Streams(5, replication=4).uniforms("psa.price", 3), numpy_generator(5, 0, 4, key).random(3)
    )


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**96),
    draws=st.lists(st.integers(0, 2**40), min_size=0, max_size=6),
    keys=st.lists(st.integers(0, 2**64 - 1), min_size=0, max_size=6),
    small=st.booleans(),
)
def test_first_uniforms_of_many_streams_are_numpys(
    seed: int, draws: list[int], keys: list[int], small: bool
) -> None:
    """Every stream's first uniform, all at once: keys of one word and of two, draws of one
    word and of two (their pools mixed with other constants) in one call."""
    keys = [k >> 32 if small and i % 2 else k for i, k in enumerate(keys)]
    got = first_uniforms(seed, draws, keys)
    expected = [[numpy_generator(seed, d, 0, k).random() for d in draws] for k in keys]
    assert got.shape == (len(keys), len(draws))
    assert got.tobytes() == np.array(expected, dtype=float).reshape(got.shape).tobytes()


def test_first_uniforms_cover_the_whole_state() -> None:
    """Outputs near 0 and near 1, rotations of every size: 2,000 streams against numpy."""
    keys = [name_key(f"psa.{i}") for i in range(200)]
    got = first_uniforms(20240221, list(range(10)), keys)
    expected = [[numpy_generator(20240221, d, 0, k).random() for d in range(10)] for k in keys]
    np.testing.assert_array_equal(got, np.array(expected))
    assert got.min() < 0.001 and got.max() > 0.999


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**70),
    draw=st.integers(0, 2**40),
    replication=st.integers(0, 2**20),
    names=st.lists(st.text(max_size=12), max_size=2 * SEEDED_TOGETHER),
    sizes=st.lists(st.integers(0, 40), min_size=2 * SEEDED_TOGETHER, max_size=2 * SEEDED_TOGETHER),
)
def test_uniforms_of_many_names_are_each_names_uniforms(
    seed: int, draw: int, replication: int, names: list[str], sizes: list[int]
) -> None:
    streams = Streams(seed, replication=replication, draw=draw)
    got = streams.uniforms_of(names, sizes[: len(names)])
    assert len(got) == len(names)
    for name, size, values in zip(names, sizes, got, strict=False):
        expected = numpy_generator(seed, draw, replication, name_key(name)).random(size)
        assert values.tobytes() == expected.tobytes()


@pytest.mark.parametrize("count", [SEEDED_TOGETHER - 1, SEEDED_TOGETHER])
def test_uniforms_of_seed_one_by_one_and_as_arrays_alike(count: int) -> None:
    """Just below the count from which streams are seeded as arrays, and at it: numpy's
    numbers either way."""
    streams = Streams(7, replication=3, draw=11)
    names = [f"stage.{k}|SLE" for k in range(count)]
    got = streams.uniforms_of(names, [k % 5 + 1 for k in range(count)])
    for k, (name, values) in enumerate(zip(names, got, strict=True)):
        expected = numpy_generator(7, 11, 3, name_key(name)).random(k % 5 + 1)
        assert values.tobytes() == expected.tobytes()


def test_streams_sent_to_another_process_draw_the_same_numbers() -> None:
    """A Streams used here (its mixed pool kept) and sent to a fresh process that has mixed
    other entropy lengths first draws numpy's numbers there too."""
    import pickle
    import subprocess
    import sys

    used = Streams(1, replication=2)
    used.uniforms("a", 1)
    script = (
        "import pickle, sys\n"
        "from cartsim.engine.streams import Streams\n"
        "Streams(2**200, replication=2**40, draw=2**70).uniforms('x', 3)\n"
        "print(list(pickle.loads(sys.stdin.buffer.read()).uniforms('a', 3)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(used),
                          capture_output=True, check=True)  # fmt: skip
    expected = numpy_generator(1, 0, 2, name_key("a")).random(3)
    assert eval(done.stdout.decode()) == list(expected)
