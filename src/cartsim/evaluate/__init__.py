"""Evaluate: pure functions from the event log to patients, resources, KPIs, costs and QALYs.

Owns deriving the tables from the log, the clinical course after treatment, discounting,
economics (costs by category, QALYs, budget) and per-replication KPIs.

May import from ``inputs`` and ``engine``. No simulation, no random numbers of its own (it reads
the cohort's pre-drawn uniforms), no files.
"""
