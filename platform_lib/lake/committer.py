"""The platform's one Delta committer: every commit to the lake goes through a :class:`Committer`.

Overwrite, append and partition replace (of an Arrow table or of a stream), insert-if-new
(a MERGE), delete and restore all live here, and so does what every commit needs:

- the write scope: creating a committer checks its table against the running domain's prefix
  (:func:`~platform_lib.lake.write_scope.check_write_target`), so a refused target is refused
  before anything is read, validated or written;
- the errors: a concurrent writer winning is a :class:`WriteConflict` (retried first where the
  commit can safely run again), rows that do not fit the table are a :class:`MeshError`, and a
  stream's own exception reaches the caller as itself. Nothing is swallowed.

Why not dagster-deltalake's IO manager: with deltalake 1.x it fails its own statistics on every
write, records non-standard metadata keys, and its partitioned path swallowed a predicate error into
a full overwrite (dagster issue 34064). Here a partition replace builds its predicate only from
validated ``date`` values, a stream cannot replace partitions without a predicate, and any error
reaches the caller.

Example:
    >>> committer = Committer.for_table(key, settings)  # refused outside the domain's prefix
    >>> committer.write_table(rows, mode=WriteMode.APPEND, commit_metadata={"mesh.run_id": "r1"})
"""

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, SchemaMismatchError
from pydantic import BaseModel, ConfigDict

from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.write_scope import check_write_target
from platform_lib.settings import MeshSettings
from platform_lib.sql import quote_identifier, quote_literal

INSERT_ATTEMPTS = 20
"""How many times :meth:`Committer.insert_new_rows` re-runs its MERGE when concurrent writers
win."""
T = TypeVar("T")


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


@dataclass(frozen=True)
class AppTransaction:
    """A write that must not commit next to another write carrying the same ``app_id``.

    The write is committed as if made on version ``read_version`` (checked by the caller, e.g.
    for an earlier commit of the same inputs) and records Delta's application transaction
    ``app_id``: a commit carrying the same id that lands after ``read_version`` makes this one
    fail with :class:`WriteConflict`, nothing committed. That is what makes a check on
    ``read_version`` and the commit one step for concurrent writers. When the table did not
    exist (``read_version`` -1), it is created empty first and the write is made on that
    version 0, so writers that found no table conflict the same way.
    """

    app_id: str
    read_version: int
    """The version the caller checked (-1: the table did not exist)."""


class WriteResult(BaseModel):
    """What one committed write did."""

    model_config = ConfigDict(frozen=True)

    uri: str
    mode: WriteMode
    version: int
    rows_written: int
    first_number: int | None = None
    """With :meth:`Committer.insert_new_rows`' ``sequence``: the number of the first candidate
    row (candidate ``i`` was numbered ``first_number + i``); None otherwise."""


