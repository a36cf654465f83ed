"""The validation engine: a contract checked in one pass over an Arrow batch, by the cheapest tier
that judges it exactly.

A batch without the contract's columns is blocked by the schema rule. Any other batch is judged
by the first of the tiers (:class:`Tier`) that can:

1. **the aggregate** (``aggregate.py``): a typed batch in which no row breaks a rule is settled by
   one polars aggregate pass;
2. **the polars split** (``polars_split.py``): a typed batch with breakers is split by one
   boolean mask per rule that has breakers, from the same pass's counts;
3. **the DuckDB query** (``duckdb_query.py``): any other batch (one that needs casting, or a
   rule polars would judge differently) is cast and judged by one query.

Every tier gives the same answer a :class:`~platform_lib.quality.split.BatchSplit` holds, which
the engine assembles: the valid rows, cast to the contract's types; the rejected rows with their
original values and ``violated_rules`` (of the one Arrow type,
:data:`~platform_lib.quality.violations.VIOLATIONS_TYPE`); and the verdict of every rule
(``verdicts.py``). Only a contract's own SQL rules run as further queries, over the rows to
publish. A stream of batches is validated by ``stream.py``, batch by batch through this engine.
"""

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa
import pyarrow.compute as pc

from platform_lib.contracts.model import TableContract
from platform_lib.quality.aggregate import AggregatePass, aggregate_pass, clean_split
from platform_lib.quality.contract_schema import contract_arrow_schema
from platform_lib.quality.duckdb_query import Uncastable, split_by_query
from platform_lib.quality.polars_split import split_in_polars
from platform_lib.quality.results import ValidationResult
from platform_lib.quality.split import BatchSplit
from platform_lib.quality.verdicts import schema_result, verdicts
from platform_lib.quality.violations import VIOLATIONS_COLUMN, VIOLATIONS_TYPE

LINEAGE_PREFIX = "_"
"""Columns named with it are lineage (e.g. ``_line_number``): kept with rejected rows, never
published, and no schema problem."""
THREADED_ROWS = 100_000
"""From this many rows, the valid rows of a batch are copied a column per thread."""


class Tier(StrEnum):
    """The ways a batch is judged, in the order the engine tries them: each gives the same
    answer as the DuckDB query, which judges every batch."""

    AGGREGATE = "aggregate"
    """A typed batch where no row breaks a rule: one polars aggregate pass."""
    POLARS_SPLIT = "polars_split"
    """A typed batch with breakers: one polars mask per rule that has breakers."""
    DUCKDB_QUERY = "duckdb_query"
    """Any batch: one DuckDB query that casts and flags every row."""


@dataclass(frozen=True)
class CheckedBatch:
    """A batch split by its contract: rows to publish, rows to quarantine, and the verdicts."""

    valid: pa.Table
    """The rows to publish: the contract's columns, cast to the contract's types."""
    rejected: pa.Table
    """The rejected rows as they arrived (lineage columns included) plus ``violated_rules``."""
    result: ValidationResult


def validate_batch(
    batch: pa.Table, contract: TableContract, *, taken: Mapping[str, pa.Array] | None = None
) -> CheckedBatch:
    """Check ``batch`` against ``contract`` and split it into valid and rejected rows.

    Args:
        batch: The rows, typed or as text (they are cast to the contract's types).
        contract: The rules.
        taken: For a ``unique`` column, values already published outside this batch (the other
            days of a partitioned table): a row repeating one breaks the unique rule too.

    Example:
        >>> checked = validate_batch(pa.table({"id": ["a", None]}), contract)
        >>> checked.valid.num_rows, checked.rejected["violated_rules"].to_pylist()
        (1, [['id_required']])
    """
    problem = _schema_problem(batch, contract)
    if problem is not None:
        return _blocked_by_schema(batch, contract, problem)
    taken = taken or {}
    counted = aggregate_pass(batch, contract, taken)
    for tier in Tier:
        split = _split_by(tier, batch, contract, taken, counted)
        if split is not None:
            return _checked(batch, contract, split)
    raise AssertionError("the DuckDB query judges every batch")


