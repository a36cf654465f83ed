"""The platform's one Delta writer: overwrite, append and partition-replace, errors never swallowed.

Why not dagster-deltalake's IO manager: with deltalake 1.x it fails its own statistics on every
write, records non-standard metadata keys, and its partitioned path swallowed a predicate error into
a full overwrite (dagster issue 34064). Here a partition replace builds its predicate only from
validated ``date`` values, and any error reaches the caller.
"""

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, SchemaMismatchError
from pydantic import BaseModel, ConfigDict

from platform_lib.errors import MeshError
from platform_lib.sql import quote_identifier, quote_literal


class WriteMode(StrEnum):
    """How a write treats the rows already in the table."""

    OVERWRITE = "overwrite"
    """Replace the whole table (a new Delta version; older versions stay readable)."""
    APPEND = "append"
    """Add rows; the schema must match the table's."""
    REPLACE_PARTITIONS = "replace_partitions"
    """Replace exactly the partitions present in the batch; other partitions are untouched."""


class WriteConflict(MeshError):
    """Another writer committed an overlapping change first; this write committed nothing.

    Delta's optimistic concurrency lets writers that touch different data (appends, other
    partitions) commit side by side, retrying internally. Two writes of the same rows (the same
    day of a partitioned table, a whole-table overwrite) conflict: the later one raises this.
    """

    def __init__(self, uri: str, error: CommitFailedError) -> None:
        reason = str(error).splitlines()[0]
        super().__init__(
            f"another run committed to {uri} while this one was writing ({reason}); "
            "nothing of this write was committed",
            fix="re-run it once the other run has finished; runs replacing the same table or "
            "day must not overlap",
        )


class WriteResult(BaseModel):
    """What one committed write did."""

    model_config = ConfigDict(frozen=True)

    uri: str
    mode: WriteMode
    version: int
    rows_written: int


def write_table(
    uri: str,
    data: pa.Table,
    *,
    mode: WriteMode,
    partition_by: Sequence[str] = (),
    storage_options: dict[str, str] | None = None,
    commit_metadata: dict[str, str] | None = None,
    predicate: str | None = None,
) -> WriteResult:
    """Write ``data`` to the Delta table at ``uri`` in one commit.

    Args:
        uri: The table location (a local path or an object-store URI).
        data: The rows to write.
        mode: See :class:`WriteMode`.
        partition_by: Partition columns. ``REPLACE_PARTITIONS`` needs exactly one, of type date.
        storage_options: deltalake storage options for object stores.
        commit_metadata: Recorded in the Delta commit (e.g. the run id), read back by history().
        predicate: With ``REPLACE_PARTITIONS``, the rows to replace (a day of a partitioned
            table, from :mod:`partitions`); every row of ``data`` must match it. Without it, the
            dates present in ``data`` are replaced.

    Returns:
        The committed Delta version and the number of rows written.

    Raises:
        MeshError: The batch does not fit the table (schema or partitioning).
        WriteConflict: A concurrent writer committed an overlapping change first.

    Example:
        >>> write_table("/tmp/lake/t", pa.table({"a": [1]}), mode=WriteMode.OVERWRITE)
    """
    commit = CommitProperties(custom_metadata=commit_metadata) if commit_metadata else None
    try:
        if mode is WriteMode.APPEND:
            write_deltalake(
                uri,
                data,
                mode="append",
                partition_by=list(partition_by) or None,
                storage_options=storage_options,
                commit_properties=commit,
            )
        elif mode is WriteMode.OVERWRITE:
            write_deltalake(
                uri,
                data,
                mode="overwrite",
                partition_by=list(partition_by) or None,
                schema_mode="overwrite",
                storage_options=storage_options,
                commit_properties=commit,
            )
        else:
            if predicate is None:
                predicate = partition_predicate(data, partition_by)
            if predicate is None:
                return WriteResult(
                    uri=uri,
                    mode=mode,
                    version=current_version(uri, storage_options),
                    rows_written=0,
                )
            write_deltalake(
                uri,
                data,
                mode="overwrite",
                partition_by=list(partition_by) or None,
                predicate=predicate,
                storage_options=storage_options,
                commit_properties=commit,
            )
    except SchemaMismatchError as error:
        raise MeshError(
            f"rows for {uri} do not match the table's schema: {error}",
            fix="return the table's columns and types, or overwrite the table to change them",
        ) from error
    except CommitFailedError as error:
        raise WriteConflict(uri, error) from error
    version = DeltaTable(uri, storage_options=storage_options).version()
    return WriteResult(uri=uri, mode=mode, version=version, rows_written=data.num_rows)