class Committer:
    """Commits to the Delta table at one ``uri``, inside the running domain's write scope.

    Args:
        uri: The table location (a local path or an object-store URI).
        key: The table, when the caller knows it (a write through another domain's key is
            refused even when its path would pass).
        settings: The lake root the scope is checked against (default: from the environment).
        storage_options: deltalake storage options for object stores.

    Raises:
        MeshError: ``uri`` is outside the prefix of the domain whose asset is running.
    """

    def __init__(
        self,
        uri: str,
        *,
        key: TableKey | None = None,
        settings: MeshSettings | None = None,
        storage_options: dict[str, str] | None = None,
    ) -> None:
        check_write_target(uri, settings, key=key)
        self.uri = uri
        self._storage_options = storage_options

    @classmethod
    def for_table(cls, key: TableKey, settings: MeshSettings) -> "Committer":
        """The committer of the mesh table ``key``, in the lake ``settings`` locate."""
        return cls(key.uri(settings), key=key, settings=settings)

    def write_table(
        self,
        rows: pa.Table | pa.RecordBatchReader,
        *,
        mode: WriteMode,
        partition_by: Sequence[str] = (),
        commit_metadata: dict[str, str] | None = None,
        predicate: str | None = None,
        transaction: AppTransaction | None = None,
    ) -> WriteResult:
        """Write ``rows`` to the table in one commit.

        ``rows`` may be a stream (a record batch reader, consumed once): deltalake writes Parquet
        files as its batches arrive and commits when it ends. If the stream raises, nothing is
        committed (files already written are referenced by no version, until a ``VACUUM``) and
        its exception reaches the caller as it was raised: raising is how a stream's producer
        stops the commit.

        Args:
            rows: The rows to write: an Arrow table, or a stream of record batches.
            mode: See :class:`WriteMode`.
            partition_by: Partition columns. Replacing the partitions of an Arrow table without
                ``predicate`` needs exactly one, of type date.
            commit_metadata: Recorded in the Delta commit (e.g. the run id), read back by
                history().
            predicate: With ``REPLACE_PARTITIONS`` (only), the rows to replace (a day of a
                partitioned table, from :mod:`partitions`); every row written must match it.
                Without it, the dates present in an Arrow table are replaced; a stream needs it.
            transaction: Commit on the version the caller checked, failing if a concurrent
                commit of the same application transaction landed since (see
                :class:`AppTransaction`).

        Returns:
            The committed Delta version and the number of rows written.

        Raises:
            MeshError: The rows do not fit the table (schema or partitioning), or a stream's
                predicate is missing or given with another mode.
            WriteConflict: A concurrent writer committed an overlapping change first (or the
                same ``transaction``).
            Exception: Whatever a stream raised, as it raised it.

        Example:
            >>> Committer("/tmp/lake/t").write_table(pa.table({"a": [1]}), mode=WriteMode.OVERWRITE)
        """
        if isinstance(rows, pa.RecordBatchReader):
            check_stream_predicate(mode, predicate)
            return self._write_stream(
                _WatchedStream(rows), mode, partition_by, predicate, commit_metadata, transaction
            )
        if mode is WriteMode.REPLACE_PARTITIONS and predicate is None:
            predicate = partition_predicate(rows, partition_by)
            if predicate is None:
                return WriteResult(uri=self.uri, mode=mode, version=self._version(), rows_written=0)
        self._commit(
            lambda: self._write_deltalake(
                rows, mode, partition_by, predicate, commit_metadata, transaction
            )
        )
        return WriteResult(
            uri=self.uri, mode=mode, version=self._table().version(), rows_written=rows.num_rows
        )

    def insert_new_rows(
        self,
        data: pa.Table,
        *,
        key_columns: Sequence[str],
        scope: tuple[str, Sequence[str]] | None = None,
        commit_metadata: dict[str, str] | None = None,
        sequence: str | None = None,
    ) -> WriteResult:
        """Add the rows of ``data`` whose key is not in the table yet, in one commit: exactly
        once, even when several writers insert the same rows at the same time.

        A plain append cannot see a concurrent writer's rows, so two of them would both add a row
        both saw missing. This is a Delta MERGE instead: it reads the rows it compares with, so a
        concurrent commit that added rows it should have seen makes it fail, and it is run again
        against the new version (up to :data:`INSERT_ATTEMPTS` times).

        Args:
            data: The candidate rows; must have the table's schema. The table is created empty
                first when missing.
            key_columns: The columns identifying a row (e.g. source file and line).
            scope: ``(column, values)``: only target rows whose ``column`` is one of ``values``
                can hold a key of ``data``, which lets Delta skip the other files by their
                statistics (None: every row of the table is compared).
            commit_metadata: As for :meth:`write_table`.
            sequence: An int64 column of ``data`` that the commit numbers: the candidates get
                consecutive numbers above every number the table holds, in their order in
                ``data``. The numbers are taken against the version merged into, so a retry
                renumbers, and any concurrent commit of numbered rows makes the MERGE conflict
                (its rows are in the range read): two rows never get the same number.

        Returns:
            The committed version, the number of rows actually inserted and, with ``sequence``,
            the first number given.

        Raises:
            WriteConflict: Concurrent writers won every attempt.
        """
        if not DeltaTable.is_deltatable(self.uri, storage_options=self._storage_options):
            self._commit(lambda: self._create_empty(data.schema))
        keys = [f"target.{quote_identifier(c)} = source.{quote_identifier(c)}" for c in key_columns]
        scoped: str | None = None
        if scope is not None and scope[1]:
            column, values = scope
            listed = ", ".join(quote_literal(v) for v in values)
            scoped = f"target.{quote_identifier(column)} IN ({listed})"

        def merge() -> WriteResult:
            table = self._table()
            source, first, read = data, None, scoped
            if sequence is not None:
                first = _highest(table, sequence) + 1
                source = _numbered(data, sequence, first)
                if read is not None:  # a concurrent commit of numbered rows falls in this range
                    read = f"({read} OR target.{quote_identifier(sequence)} >= {first})"
            metrics = (
                table.merge(
                    source=source,
                    predicate=" AND ".join([read, *keys] if read is not None else keys),
                    source_alias="source",
                    target_alias="target",
                    commit_properties=_commit_properties(commit_metadata),
                )
                .when_not_matched_insert_all()
                .execute()
            )
            return WriteResult(
                uri=self.uri,
                mode=WriteMode.APPEND,
                version=table.version(),
                rows_written=int(metrics.get("num_target_rows_inserted", 0) or 0),
                first_number=first,
            )

        return self._commit(merge, attempts=INSERT_ATTEMPTS)

    def delete_rows(self, predicate: str) -> int:
        """Delete the rows matching the Delta ``predicate`` in one commit; return how many.

        Raises:
            WriteConflict: A concurrent writer committed an overlapping change first.
        """
        metrics = self._commit(lambda: self._table().delete(predicate))
        return int(metrics.get("num_deleted_rows", 0) or 0)

    def restore_version(self, version: int, *, commit_metadata: dict[str, str]) -> int:
        """Commit a new version whose content is version ``version``'s; return the new version.

        Raises:
            WriteConflict: A concurrent writer committed first.
            DeltaError: ``version`` cannot be restored (e.g. its data files were vacuumed).
        """
        table = self._table()
        self._commit(
            lambda: table.restore(version, commit_properties=_commit_properties(commit_metadata))
        )
        return table.version()

    def _write_stream(
        self,
        stream: "_WatchedStream",
        mode: WriteMode,
        partition_by: Sequence[str],
        predicate: str | None,
        commit_metadata: dict[str, str] | None,
        transaction: AppTransaction | None,
    ) -> WriteResult:
        """One commit of ``stream`` (never retried: a stream is read once)."""

        def commit() -> None:
            try:
                self._write_deltalake(
                    stream.reader(), mode, partition_by, predicate, commit_metadata, transaction
                )
            except DeltaError as error:  # deltalake reports the stream's exception wrapped
                stream.raise_own_error(error)
                raise

        self._commit(commit)
        return WriteResult(
            uri=self.uri, mode=mode, version=self._table().version(), rows_written=stream.rows
        )

    def _commit(self, commit: Callable[[], T], *, attempts: int = 1) -> T:
        """Run ``commit``, again while a concurrent writer wins (up to ``attempts`` runs), with
        deltalake's errors as the platform's."""
        attempt = 1
        while True:
            try:
                return commit()
            except SchemaMismatchError as error:
                raise MeshError(
                    f"rows for {self.uri} do not match the table's schema: {error}",
                    fix="return the table's columns and types, or overwrite the table to change "
                    "them",
                ) from error
            except CommitFailedError as error:
                if attempt >= attempts:
                    raise WriteConflict(self.uri, error) from error
                attempt += 1

    def _write_deltalake(
        self,
        data: pa.Table | pa.RecordBatchReader,
        mode: WriteMode,
        partition_by: Sequence[str],
        predicate: str | None,
        commit_metadata: dict[str, str] | None,
        transaction: AppTransaction | None = None,
    ) -> None:
        """One ``write_deltalake`` with the options of ``mode`` (on the version ``transaction``
        read, when given)."""
        options: dict[str, Any] = {"mode": "append"}
        if mode is WriteMode.OVERWRITE:
            options = {"mode": "overwrite", "schema_mode": "overwrite"}
        elif mode is WriteMode.REPLACE_PARTITIONS:
            options = {"mode": "overwrite", "predicate": predicate}
        target: str | DeltaTable = self.uri
        properties = _commit_properties(commit_metadata)
        if transaction is not None:
            read_version = transaction.read_version
            if read_version < 0:  # created empty first, so a concurrent first write conflicts
                self._create_empty(data.schema, partition_by)
                read_version = 0
            target = DeltaTable(
                self.uri, version=read_version, storage_options=self._storage_options
            )
            properties = CommitProperties(
                custom_metadata=commit_metadata,
                app_transactions=[Transaction(app_id=transaction.app_id, version=1)],
            )
        write_deltalake(
            target,
            data,
            partition_by=list(partition_by) or None,
            storage_options=self._storage_options,
            commit_properties=properties,
            **options,
        )

    def _create_empty(self, schema: pa.Schema, partition_by: Sequence[str] = ()) -> None:
        """Create the table with ``schema`` and no rows, unless another writer has created it
        (a first commit holding rows is not safe: writers creating the table at the same time may
        each commit theirs)."""
        try:
            write_deltalake(
                self.uri,
                schema.empty_table(),
                mode="error",
                partition_by=list(partition_by) or None,
                storage_options=self._storage_options,
            )
        except DeltaError:  # CommitFailedError among them
            if not DeltaTable.is_deltatable(self.uri, storage_options=self._storage_options):
                raise  # not another writer creating it first

    def _table(self) -> DeltaTable:
        return DeltaTable(self.uri, storage_options=self._storage_options)

    def _version(self) -> int:
        """The table's latest version, or -1 when no table exists yet."""
        if not DeltaTable.is_deltatable(self.uri, storage_options=self._storage_options):
            return -1
        return self._table().version()


