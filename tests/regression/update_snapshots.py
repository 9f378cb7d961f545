"""Regenerate ``snapshots.json`` from the current model: run on purpose, in the commit that
changes the results, after checking that the change is intended.

    .venv/bin/python tests/regression/update_snapshots.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from snapshot import SNAPSHOTS, all_results, save_snapshots  # noqa: E402


def main() -> None:
    save_snapshots(all_results())
    print(f"wrote {SNAPSHOTS}")


if __name__ == "__main__":
    main()
