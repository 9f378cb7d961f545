"""Output folders: no escape from outputs/, one writer at a time, never two runs in one folder."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from builders import CLI, ROOT, cartsim, small_psa_scenario
from typer.testing import CliRunner

from cartsim import cli
from cartsim.runs import folders, studies


def small(tmp_path: Path, replications: int = 1, **changes) -> Path:
    """A quick scenario with one PSA parameter, written into ``tmp_path``."""
    return small_psa_scenario(tmp_path, replications, **changes)


def two_arms(tmp_path: Path) -> Path:
    """``small`` with economics and a second arm (standard of care), for every analysis."""
    path = small(tmp_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["economics"] = {"horizon_years": 5, "wtp_per_qaly": 50000}
    data["disease_course"] = {"SLE": {"utility_active": 0.5, "utility_remission": 0.8}}
    data["arms"]["cart"]["stages"][1]["costs"] = {"product": 90000}
    data["arms"]["soc"] = {"stages": [{"name": "continue", "kind": "delay", "duration": 0}]}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def files_outside(root: Path, allowed: list[Path]) -> list[Path]:
    return [
        p for p in root.rglob("*") if p.is_file() and not any(p.is_relative_to(a) for a in allowed)
    ]


@pytest.mark.parametrize("name", ["../../escaped", "ABSOLUTE", "a/../../b", ".."])
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_scenario_name_cannot_lead_outside_outputs(tmp_path: Path, name, command) -> None:
    scenario = small(tmp_path)
    name = str(tmp_path / "absolute") if name == "ABSOLUTE" else name
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    args = [command, str(scenario), "--set", f"name={name}", "--workers", "1", "--no-report"]
    if command == "sweep":
        args = [a for a in args if a != "--no-report"]
        args += ["--vary", "resources.ward_bed.capacity=2"]
    result = cartsim(*args, cwd=work)
    assert result.returncode in (0, 2), result.stderr  # 2: a name the schema refuses
    assert files_outside(tmp_path, [work / "outputs", scenario]) == []
    if result.returncode == 0:
        (run,) = [p.parent for p in (work / "outputs").rglob("manifest.json")]
        assert run.parent.parent == work / "outputs"


def test_default_folders_stay_in_outputs() -> None:
    for name in ("../../x", "/etc/x", "a/b", "..", ".hidden", "", "x" * 500, "C:\\x", "é"):
        for kind in ("", "psa", "dsa", "sweep"):
            folder = folders.default_folder(name, 1, kind)
            assert folder.parts[0] == "outputs" and len(folder.parts) == 3, folder
            assert not folder.parts[1].startswith(".") and len(folder.parts[1]) <= 64


def test_run_overwrite_leaves_no_table_of_an_earlier_psa(tmp_path: Path) -> None:
    scenario, out = small(tmp_path), tmp_path / "out"
    psa = cartsim("psa", str(scenario), "--iterations", "2", "--workers", "1", "--out", str(out))
    assert psa.returncode == 0, psa.stderr
    assert (out / "psa.parquet").is_file()
    one_line_error(cartsim("run", str(scenario), "--out", str(out)), "--overwrite")
    again = cartsim("run", str(scenario), "--out", str(out), "--overwrite", "--workers", "1")
    assert again.returncode == 0, again.stderr
    left = sorted(p.name for p in out.iterdir())
    assert not [n for n in left if n.startswith(("psa", "ceac", "evpi"))], left
    assert "kpis.parquet" in left and "report.html" in left


@pytest.mark.parametrize("command", ["psa", "dsa", "sweep"])
def test_an_analysis_refuses_a_folder_holding_another_run(tmp_path: Path, command) -> None:
    scenario, out = two_arms(tmp_path), tmp_path / "out"
    first = cartsim("run", str(scenario), "--out", str(out), "--no-report", "--workers", "1")
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    extra = {"psa": ["--iterations", "1"], "dsa": [], "sweep": ["--vary", "run.seed=1,2"]}
    args = [command, str(scenario), "--out", str(out), "--workers", "1", *extra[command]]
    one_line_error(cartsim(*args), str(out), "--overwrite")
    assert snapshot(out) == before
    replaced = cartsim(*args, "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert not (out / "patients.parquet").exists() and (out / f"{command}.parquet").is_file()


def test_a_user_error_never_empties_a_folder_given_to_overwrite(tmp_path: Path) -> None:
    scenario, out = small(tmp_path), tmp_path / "out"  # one arm: no one-way sensitivity
    first = cartsim("run", str(scenario), "--out", str(out), "--no-report", "--workers", "1")
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    one_line_error(cartsim("dsa", str(scenario), "--out", str(out), "--overwrite"), "two or more")
    assert snapshot(out) == before


def test_the_resume_command_names_the_folder_and_resumes() -> None:
    folder = Path("outputs/my run/psa-1")
    argv = ["psa", "s.yaml", "--iterations", "5", "--overwrite"]
    assert cli.resume_command(argv, folder) == (
        "cartsim psa s.yaml --iterations 5 --out 'outputs/my run/psa-1' --resume"
    )
    given = ["dsa", "s.yaml", "--out=x", "--resume"]
    assert cli.resume_command(given, folder) == "cartsim dsa s.yaml --out=x --resume"


def test_a_second_writer_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    scenario, out = small(tmp_path, replications=20), tmp_path / "out"
    args = [*CLI, "run", str(scenario), "--out", str(out), "--workers", "1", "--no-report"]
    first = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".partial-out-*")) and time.monotonic() < deadline:
            time.sleep(0.002)
        first.send_signal(signal.SIGSTOP)  # the first run holds the folder while the second tries
        assert first.poll() is None, "the first run ended before the second started"
        second = cartsim("run", str(scenario), "--out", str(out), "--overwrite")
        one_line_error(second, "another cartsim command", "--out")
        first.send_signal(signal.SIGCONT)
        assert first.wait(timeout=600) == 0
        assert (out / "manifest.json").is_file()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


def test_a_lock_held_elsewhere_refuses_every_command(tmp_path: Path) -> None:
    scenario, out = small(tmp_path), tmp_path / "out"
    with folders.locked(out):
        for args in (["run"], ["psa", "--iterations", "1"], ["sweep", "--vary", "run.seed=1"]):
            result = cartsim(args[0], str(scenario), "--out", str(out), *args[1:])
            one_line_error(result, "another cartsim command")
    assert not out.exists()


def test_a_kill_mid_write_leaves_the_previous_run_intact(tmp_path: Path) -> None:
    scenario, out = small(tmp_path), tmp_path / "out"
    first = cartsim("run", str(scenario), "--out", str(out), "--workers", "1")
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    bigger = small(tmp_path, replications=30)
    args = [*CLI, "run", str(bigger), "--out", str(out), "--overwrite", "--workers", "1"]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if list(tmp_path.glob(".partial-out-*/patients.parquet")):
            break  # tables of the new run are being written
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert snapshot(out) == before
    again = cartsim("run", str(scenario), "--out", str(out), "--overwrite", "--no-report")
    assert again.returncode == 0, again.stderr
    assert not list(tmp_path.glob(".partial-*")) and not list(tmp_path.glob(".old-*"))


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` cannot be written into, even by root (``chattr +i`` then)."""
    folder.chmod(0o555)
    immutable = os.geteuid() == 0
    if immutable:
        if shutil.which("chattr") is None:
            pytest.skip("root ignores permissions and chattr is missing")
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
            pytest.skip("root ignores permissions and this file system has no chattr +i")
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


@pytest.mark.parametrize("where", ["out", "parent"])
def test_a_read_only_out_fails_before_the_simulation(tmp_path: Path, monkeypatch, where) -> None:
    def simulate(*args, **kwargs):
        raise AssertionError("the simulation started")

    monkeypatch.setattr(studies, "run", simulate)
    parent = tmp_path / "parent"
    out = parent / "out"
    out.mkdir(parents=True)
    with read_only(out if where == "out" else parent):
        result = CliRunner().invoke(cli.app, ["run", str(small(tmp_path)), "--out", str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "--out" in result.output and str(out) in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_planted_report_scratch_symlink_is_not_followed(tmp_path: Path) -> None:
    scenario, out = small(tmp_path), tmp_path / "out"
    first = cartsim("run", str(scenario), "--out", str(out), "--no-report", "--workers", "1")
    assert first.returncode == 0, first.stderr
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / ".report.html.partial").symlink_to(victim)
    result = cartsim("report", str(out))
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "keep me"
    report = out / "report.html"
    assert report.is_file() and not report.is_symlink() and "<html" in report.read_text()
