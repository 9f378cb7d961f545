"""Engine: one replication of the simulation, written to an event log.

Owns named random streams, the referred cohort with its pre-sampled draws (adverse-event grades,
death times while waiting), limited resources with calendars, the stage engine and the model that
wires them together; the output is one flat event log per arm.

May import from ``inputs`` only. No economics, no files, no loops over replications.
"""
