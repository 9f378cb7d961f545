"""Runs: experiments over replications, parameter draws and settings.

Owns the experiment (replications of a scenario into tables), the studies (run, PSA, one-way
sensitivity, sweeps), executors (serial, local processes, Dask) and chunked resumable jobs.

May import from every earlier folder (``inputs``, ``engine``, ``evaluate``, ``decide``), never
from ``report`` or the command line.
"""
