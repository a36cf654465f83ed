"""Write-audit-publish for tables larger than memory, and the one entry point that picks the path.

:func:`publish_stream` is :func:`~platform_lib.lake.publish.publish` over a stream of record
batches: each batch is validated as it arrives (``quality.stream.StreamValidator``: the same
results as validating the whole table), its valid rows flow straight into
``deltalake.write_deltalake``, which writes Parquet files as it goes and commits once at the end,
and its rejected rows are spooled to a temporary Arrow file. At the end of the stream, before
``write_deltalake`` commits, the table-level verdicts are judged:

- a failing blocking rule or a rejected share above the contract's threshold makes the stream
  raise, so ``write_deltalake`` commits nothing: the table keeps its previous version and no
  quarantine row of the run is kept. The Parquet files already written (deltalake closes one
  every ~100 MB; a smaller stream leaves none) are referenced by no Delta version: they stay on
  disk, invisible to readers, until a ``VACUUM`` removes them;
- otherwise the quarantine is committed (the same rows, ``run_id``, ``row_hash``, dedupe and
  overwrite semantics as ``publish``, by the same code), and then the table, both commits tagged
  with the run id. A crash in between is reconciled by the next publish, as for ``publish``.

Memory does not grow with the table, except for the keys of the unique columns (8 or 16 bytes a
distinct key): it is one batch of ``batch_rows`` rows in the engine (its per-row pass holds ~8x
the batch's Arrow size), deltalake's open file, and the source's own read buffers. The rejected
rows, and with SQL rules the valid rows, are spooled to temporary files, not held.

:func:`publish_rows` chooses: an Arrow table of at most ``stream_threshold_rows`` rows, or a
record batch reader that ends within that many rows, is published whole by ``publish``; anything
larger streams, Arrow tables included (streaming a table in memory still saves the engine's whole-
table copies). Both paths give the same published table, quarantine and verdicts.
"""

import itertools
import os
import queue
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import SchemaMismatchError

from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.partitions import PARTITION_KEY_COLUMN, PartitionWrite
from platform_lib.lake.publish import (
    ROW_HASH_COLUMN,
    RUN_ID_COLUMN,
    RUN_ID_METADATA,
    PublishOutcome,
    _published_elsewhere,
    check_run_id,
    keep_rejected,
    publish,
    quarantine_rows,
    reconcile,
)
from platform_lib.lake.reader import table_state
from platform_lib.lake.write_scope import check_write_target
from platform_lib.lake.writer import WriteMode, WriteResult
from platform_lib.quality.contract_schema import contract_arrow_schema
from platform_lib.quality.results import ValidationResult
from platform_lib.quality.stream import (
    DEFAULT_BATCH_ROWS,
    StreamValidator,
    rebatch,
)
from platform_lib.quality.violations import VIOLATIONS_COLUMN, VIOLATIONS_TYPE
from platform_lib.settings import MeshSettings

# The stream is read on a worker thread of deltalake's tokio runtime, where no other deltalake
# call may block (it panics: "Cannot start a runtime from within a runtime"). The deltalake calls
# the stream makes (the quarantine commit; the lookups of other days' keys, made while checking)
# run on threads of ours while the stream waits: that needs a second runtime worker, or the wait
# never ends. Tokio
# sizes its runtime from TOKIO_WORKER_THREADS (default: the CPUs), read when deltalake first
# starts it, which is after this import in any process that imports the platform first.
_MIN_WORKERS = 2
os.environ.setdefault("TOKIO_WORKER_THREADS", str(max(_MIN_WORKERS, os.cpu_count() or 1)))

DEFAULT_STREAM_THRESHOLD_ROWS = 1_000_000
"""Above this many rows :func:`publish_rows` streams (measured: ``bench_publish.py --sweep``,
benchmarks/README.md P2/P3). Below it the whole-table path is faster (a stream of one or two
batches only adds its spools and key sets) and peaks under ~0.8 GiB; from about here on the
whole-table peak grows with the table (~0.3 GiB a million rows of 8 columns, the input held in
memory included) while the stream's stays put, and where batches need the engine's DuckDB pass
(text to cast) streaming is also faster: at 3M rows 6.1 s against 10.1 s."""
_REJECTED_SPOOL = "rejected.arrow"
T = TypeVar("T")


