"""Validation of rows against a compiled contract: the tiers (polars aggregate, polars split,
DuckDB query, stream), one violations type, and the SQL-rule sandbox. No storage, no Dagster."""
