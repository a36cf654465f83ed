"""Storage: the Delta reader, the one Delta committer, raw ingestion and write-audit-publish.

It knows contracts and validation, never Dagster.
"""
