"""Run folders: safe default names, one writer at a time, never two runs mixed in one folder.

A folder is claimed under an exclusive lock (``fcntl.flock`` on ``.<name>.lock`` beside it), so
a second command writing into the same folder is refused in one line. Every check a folder can
fail (not a folder, not writable, holding another run) is made before any simulation starts.
A whole run is built in a scratch sibling and swapped in (:func:`cartsim.runs.atomic.swap_in`);
an analysis writes in place, because its saved chunks are what ``--resume`` completes.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from cartsim.inputs.errors import CartsimError
from cartsim.runs.atomic import OLD, leftovers, new_partial, remove_tree, swap_in

OUTPUTS = Path("outputs")
MAX_NAME = 64  # characters of a folder name made from a scenario name


def safe_name(name: str) -> str:
    """A scenario name as one folder name: letters, digits, ``._-`` only, no leading dot."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip(".")[:MAX_NAME]
    return cleaned or "scenario"


def run_id(now: dt.datetime, seed: int) -> str:
    """A folder name for a run: its start time and seed."""
    return f"{now:%Y%m%d-%H%M%S}-seed{seed}"


def default_folder(name: str, seed: int, kind: str = "", now: dt.datetime | None = None) -> Path:
    """``outputs/<scenario name>/<kind->run-id``, always inside ``outputs/``."""
    stamp = run_id(now or dt.datetime.now(), seed)
    return OUTPUTS / safe_name(name) / (f"{kind}-{stamp}" if kind else stamp)


def _refuse(message: str, target: Path) -> CartsimError:
    return CartsimError(message, file=str(target), field="--out")


def holds_run(folder: Path) -> bool:
    """True when ``folder`` holds a run, finished (a manifest) or interrupted (saved chunks)."""
    return (folder / "manifest.json").is_file() or any(folder.glob("*-chunks/plan.json"))


def _probe(folder: Path, target: Path) -> None:
    """Fail now, not after the simulation, when ``folder`` cannot be written."""
    try:
        fd, name = tempfile.mkstemp(prefix=".probe-", dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise _refuse(f"cannot write into the folder: {exc.strerror}", target) from None


def _existing(target: Path) -> bool:
    """Whether ``target`` exists (as a folder: anything else is refused)."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise _refuse("exists and is not a folder", target)
    return target.exists()


@contextmanager
def locked(target: Path) -> Iterator[None]:
    """Hold the lock of ``target`` (created with its parent folders as needed), or refuse."""
    if target.parent == target:
        raise _refuse("is not a folder a run can be written to", target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _refuse(f"cannot create folder: {exc.strerror}", target) from None
    lock = target.parent / f".{target.name}.lock"
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise _refuse(f"cannot write beside the folder: {exc.strerror}", target) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _refuse(
                "another cartsim command is writing into this folder: wait for it to finish, "
                "or use another --out",
                target,
            ) from None
        try:  # the lock file may have been removed by the writer before us
            if os.path.samestat(os.fstat(fd), os.stat(lock, follow_symlinks=False)):
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        with suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def _clean(target: Path) -> None:
    """Remove scratch folders that killed writers left beside ``target`` (we hold its lock)."""
    for path in leftovers(target):
        remove_tree(path)


@contextmanager
def new_run(target: Path, overwrite: bool) -> Iterator[Path]:
    """Claim ``target`` for a whole run and yield an empty scratch folder to write it into.

    On success the scratch folder replaces ``target`` in one step; on failure (or a kill)
    ``target`` is left as it was. A folder holding another run is replaced only when
    ``overwrite``; a folder holding anything else is never replaced.
    """
    target = Path(os.path.abspath(target))
    with locked(target):
        if _existing(target):
            if any(target.iterdir()) and not holds_run(target):
                raise _refuse("holds files that are not a cartsim run: use another --out", target)
            if any(target.iterdir()) and not overwrite:
                raise _refuse(
                    "already holds a run: add --overwrite to replace it, or use another --out",
                    target,
                )
            _probe(target, target)
        _clean(target)
        try:
            built = new_partial(target)
        except OSError as exc:
            raise _refuse(f"cannot write beside the folder: {exc.strerror}", target) from None
        try:
            yield built
            swap_in(built, target)
        except BaseException:
            remove_tree(built)
            raise


@contextmanager
def analysis(target: Path, kind: str, resume: bool, overwrite: bool) -> Iterator[Path]:
    """Claim ``target`` for a resumable analysis (``kind``: psa, dsa, sweep) and yield it.

    ``resume`` needs the saved chunks of an interrupted ``kind``; otherwise a folder holding
    anything is refused, or with ``overwrite`` (when it holds a run) emptied first.
    """
    target = Path(os.path.abspath(target))
    with locked(target):
        if _existing(target):
            if resume:
                if not (target / f"{kind}-chunks" / "plan.json").is_file():
                    raise _refuse(f"--resume: holds no interrupted {kind} to complete", target)
            elif any(target.iterdir()):
                if not (overwrite and holds_run(target)):
                    held = "a run" if holds_run(target) else "files that are not a cartsim run"
                    hint = (
                        f"add --resume to complete an interrupted {kind} or --overwrite to "
                        "replace it, or use another --out"
                        if held == "a run"
                        else "use another --out"
                    )
                    raise _refuse(f"already holds {held}: {hint}", target)
                _probe(target, target)
                old = Path(tempfile.mkdtemp(prefix=f"{OLD}{target.name}-", dir=target.parent))
                os.replace(target, old)
                remove_tree(old)
        _clean(target)
        try:
            target.mkdir(exist_ok=True)
        except OSError as exc:
            raise _refuse(f"cannot create folder: {exc.strerror}", target) from None
        _probe(target, target)
        yield target
