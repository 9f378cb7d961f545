"""The ``cartsim`` command line (typer): parses options, calls the library, prints summaries.

Commands live by subject in :mod:`~cartsim.cli.simulate`, :mod:`~cartsim.cli.analyses`,
:mod:`~cartsim.cli.decisions` and :mod:`~cartsim.cli.compare`; :mod:`~cartsim.cli.common` holds
the options and helpers they share. ``run``, ``psa``, ``dsa``, ``sweep``, ``scenarios``,
``threshold``, ``compare`` and ``validate`` load their scenario before they import the machinery
they run, so a mistake in it is reported at the cost of ``cartsim check``, not of the whole
library; ``report`` and ``evppi`` read their run folder's manifest before they import the
report's or the value-of-information fitters (and ``report`` none of the scenario's machinery).
"""

from __future__ import annotations

import sys

import typer

from cartsim.cli.common import app, resume_command

# commands are listed in the order their modules register them
# isort: off
from cartsim.cli import simulate
from cartsim.cli import analyses
from cartsim.cli import decisions
from cartsim.cli import compare
# isort: on

__all__ = ["analyses", "app", "compare", "decisions", "main", "resume_command", "simulate"]


def main() -> None:
    """Console entry point: usage mistakes too end in one line on stderr and exit code 2."""
    try:
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        code = 1
    except typer.TyperException as exc:  # a usage mistake: bad option or value
        format_message = getattr(exc, "format_message", None)
        message = format_message() if format_message else str(exc)
        typer.echo(f"error: {' '.join(str(message).split())}", err=True)
        code = 2
    sys.exit(code if isinstance(code, int) else 0)
