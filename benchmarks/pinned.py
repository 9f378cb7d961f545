"""A pinned revision's files, taken from git into a temporary folder, for the benchmarks that
compare this tree with it (:mod:`psa`, :mod:`suite`)."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINNED = "7eb12fe"  # the code before the PSA, memory and start-up work (economics flow by flow)


@contextmanager
def pinned_tree(revision: str, *paths: str) -> Iterator[Path | None]:
    """A temporary folder holding ``paths`` of ``revision`` (none named: its whole tree), removed
    afterwards; None when this checkout does not have the revision."""
    archive = subprocess.run(["git", "archive", revision, *paths], cwd=ROOT, capture_output=True)
    if archive.returncode != 0:
        yield None
        return
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp)
