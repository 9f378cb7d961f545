"""Atomic writes: a file or a whole folder appears complete or not at all.

A file is written to a scratch file of a unique name created exclusively in the same folder
(``tempfile.mkstemp``: ``O_CREAT | O_EXCL``, so a planted symlink is never followed), flushed
and ``fsync``-ed, renamed over its target with ``os.replace``, and the folder is ``fsync``-ed so
the rename survives a crash. A folder is built in a scratch sibling (``.partial-<name>-*``) and
swapped in with renames (one atomic exchange where Linux offers ``renameat2``), so readers see
the old folder or the new one, never a mix. Scratch siblings left by a killed writer are removed
by the next writer that holds the folder's lock (:mod:`cartsim.runs.folders`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

PARTIAL = ".partial-"  # prefix of a folder being built
OLD = ".old-"  # prefix of a replaced folder waiting to be removed
RENAME_EXCHANGE = 2  # linux/fs.h


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_dir(folder: Path) -> None:
    """Make the entries of ``folder`` (a rename, a new file) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """A binary file to write; on success it replaces ``path`` at once, on failure vanishes."""
    path = Path(path)
    fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), 0o666 & ~_umask())  # as an ordinary new file
            os.fsync(handle.fileno())
        os.replace(scratch, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(scratch)
        raise
    fsync_dir(path.parent)


def write_bytes(path: Path, data: bytes) -> Path:
    with atomic_writer(path) as handle:
        handle.write(data)
    return Path(path)


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def remove_tree(path: Path) -> None:
    """Remove a folder of ours; a symlink in its place is unlinked, never followed."""
    if path.is_symlink() or not path.is_dir():
        with suppress(FileNotFoundError):
            path.unlink()
        return
    shutil.rmtree(path, ignore_errors=True)


def new_partial(target: Path) -> Path:
    """An empty scratch sibling of ``target`` (unique name, created exclusively)."""
    folder = Path(tempfile.mkdtemp(prefix=f"{PARTIAL}{target.name}-", dir=target.parent))
    folder.chmod(0o777 & ~_umask())  # as an ordinary new folder
    return folder


def leftovers(target: Path) -> list[Path]:
    """Scratch and replaced siblings of ``target`` left by earlier, killed writers."""
    return [
        p
        for prefix in (PARTIAL, OLD)
        for p in target.parent.glob(f"{prefix}{target.name}-*")
        if len(p.name) == len(f"{prefix}{target.name}-") + 8  # mkdtemp's 8 random characters
    ]


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where that is not offered."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), RENAME_EXCHANGE)
    if done == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not on this file system
        return False
    raise OSError(errno, os.strerror(errno), str(a))


def swap_in(built: Path, target: Path) -> None:
    """Put the folder ``built`` (a sibling of ``target``) in the place of ``target``.

    An existing ``target`` is exchanged with ``built`` in one step where possible (else moved
    aside first), then removed.
    """
    if target.is_dir() and not target.is_symlink():
        if _exchange(built, target):
            old = built  # now holds the replaced folder
        else:
            old = Path(tempfile.mkdtemp(prefix=f"{OLD}{target.name}-", dir=target.parent))
            os.replace(target, old)  # onto the empty folder just made
            os.rename(built, target)
        fsync_dir(target.parent)
        remove_tree(old)
    else:
        if target.is_symlink():
            target.unlink()
        os.rename(built, target)
        fsync_dir(target.parent)