class WritePath(StrEnum):
    """Which write-audit-publish ran."""

    WHOLE_TABLE = "whole_table"
    """``publish``: the rows validated in one pass, in memory."""
    STREAM = "stream"
    """``publish_stream``: batch by batch, written as they are validated."""


class RoutedOutcome(PublishOutcome):
    """A :class:`PublishOutcome` saying which path produced it."""

    path: WritePath
    batches: int = 1
    """Batches validated (1 for the whole-table path)."""


@dataclass
class _Stream:
    """What the batch generator hands back to the writer's caller."""

    result: ValidationResult | None = None
    quarantined: WriteResult | None = None
    published: WriteResult | None = None
    error: BaseException | None = None

    @property
    def blocked(self) -> bool:
        return self.result is not None and self.result.blocked


class _Blocked(Exception):
    """Raised at the end of the stream so ``write_deltalake`` commits nothing."""


def publish_stream(
    key: TableKey,
    batches: pa.RecordBatchReader,
    *,
    contract: TableContract,
    mode: WriteMode,
    settings: MeshSettings,
    run_id: str,
    partition_by: tuple[str, ...] = (),
    predicate: str | None = None,
    partition: PartitionWrite | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    spool_dir: Path | None = None,
) -> RoutedOutcome:
    """Validate ``batches`` against ``contract`` as they stream and write-audit-publish them.

    Args:
        key: The table.
        batches: The rows, typed or as text; consumed once, and closed.
        contract: The rules.
        mode: ``OVERWRITE`` or ``APPEND``; ``REPLACE_PARTITIONS`` only with ``predicate`` (or
            ``partition``).
        settings: Where the lake is.
        run_id: Tags both commits and the quarantined rows.
        partition_by: The table's Delta partition columns.
        predicate: With ``REPLACE_PARTITIONS``: the rows to replace (a Delta ``replaceWhere``
            predicate, e.g. ``"day = '2026-03-01'"``); every valid row must match it.
        partition: One day of a daily-partitioned table, as for ``publish`` (sets the mode, the
            predicate and the partition columns).
        batch_rows: Rows validated at a time (small batches are gathered, large ones sliced).
        spool_dir: Where the temporary spools go (default: the system's temporary folder).

    Returns:
        The verdicts and the commits made (none when blocked), with ``path=STREAM``.

    Raises:
        MeshError: ``REPLACE_PARTITIONS`` without a predicate, a predicate with another mode,
            or rows that do not fit the existing table's schema.

    Example:
        >>> reader = pyarrow.dataset.dataset(path).scanner(batch_size=1_000_000).to_reader()
        >>> publish_stream(key, reader, contract=contract, mode=WriteMode.OVERWRITE,
        ...                settings=resolve_settings(), run_id="run-1")
    """
    check_run_id(run_id)
    uri = key.uri(settings)
    check_write_target(uri, settings, key=key)
    if partition is not None:
        if predicate is not None:
            raise MeshError(
                "publish_stream takes a partition or a predicate, not both",
                fix="pass partition= alone: it brings the day's predicate",
            )
        contract = contract.model_copy(update={"rules": (*contract.rules, partition.rule)})
        mode, partition_by = WriteMode.REPLACE_PARTITIONS, partition.physical_columns
        predicate = partition.predicate
    _check_predicate(mode, predicate)
    _check_runtime()
    reconciled = reconcile(key, settings, partition)
    tag = {RUN_ID_METADATA: run_id}
    stream = _Stream()
    with (
        tempfile.TemporaryDirectory(prefix="mesh-publish-", dir=spool_dir) as folder,
        StreamValidator(contract, batches.schema, spool_dir=Path(folder)) as checker,
        ThreadPoolExecutor(1, thread_name_prefix="mesh-publish") as off_runtime,
    ):
        if checker.blocked_by_schema is None:
            spool = Path(folder) / _REJECTED_SPOOL
            rejected_schema = _rejected_schema(batches.schema, partition)

            def checked() -> Iterator[pa.Table]:
                """The valid rows of each batch; the rejected ones go to the spool."""
                with (
                    batches,  # closed even when abandoned: an open Delta scan crashes at exit
                    pa.OSFile(str(spool), "wb") as sink,
                    pa.ipc.new_file(sink, rejected_schema) as spooled,
                ):
                    for table in rebatch(batches, batch_rows):
                        taken = None
                        if partition is not None:  # unique columns stay unique across days
                            taken = _published_elsewhere(uri, table, contract, partition)
                        part = checker.check(table, taken=taken)
                        rejected = quarantine_rows(part.rejected, run_id, partition)
                        spooled.write_table(rejected.select(rejected_schema.names))
                        yield part.valid

            def valid_batches() -> Iterator[pa.RecordBatch]:
                try:
                    # Validated on a thread of ours, one batch ahead of the writer: checking a
                    # batch overlaps with encoding the one before (and may call deltalake).
                    for valid in read_ahead(checked()):
                        yield from valid.to_batches()
                    stream.result = checker.finish()
                    if stream.result.blocked:
                        raise _Blocked  # write_deltalake commits nothing
                    with pa.memory_map(str(spool)) as source:  # quarantine first, then the table
                        rejected = pa.ipc.open_file(source).read_all()
                        commit = off_runtime.submit(
                            keep_rejected, key, rejected, mode, partition, settings, tag
                        )
                        stream.quarantined = commit.result()
                except Exception as error:  # not GeneratorExit: the writer may stop reading
                    stream.error = error
                    raise

            reader = pa.RecordBatchReader.from_batches(
                contract_arrow_schema(contract), valid_batches()
            )
            stream.published = _write(uri, reader, mode, partition_by, predicate, tag, stream)
        else:  # nothing can be published; the verdict counts the rows all the same
            with batches:
                for batch in batches:
                    checker.check(batch)
            stream.result = checker.finish()
        batches_checked = checker.batches
    assert stream.result is not None
    state = table_state(uri) if stream.published is not None else None
    return RoutedOutcome(
        key=key,
        run_id=run_id,
        validation=stream.result,
        published=stream.published,
        quarantined=stream.quarantined,
        table_rows=state.rows if state else None,
        reconciled_rows=reconciled,
        path=WritePath.STREAM,
        batches=batches_checked,
    )