def validate_with(
    tier: Tier,
    batch: pa.Table,
    contract: TableContract,
    *,
    taken: Mapping[str, pa.Array] | None = None,
) -> CheckedBatch | None:
    """What :func:`validate_batch` gives when ``tier`` judges ``batch``, to compare the tiers.

    Returns:
        The checked batch (a batch without the contract's columns is blocked by the schema
        rule, whatever the tier), or None when ``tier`` cannot judge this batch exactly.

    Example:
        >>> in_polars = validate_with(Tier.POLARS_SPLIT, batch, contract)
        >>> in_polars is None or in_polars == validate_with(Tier.DUCKDB_QUERY, batch, contract)
        True
    """
    problem = _schema_problem(batch, contract)
    if problem is not None:
        return _blocked_by_schema(batch, contract, problem)
    taken = taken or {}
    counted = None if tier is Tier.DUCKDB_QUERY else aggregate_pass(batch, contract, taken)
    split = _split_by(tier, batch, contract, taken, counted)
    return None if split is None else _checked(batch, contract, split)


def _split_by(
    tier: Tier,
    batch: pa.Table,
    contract: TableContract,
    taken: Mapping[str, pa.Array],
    counted: AggregatePass | None,
) -> BatchSplit | Uncastable | None:
    """``tier``'s answer for ``batch``, given its aggregate pass (None: the polars tiers cannot
    judge it); None when ``tier`` cannot judge it."""
    if tier is Tier.DUCKDB_QUERY:
        return split_by_query(batch, contract, taken)
    if counted is None:
        return None
    if tier is Tier.AGGREGATE:
        return clean_split(batch, contract, counted)
    return split_in_polars(batch, contract, taken, counted)


def _checked(
    batch: pa.Table, contract: TableContract, split: BatchSplit | Uncastable
) -> CheckedBatch:
    """The valid and rejected rows of a tier's split, and the verdict of every rule."""
    if isinstance(split, Uncastable):
        return _blocked_by_schema(batch, contract, split.problem)
    schema = contract_arrow_schema(contract)
    if split.is_valid is None:
        valid = split.typed.cast(schema)
        rejected = batch.slice(0, 0)
    else:
        valid = _rows_where(split.typed, split.is_valid).cast(schema)
        rejected = batch.filter(pc.invert(split.is_valid))
    rejected = rejected.append_column(VIOLATIONS_COLUMN, split.violations.cast(VIOLATIONS_TYPE))
    result = verdicts(contract, batch.num_rows, valid, rejected, split.breakers, split.metric_hits)
    return CheckedBatch(valid=valid, rejected=rejected, result=result)


def _rows_where(table: pa.Table, mask: pa.Array | pa.ChunkedArray) -> pa.Table:
    """``table.filter(mask)``, a column per thread from :data:`THREADED_ROWS` rows: Arrow's
    filter runs on one core and copies every value (most of a batch's valid rows' cost); its
    kernels release the GIL."""
    workers = min(table.num_columns, os.cpu_count() or 1)
    if workers < 2 or table.num_rows < THREADED_ROWS:
        return table.filter(mask)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        columns = list(pool.map(lambda column: pc.filter(column, mask), table.columns))
    return pa.Table.from_arrays(columns, schema=table.schema)


# -- the schema ---------------------------------------------------------------------------------


def _schema_problem(batch: pa.Table, contract: TableContract) -> str | None:
    names = set(batch.column_names)
    missing = [c for c in contract.column_names if c not in names]
    extra = [
        c
        for c in batch.column_names
        if c not in contract.column_names and not c.startswith(LINEAGE_PREFIX)
    ]
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"column(s) not in the contract: {', '.join(extra)}")
    return "; ".join(problems) or None


def _blocked_by_schema(batch: pa.Table, contract: TableContract, problem: str) -> CheckedBatch:
    empty = contract_arrow_schema(contract).empty_table()
    return CheckedBatch(
        valid=empty,
        rejected=batch.slice(0, 0),
        result=ValidationResult(
            rows_in=batch.num_rows,
            rows_valid=0,
            rows_rejected=0,
            rules=(schema_result(problem),),
        ),
    )
