"""The event log kept in typed chunks gives the same columns however often it is compacted."""

from __future__ import annotations

import numpy as np

from cartsim.engine.eventlog import COLUMNS, EventLog


def _records(n: int, seed: int) -> list[tuple[int, int, int, float, int]]:
    rng = np.random.default_rng(seed)
    return [
        (int(p), int(s), int(e), float(t), int(r))
        for p, s, e, t, r in zip(
            rng.integers(0, 50, n),
            rng.integers(-1, 4, n),
            rng.integers(0, 11, n),
            rng.random(n) * 1000,
            rng.integers(-1, 3, n),
            strict=True,
        )
    ]


def _log(records: list[tuple[int, int, int, float, int]], compact_at: set[int]) -> EventLog:
    log = EventLog(["a", "b"], ["x", "y"])
    for i, record in enumerate(records):
        if i in compact_at:
            log.compact()
        log.flat.extend(record)
    return log


def test_compacting_anywhere_keeps_every_record_in_order() -> None:
    records = _records(500, 1)
    plain = _log(records, set()).arrays()
    for compact_at in ({0}, {1, 2, 3}, {100, 250, 499}, set(range(0, 500, 7))):
        log = _log(records, compact_at)
        assert len(log) == len(records)
        assert len(log.flat) == 5 * (len(records) - max(compact_at))  # chunks hold the rest
        got = log.arrays()
        for name, column in plain.items():
            np.testing.assert_array_equal(got[name], column)
            assert got[name].dtype == column.dtype


def test_columns_follow_records_appended_after_reading() -> None:
    records = _records(40, 2)
    log = _log(records[:20], {5})
    assert log.arrays()["time"].size == 20
    for record in records[20:]:
        log.flat.extend(record)
    np.testing.assert_array_equal(log.arrays()["time"], [r[3] for r in records])


def test_extend_appends_chunks_and_tail_of_another_log() -> None:
    first, second = _records(30, 3), _records(25, 4)
    merged = _log(first, {10})
    merged.extend(_log(second, {7, 20}))
    assert len(merged) == 55
    np.testing.assert_array_equal(merged.arrays()["patient_id"], [r[0] for r in first + second])
    np.testing.assert_array_equal(merged.arrays()["time"], [r[3] for r in first + second])


def test_an_empty_log_has_empty_columns() -> None:
    columns = EventLog([], []).arrays()
    assert all(c.size == 0 for c in columns.values())


def test_records_keep_their_values_in_narrow_typed_columns() -> None:
    records = [(0, -1, 0, 0.1, -1), (999_999, 7, 10, 1e-9 + 3650.25, 12), (5, 0, 3, 2.0, 0)]
    log = _log(records, {1})
    columns = log.arrays()
    assert {name: c.dtype for name, c in columns.items()} == {
        name: np.dtype(kind) for name, kind in COLUMNS.items()
    }
    for j, name in enumerate(COLUMNS):
        assert columns[name].tolist() == [r[j] for r in records], name


def test_reading_joins_the_chunks_and_keeps_no_second_copy() -> None:
    log = _log(_records(60, 5), {10, 30})
    columns = log.arrays()
    assert len(log.chunks) == 1 and log.chunks[0] is columns  # the chunks joined into one
    assert log.arrays() is columns  # read again without a copy
    assert len(log) == 60
