"""Data contracts: the ODCS v3 model, the loader with file:line findings, rules, compilation to
the platform's typed contract, access decisions and compatibility between versions.

The lowest layer above the foundation: it reads contract files and nothing else (no storage, no
Dagster).
"""
