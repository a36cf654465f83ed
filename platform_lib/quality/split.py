"""What a validation tier finds in a batch, before the engine assembles the rows and verdicts.

Each tier (``aggregate.py``, ``polars_split.py``, ``duckdb_query.py``) judges a batch its own way
and answers with a :class:`BatchSplit`; the engine (``engine.py``) turns any of them into the same
valid rows, rejected rows (with ``violated_rules`` of the one Arrow type) and verdicts.
"""

from collections import Counter
from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class BatchSplit:
    """Which rows of a batch are valid, what the others break, and what the metrics count."""

    typed: pa.Table
    """The contract's columns of every row, in row order, of the contract's types (a value that
    does not cast is null); the engine casts them to the published schema."""
    is_valid: pa.Array | pa.ChunkedArray | None
    """Per row, whether it breaks no row-level rule; None when every row is valid."""
    violations: pa.Array | pa.ChunkedArray
    """The ids of the rules each rejected row breaks (in contract order), rejected rows in row
    order: a list of strings, of any Arrow list type (the engine casts it)."""
    breakers: Counter[str]
    """Rows breaking each row-level rule, by rule id."""
    metric_hits: Counter[str]
    """Rows counted by each table-level metric, by rule id."""