def check_stream_predicate(mode: WriteMode, predicate: str | None) -> None:
    """Refuse, with a :class:`MeshError`, a stream write whose ``mode`` and ``predicate`` do not
    go together: a stream replaces partitions only by a predicate (its dates are not known before
    it ends), and a predicate only replaces partitions."""
    if mode is WriteMode.REPLACE_PARTITIONS and predicate is None:
        raise MeshError(
            "replacing partitions from a stream needs the predicate of the partitions replaced",
            fix="pass predicate= (e.g. \"day = '2026-03-01'\"), declare the table daily-"
            "partitioned (partition=daily(...)), or publish the rows whole with publish()",
        )
    if predicate is not None and mode is not WriteMode.REPLACE_PARTITIONS:
        raise MeshError(
            f"a predicate replaces partitions, but the mode is {mode.value}",
            fix="use mode=WriteMode.REPLACE_PARTITIONS with a predicate, or drop the predicate",
        )


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


def _highest(table: DeltaTable, column: str) -> int:
    """The highest value of the int64 ``column`` in the version ``table`` holds (0 when none):
    from the files' statistics, reading the column only where a file has none."""
    actions = pa.table(table.get_add_actions(flatten=True))
    holding_rows = pc.fill_null(pc.not_equal(actions.column("num_records"), 0), True)
    actions = actions.filter(holding_rows)  # an empty file has no bound
    name = f"max.{column}"
    if actions.num_rows == 0:
        return 0
    if name in actions.column_names and actions.column(name).null_count == 0:
        return int(pc.max(actions.column(name)).as_py() or 0)
    values = table.to_pyarrow_dataset().to_table(columns=[column]).column(column)
    return int(pc.max(values).as_py() or 0)


