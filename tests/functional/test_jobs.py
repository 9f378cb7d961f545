"""Resumable analyses and atomic writes: no planted link followed, Ctrl-C says how to resume,
workers die with their parent."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from builders import CLI, ROOT, cartsim, small_psa_scenario

from cartsim.runs import atomic, jobs


def psa_scenario(tmp_path: Path) -> Path:
    return small_psa_scenario(tmp_path, name="psa.yaml")


# enough iterations that a run is still going after its first chunks (about 20 ms an iteration)
ITERATIONS = "200"


def psa_args(path: Path, out: Path, *extra: str) -> list[str]:
    return ["psa", str(path), "--out", str(out), "--chunk-size", "2", "--iterations", ITERATIONS,
            *extra]  # fmt: skip


def wait_for_chunks(process: subprocess.Popen, chunks: Path, count: int) -> None:
    deadline = time.monotonic() + 300
    while len(list(chunks.glob("chunk-*.parquet"))) < count:
        assert process.poll() is None and time.monotonic() < deadline, "no chunk written"
        time.sleep(0.02)


def as_at_a_terminal() -> None:
    """In the child before it starts: Ctrl-C handled as a shell started from a terminal leaves
    it. A test worker has been seen with SIGINT and SIGQUIT ignored, left so by a library an
    earlier test used, and a child inherits an ignored signal across exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def interrupt(process: subprocess.Popen) -> str:
    """Ctrl-C as at a terminal: to every process of the run. Returns the run's stderr."""
    os.killpg(process.pid, signal.SIGINT)
    return process.communicate(timeout=120)[1]


def unit_rows(value: int) -> jobs.Rows:
    return [{"value": value, "square": value * value}]


def test_a_planted_chunk_scratch_symlink_is_not_followed(tmp_path: Path) -> None:
    units = [(i,) for i in range(6)]
    whole = jobs.run_chunked(tmp_path, "psa", {"a": 1}, unit_rows, units, chunk_size=2)
    chunks = tmp_path / "psa-chunks"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    for chunk in (1, 2):
        path = jobs.chunk_path(chunks, chunk)
        path.unlink()
        for scratch in (path.with_suffix(".tmp"), path.with_name(f".{path.name}.tmp")):
            scratch.symlink_to(victim)
    resumed = jobs.run_chunked(
        tmp_path, "psa", {"a": 1}, unit_rows, units, chunk_size=2, resume=True
    )
    assert victim.read_text() == "keep me"
    pd.testing.assert_frame_equal(resumed, whole)
    assert list(whole["square"]) == [i * i for i in range(6)]


def test_atomic_write_replaces_whole_files_and_leaves_no_scratch(tmp_path: Path) -> None:
    target = tmp_path / "table.txt"
    atomic.write_text(target, "old")
    with pytest.raises(RuntimeError), atomic.atomic_writer(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.txt"]
    mask = os.umask(0o022)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # as open() would make it


@pytest.mark.parametrize("exchange", [True, False])
def test_swap_in_replaces_a_whole_folder(tmp_path: Path, monkeypatch, exchange) -> None:
    if not exchange:  # a file system without renameat2: two renames
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target = tmp_path / "run"
    target.mkdir()
    (target / "psa.parquet").write_text("earlier analysis")
    built = atomic.new_partial(target)
    (built / "kpis.parquet").write_text("new run")
    atomic.swap_in(built, target)
    assert sorted(p.name for p in target.iterdir()) == ["kpis.parquet"]
    mask = os.umask(0o022)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o777 & ~mask  # as mkdir would make it
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_prints_the_resume_command_and_exits_130(tmp_path: Path, workers) -> None:
    path = psa_scenario(tmp_path)
    whole = cartsim(*psa_args(path, tmp_path / "whole", "--workers", "1"))
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "stopped"
    process = subprocess.Popen(
        [*CLI, *psa_args(path, out, "--workers", workers)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=as_at_a_terminal,
    )
    wait_for_chunks(process, out / "psa-chunks", 2)
    stderr = interrupt(process)
    assert process.returncode == 130, stderr
    (line,) = [line for line in stderr.splitlines() if line.strip()]
    command = shlex.split(line.split(":", 1)[1])
    assert command[0] == "cartsim" and "--resume" in command and str(out) in command
    resumed = subprocess.run([*CLI, *command[1:]], cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "psa.parquet"), pd.read_parquet(tmp_path / "whole" / "psa.parquet")
    )


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_worker_processes_die_with_a_killed_parent(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    process = subprocess.Popen(
        [*CLI, *psa_args(psa_scenario(tmp_path), out, "--workers", "2")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_chunks(process, out / "psa-chunks", 1)
    workers = descendants(process.pid)
    assert workers, "no worker processes"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "workers outlived their parent"
