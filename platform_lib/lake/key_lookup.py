"""Which of a batch's values a Delta table already holds, reading as little of it as it can.

Uniqueness across the days of a partitioned table needs the values published on the other days,
but only the ones that could clash with the batch. Delta keeps each file's min and max per column:
a file whose range misses the batch's range is never opened, and in the files that are, only the
one column is read, filtered to the batch's values. Keys that grow with time (ids, sequence
numbers, timestamps) therefore cost a file or two, whatever the table's size.
"""

from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
from deltalake import DeltaTable

STRING_STATS_PREFIX = 32
"""Delta writers may cut string statistics to a prefix; a bound this long is not trusted."""


def values_already_held(
    uri: str,
    column: str,
    values: pa.Array,
    *,
    rows: pc.Expression | None = None,
    skip_partition: tuple[str, object] | None = None,
) -> pa.Array:
    """The distinct values of ``values`` that the table at ``uri`` holds in ``column``.

    Args:
        uri: The Delta table.
        column: The column to look in (its type is that of ``values``).
        values: The candidates (nulls ignored).
        rows: Only rows matching this filter count (e.g. the other days of a partition).
        skip_partition: ``(partition column, value)``: files of that Delta partition are not
            looked at (the day being replaced).
    """
    present = pc.unique(values.drop_null())
    if len(present) == 0:
        return present
    table = DeltaTable(uri)
    wanted = _files_in_range(table, column, present, skip_partition)
    if wanted == ():
        return present.slice(0, 0)
    dataset = table.to_pyarrow_dataset()
    fragments = [
        fragment
        for fragment in dataset.get_fragments()
        if wanted is None or unquote(fragment.path).endswith(wanted)
    ]
    if not fragments:
        return present.slice(0, 0)
    subset = pads.FileSystemDataset(fragments, dataset.schema, dataset.format, dataset.filesystem)
    condition = pc.field(column).isin(present)
    if rows is not None:
        condition = condition & rows
    found = subset.to_table(columns=[column], filter=condition).column(column)
    return pc.unique(found.combine_chunks()).cast(values.type)


def _files_in_range(
    table: DeltaTable,
    column: str,
    present: pa.Array,
    skip_partition: tuple[str, object] | None,
) -> tuple[str, ...] | None:
    """The table's files whose statistics admit a value in ``present``'s range (None: all)."""
    actions = pa.table(table.get_add_actions(flatten=True))
    low_name, high_name = f"min.{column}", f"max.{column}"
    if low_name not in actions.column_names or high_name not in actions.column_names:
        return None
    if skip_partition is not None and f"partition.{skip_partition[0]}" in actions.column_names:
        skipped = pc.equal(actions.column(f"partition.{skip_partition[0]}"), skip_partition[1])
        actions = actions.filter(pc.invert(pc.fill_null(skipped, False)))
    bounds = pc.min_max(present)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    kept = []
    for path, file_low, file_high in zip(
        actions.column("path").to_pylist(),
        actions.column(low_name).to_pylist(),
        actions.column(high_name).to_pylist(),
        strict=True,
    ):
        if _unknown(file_low) or _unknown(file_high) or not (file_high < low or file_low > high):
            kept.append(unquote(path))
    return tuple(kept)


def _unknown(bound: object) -> bool:
    return bound is None or (isinstance(bound, str) and len(bound) >= STRING_STATS_PREFIX)