def publish_rows(
    key: TableKey,
    rows: pa.Table | pa.RecordBatchReader,
    *,
    contract: TableContract,
    mode: WriteMode,
    settings: MeshSettings,
    run_id: str,
    partition_by: tuple[str, ...] = (),
    partition: PartitionWrite | None = None,
    predicate: str | None = None,
    stream_threshold_rows: int = DEFAULT_STREAM_THRESHOLD_ROWS,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> RoutedOutcome:
    """Write-audit-publish ``rows``, whole or streamed, whichever fits their size.

    An Arrow table of at most ``stream_threshold_rows`` rows is published whole by ``publish``.
    A record batch reader is read until it passes that many rows: if it ends first, its batches
    are published whole; otherwise they are put back in front of the rest and everything
    streams through :func:`publish_stream`. A larger Arrow table streams too, in slices of
    ``batch_rows`` (no whole-table copies). With ``predicate`` the rows always stream (only the
    streaming path takes an explicit predicate). Both paths give the same published table,
    quarantine and verdicts; ``path`` on the outcome says which one ran.

    Example:
        >>> outcome = publish_rows(key, relation.arrow(), contract=contract, mode=spec.mode,
        ...                        settings=settings, run_id=context.run_id,
        ...                        partition_by=spec.partition_by, partition=partition)
    """
    common = {
        "contract": contract,
        "mode": mode,
        "settings": settings,
        "run_id": run_id,
        "partition_by": partition_by,
        "partition": partition,
    }
    if isinstance(rows, pa.Table):
        if rows.num_rows <= stream_threshold_rows and predicate is None:
            return _whole(publish(key, rows, **common))  # type: ignore[arg-type]
        reader = rows.to_reader(max_chunksize=batch_rows)
    else:
        peeked: list[pa.RecordBatch] = []
        held = 0
        for batch in rows:
            peeked.append(batch)
            held += batch.num_rows
            if held > stream_threshold_rows:
                break
        else:
            if predicate is None:
                whole = pa.Table.from_batches(peeked, schema=rows.schema)
                return _whole(publish(key, whole, **common))  # type: ignore[arg-type]
        reader = pa.RecordBatchReader.from_batches(rows.schema, _chained(peeked, rows))
    return publish_stream(
        key,
        reader,
        predicate=predicate,
        batch_rows=batch_rows,
        **common,  # type: ignore[arg-type]
    )


def _chained(peeked: list[pa.RecordBatch], rest: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The batches read ahead, then the rest of the reader (closed at the end, or when the
    stream is abandoned)."""
    with rest:
        yield from itertools.chain(peeked, rest)


def _whole(outcome: PublishOutcome) -> RoutedOutcome:
    return RoutedOutcome(**dict(outcome), path=WritePath.WHOLE_TABLE)


def read_ahead(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """``items``, produced on a thread of their own up to ``depth`` ahead of the consumer.

    An exception of the producer is raised to the consumer; a consumer that stops early stops the
    producer (at its next item) and waits for it.
    """
    handoff: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand(done: bool, item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put((done, item), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand(False, item):
                    return
            hand(True, None)
        except BaseException as error:  # handed to the consumer, raised there
            hand(True, error)

    producer = threading.Thread(target=produce, name="mesh-publish-check", daemon=True)
    producer.start()
    try:
        while True:
            done, item = handoff.get()
            if done:
                if isinstance(item, BaseException):
                    raise item
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        producer.join()


def _check_runtime() -> None:
    workers = os.environ.get("TOKIO_WORKER_THREADS", "")
    if workers.isdigit() and int(workers) < _MIN_WORKERS:
        raise MeshError(
            f"TOKIO_WORKER_THREADS={workers}: a streaming publish needs {_MIN_WORKERS} deltalake "
            "runtime workers (the stream waits on a worker while the quarantine commits)",
            fix=f"unset TOKIO_WORKER_THREADS or set it to {_MIN_WORKERS} or more",
        )


def _check_predicate(mode: WriteMode, predicate: str | None) -> None:
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


def _write(
    uri: str,
    reader: pa.RecordBatchReader,
    mode: WriteMode,
    partition_by: tuple[str, ...],
    predicate: str | None,
    tag: dict[str, str],
    stream: _Stream,
) -> WriteResult | None:
    """One ``write_deltalake`` of the stream with ``write_table``'s options per mode; None when
    the stream ended blocked (nothing committed). The stream's own errors reach the caller."""
    commit = CommitProperties(custom_metadata=tag)
    columns = list(partition_by) or None
    try:
        if mode is WriteMode.APPEND:
            write_deltalake(
                uri, reader, mode="append", partition_by=columns, commit_properties=commit
            )
        else:
            write_deltalake(
                uri,
                reader,
                mode="overwrite",
                partition_by=columns,
                schema_mode="overwrite" if mode is WriteMode.OVERWRITE else None,
                predicate=predicate,
                commit_properties=commit,
            )
    except SchemaMismatchError as error:
        raise MeshError(
            f"rows for {uri} do not match the table's schema: {error}",
            fix="return the table's columns and types, or overwrite the table to change them",
        ) from error
    except Exception as error:  # the stream's exception arrives wrapped in a DeltaError
        if stream.blocked:
            return None
        if stream.error is not None:
            raise stream.error from error
        raise
    assert stream.result is not None
    version = DeltaTable(uri).version()
    return WriteResult(uri=uri, mode=mode, version=version, rows_written=stream.result.rows_valid)


def _rejected_schema(schema: pa.Schema, partition: PartitionWrite | None) -> pa.Schema:
    """The quarantine's columns: the batch's, ``violated_rules``, ``run_id``, ``row_hash``."""
    fields = [
        *schema,
        pa.field(VIOLATIONS_COLUMN, VIOLATIONS_TYPE),
        pa.field(RUN_ID_COLUMN, pa.string()),
        pa.field(ROW_HASH_COLUMN, pa.string()),
    ]
    if partition is not None:
        fields.append(pa.field(PARTITION_KEY_COLUMN, pa.string()))
    return pa.schema(fields)
