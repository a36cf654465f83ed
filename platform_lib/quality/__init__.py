"""Validation of rows against a compiled contract: the engine (``engine.py``) and its tiers, the
polars aggregate (``aggregate.py``), the polars split (``polars_split.py``) and the DuckDB query
(``duckdb_query.py``); streams of batches (``stream.py``); one violations type
(``violations.py``); and the SQL-rule sandbox. No storage, no Dagster."""