def _numbered(data: pa.Table, column: str, first: int) -> pa.Table:
    """``data`` with ``column`` numbered ``first``, ``first + 1``, ... in row order."""
    numbers = pa.array(range(first, first + data.num_rows), pa.int64())
    index = data.schema.get_field_index(column)
    return data.set_column(index, data.schema.field(index), numbers)


def _commit_properties(metadata: dict[str, str] | None) -> CommitProperties | None:
    return CommitProperties(custom_metadata=metadata) if metadata else None


class _WatchedStream:
    """A stream of record batches whose own exception can be raised as itself after the write.

    deltalake reads the stream on its own runtime and reports whatever the stream raised wrapped
    in a :class:`DeltaError`; the exception is kept here on its way through, unchanged.
    """

    def __init__(self, batches: pa.RecordBatchReader) -> None:
        self._batches = batches
        self._error: Exception | None = None
        self.rows = 0
        """Rows that went through."""

    def reader(self) -> pa.RecordBatchReader:
        """The batches, watched."""
        return pa.RecordBatchReader.from_batches(self._batches.schema, self._watched())

    def raise_own_error(self, wrapped: DeltaError) -> None:
        """Raise the stream's own exception, if it raised one, from deltalake's ``wrapped``."""
        if self._error is not None:
            raise self._error from wrapped

    def _watched(self) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self._batches:
                self.rows += batch.num_rows
                yield batch
        except Exception as error:  # kept, then raised on unchanged: nothing is swallowed here
            self._error = error
            raise