INSERT_ATTEMPTS = 20
"""How many times :func:`insert_new_rows` re-runs its MERGE when concurrent writers win."""


def insert_new_rows(
    uri: str,
    data: pa.Table,
    *,
    key_columns: Sequence[str],
    scope: tuple[str, Sequence[str]] | None = None,
    storage_options: dict[str, str] | None = None,
    commit_metadata: dict[str, str] | None = None,
) -> WriteResult:
    """Add the rows of ``data`` whose key is not in the table yet, in one commit: exactly once,
    even when several writers insert the same rows at the same time.

    A plain append cannot see a concurrent writer's rows, so two of them would both add a row
    both saw missing. This is a Delta MERGE instead: it reads the rows it compares with, so a
    concurrent commit that added rows it should have seen makes it fail, and it is run again
    against the new version (up to :data:`INSERT_ATTEMPTS` times).

    Args:
        uri: The table; created empty first when missing.
        data: The candidate rows; must have the table's schema.
        key_columns: The columns identifying a row (e.g. source file and line).
        scope: ``(column, values)``: only target rows whose ``column`` is one of ``values`` can
            hold a key of ``data``, which lets Delta skip the other files by their statistics
            (None: every row of the table is compared).
        storage_options, commit_metadata: As for :func:`write_table`.

    Returns:
        The committed version and the number of rows actually inserted.

    Raises:
        WriteConflict: Concurrent writers won every attempt.
    """
    commit = CommitProperties(custom_metadata=commit_metadata) if commit_metadata else None
    if not DeltaTable.is_deltatable(uri, storage_options=storage_options):
        _create_empty(uri, data.schema, storage_options)
    conditions = [
        f"target.{quote_identifier(c)} = source.{quote_identifier(c)}" for c in key_columns
    ]
    if scope is not None and scope[1]:
        column, values = scope
        listed = ", ".join(quote_literal(v) for v in values)
        conditions.insert(0, f"target.{quote_identifier(column)} IN ({listed})")
    attempt = 0
    while True:
        attempt += 1
        table = DeltaTable(uri, storage_options=storage_options)
        try:
            metrics = (
                table.merge(
                    source=data,
                    predicate=" AND ".join(conditions),
                    source_alias="source",
                    target_alias="target",
                    commit_properties=commit,
                )
                .when_not_matched_insert_all()
                .execute()
            )
        except CommitFailedError as error:
            if attempt >= INSERT_ATTEMPTS:
                raise WriteConflict(uri, error) from error
            continue
        return WriteResult(
            uri=uri,
            mode=WriteMode.APPEND,
            version=table.version(),
            rows_written=int(metrics.get("num_target_rows_inserted", 0) or 0),
        )


def _create_empty(uri: str, schema: pa.Schema, storage_options: dict[str, str] | None) -> None:
    """Create the table with ``schema`` and no rows (a first commit holding rows is not safe:
    writers creating the table at the same time may each commit theirs)."""
    try:
        write_deltalake(uri, schema.empty_table(), mode="append", storage_options=storage_options)
    except CommitFailedError:
        if not DeltaTable.is_deltatable(uri, storage_options=storage_options):
            raise


def partition_predicate(data: pa.Table, partition_by: Sequence[str]) -> str | None:
    """The Delta predicate selecting the date partitions present in ``data`` (None if empty).

    Only ``date`` values are formatted into the predicate, as ISO literals, so no user text can
    reach it.
    """
    if len(partition_by) != 1:
        raise MeshError(
            f"replacing partitions needs exactly one partition column, got {list(partition_by)}",
            fix="partition the table by one date column",
        )
    column = partition_by[0]
    if column not in data.column_names or not pa.types.is_date(data.schema.field(column).type):
        raise MeshError(
            f"partition column {column!r} must be a date column of the batch",
            fix=f"derive {column!r} as a date (for example CAST(ts AS DATE) in UTC)",
        )
    if data.column(column).null_count:
        raise MeshError(
            f"partition column {column!r} has null values",
            fix="give every row its partition date",
        )
    days: list[dt.date] = sorted(pc.unique(data.column(column)).to_pylist())
    if not days:
        return None
    quoted = ", ".join(f"'{day.isoformat()}'" for day in days)
    return f"{quote_identifier(column)} IN ({quoted})"


def current_version(uri: str, storage_options: dict[str, str] | None = None) -> int:
    """The table's latest version, or -1 when no table exists at ``uri``."""
    if not DeltaTable.is_deltatable(uri, storage_options=storage_options):
        return -1
    return DeltaTable(uri, storage_options=storage_options).version()
