"""Rows validated in the order they arrived, so that "first wins" means first to arrive.

Uniqueness keeps the first row of a value and quarantines the others, in the order the rows are
validated. When the rows carry the raw layer's arrival sequence
(:data:`~platform_lib.conventions.ARRIVAL_SEQUENCE`, passed through from a raw table), that order
is the order of arrival, whatever order the table's function returned them in:

- a batch held in memory is put in arrival order (a stable sort: rows of the same number keep
  their order);
- a stream is put in order batch by batch, and must arrive in order across batches (a domain
  streaming rows orders them by ``_arrival_seq``; a DuckDB relation is ordered by the platform
  before it streams). A batch holding a number lower than one already validated stops the stream
  with a :class:`~platform_lib.errors.MeshError`: nothing is committed.
"""

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from platform_lib.conventions import ARRIVAL_SEQUENCE, TableKey
from platform_lib.errors import MeshError


def in_arrival_order(rows: pa.Table) -> pa.Table:
    """``rows`` sorted by their arrival sequence (unchanged when they have none, or are in order
    already)."""
    if ARRIVAL_SEQUENCE not in rows.column_names or _ordered(rows.column(ARRIVAL_SEQUENCE)):
        return rows
    order = pc.sort_indices(rows, [(ARRIVAL_SEQUENCE, "ascending")])  # nulls last
    return rows.take(order)


def stream_in_arrival_order(batches: pa.RecordBatchReader, key: TableKey) -> pa.RecordBatchReader:
    """``batches`` each in arrival order, refusing a batch that arrives before one already passed
    (see the module docstring); unchanged when the rows have no arrival sequence."""
    if ARRIVAL_SEQUENCE not in batches.schema.names:
        return batches
    return pa.RecordBatchReader.from_batches(batches.schema, _ordered_batches(batches, key))


def _ordered_batches(batches: pa.RecordBatchReader, key: TableKey) -> Iterator[pa.RecordBatch]:
    highest: int | None = None
    with batches:
        for batch in batches:
            table = in_arrival_order(pa.Table.from_batches([batch], schema=batches.schema))
            numbers = table.column(ARRIVAL_SEQUENCE)
            bounds = pc.min_max(numbers)
            low, high = bounds["min"].as_py(), bounds["max"].as_py()
            if highest is not None and low is not None and low < highest:
                raise MeshError(
                    f"the rows streamed to {key} are not in arrival order: a batch holds "
                    f"{ARRIVAL_SEQUENCE} {low} after {highest}, so the first to arrive could lose "
                    "to a later one; nothing was committed",
                    fix=f"order the rows by {ARRIVAL_SEQUENCE} (ORDER BY {ARRIVAL_SEQUENCE}), or "
                    "return them as a table or a DuckDB relation, which the platform orders",
                )
            if high is not None:
                highest = high if highest is None else max(highest, high)
            yield from table.to_batches()


def _ordered(numbers: pa.ChunkedArray) -> bool:
    """Whether ``numbers`` are in order already (a null counts as not: the sort puts nulls
    last)."""
    values = numbers.combine_chunks()
    if len(values) < 2:
        return True
    if values.null_count:
        return False
    return bool(pc.all(pc.less_equal(values.slice(0, len(values) - 1), values.slice(1))).as_py())
