"""Inputs: reading and validating scenario files.

Owns the scenario schema (pydantic: field types with units, stages, clinical course, scenario),
loading (safe YAML, ``extends:``, ``--set``, ``"@parameter"`` references), distribution specs and
their inverse-CDF samplers, units, and user-facing errors.

Must not import from any other folder of cartsim (no simpy, no pandas): everything downstream
depends on it, it depends on nothing downstream.
"""
