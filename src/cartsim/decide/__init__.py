"""Decide: statistics over replications and decision analysis.

Owns t-intervals and paired differences, net monetary benefit, fully incremental and pairwise
analysis, and PSA summaries (acceptability curves, EVPI).

May import from ``inputs``, ``engine`` and ``evaluate``; in practice it needs only numpy, scipy
and pandas. No simulation, no files.
"""
