"""Write-audit-publish for tables larger than memory: validated and written batch by batch.

:func:`publish_stream` is :func:`~platform_lib.lake.publish.whole.publish` over a stream of
record batches: each batch is validated as it arrives (``quality.stream.StreamValidator``: the
same results as validating the whole table), its valid rows flow straight into the table's
stream write (:meth:`~platform_lib.lake.committer.Committer.write_table`), which writes Parquet
files as it goes and commits once at the end, and its rejected rows are spooled to a temporary
Arrow file. At the end of the stream, before the table commit, the table-level verdicts are
judged:

- a failing blocking rule or a rejected share above the contract's threshold makes the stream
  raise, so the table commits nothing: it keeps its previous version and no quarantine row of
  the run is kept. The Parquet files already written (deltalake closes one every ~100 MB; a
  smaller stream leaves none) are referenced by no Delta version: they stay on disk, invisible
  to readers, until a ``VACUUM`` removes them;
- otherwise the quarantine is committed (the same rows, ``run_id``, ``row_hash``, dedupe and
  overwrite semantics as ``publish``, by the same code: :mod:`~platform_lib.lake.publish.plan`),
  and then the table, both commits tagged with the run id. A crash in between is reconciled by
  the next publish, as for ``publish``.

Memory does not grow with the table, except for the keys of the unique columns (8 or 16 bytes a
distinct key): it is one batch of ``batch_rows`` rows in the engine (its per-row pass holds ~8x
the batch's Arrow size), deltalake's open file, and the source's own read buffers. The rejected
rows, and with SQL rules the valid rows, are spooled to temporary files, not held.
"""

import os
import queue
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

from platform_lib.errors import MeshError
from platform_lib.lake.committer import WriteResult, check_stream_predicate
from platform_lib.lake.publish.append_inputs import AlreadyAppended
from platform_lib.lake.publish.arrival_order import stream_in_arrival_order
from platform_lib.lake.publish.outcome import PublishOutcome, WritePath
from platform_lib.lake.publish.plan import PublishPlan, plan_publish
from platform_lib.lake.publish.quarantine import quarantine_schema
from platform_lib.lake.publish.request import PublishRequest
from platform_lib.quality.contract_schema import contract_arrow_schema
from platform_lib.quality.results import ValidationResult
from platform_lib.quality.stream import DEFAULT_BATCH_ROWS, StreamValidator, rebatch

# The stream is read on a worker thread of deltalake's tokio runtime, where no other deltalake
# call may block (it panics: "Cannot start a runtime from within a runtime"). The deltalake calls
# the stream makes (the quarantine commit; the lookups of other days' keys, made while checking)
# run on threads of ours while the stream waits: that needs a second runtime worker, or the wait
# never ends. Tokio sizes its runtime from TOKIO_WORKER_THREADS (default: the CPUs), read when
# deltalake first starts it, which is after this import in any process that imports the platform
# first.
_MIN_WORKERS = 2
os.environ.setdefault("TOKIO_WORKER_THREADS", str(max(_MIN_WORKERS, os.cpu_count() or 1)))

_REJECTED_SPOOL = "rejected.arrow"
T = TypeVar("T")


@dataclass
class _StreamEnd:
    """What the end of the stream decided, handed back from the writer's thread."""

    result: ValidationResult | None = None
    quarantined: WriteResult | None = None


class _Blocked(Exception):
    """Raised at the end of the stream so the table commits nothing."""


def publish_stream(
    request: PublishRequest,
    batches: pa.RecordBatchReader,
    *,
    predicate: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    spool_dir: Path | None = None,
) -> PublishOutcome:
    """Validate ``batches`` against the request's contract as they stream and write-audit-publish
    them.

    Args:
        request: What to publish. Its mode is ``OVERWRITE`` or ``APPEND``;
            ``REPLACE_PARTITIONS`` only with ``predicate`` (or a partition, which brings its own).
        batches: The rows, typed or as text; consumed once, and closed. Rows carrying the
            arrival sequence must come in arrival order across batches (see
            :mod:`~platform_lib.lake.publish.arrival_order`).
        predicate: With ``REPLACE_PARTITIONS``: the rows to replace (a Delta ``replaceWhere``
            predicate, e.g. ``"day = '2026-03-01'"``); every valid row must match it.
        batch_rows: Rows validated at a time (small batches are gathered, large ones sliced).
        spool_dir: Where the temporary spools go (default: the system's temporary folder).

    Returns:
        The verdicts and the commits made (none when blocked, or for an append whose inputs
        were appended already: ``already_appended``), with ``path=STREAM``.

    Raises:
        MeshError: ``REPLACE_PARTITIONS`` without a predicate, a predicate with another mode,
            rows that do not fit the existing table's schema, or rows out of arrival order.

    Example:
        >>> reader = pyarrow.dataset.dataset(path).scanner(batch_size=1_000_000).to_reader()
        >>> publish_stream(PublishRequest(key, contract=contract, mode=WriteMode.OVERWRITE,
        ...                               settings=resolve_settings(), run_id="run-1"), reader)
    """
    plan = plan_publish(request, predicate)
    check_stream_predicate(plan.mode, plan.predicate)
    _check_runtime()
    guard = plan.append_guard()
    already = guard.already if guard else None
    reconciled = plan.reconcile() if already is None else 0
    batches = stream_in_arrival_order(batches, request.key)
    end = _StreamEnd()
    published: WriteResult | AlreadyAppended | None = None
    with (
        tempfile.TemporaryDirectory(prefix="mesh-publish-", dir=spool_dir) as folder,
        StreamValidator(plan.contract, batches.schema, spool_dir=Path(folder)) as checker,
        ThreadPoolExecutor(1, thread_name_prefix="mesh-publish") as off_runtime,
    ):
        if checker.blocked_by_schema is None and already is None:
            spool = Path(folder) / _REJECTED_SPOOL
            valid = _valid_batches(plan, batches, checker, batch_rows, spool, off_runtime, end)
            try:
                published = plan.write_valid(valid, guard)
            except _Blocked:
                published = None  # the table commits nothing
        else:  # nothing is published (blocked, or appended already): the rows are checked
            published = already
            with batches:
                for batch in batches:
                    checker.check(batch)
            end.result = checker.finish()
        batches_checked = checker.batches
    assert end.result is not None
    return plan.outcome(
        end.result,
        path=WritePath.STREAM,
        reconciled_rows=reconciled,
        published=published,
        quarantined=end.quarantined,
        batches=batches_checked,
    )


def _valid_batches(
    plan: PublishPlan,
    batches: pa.RecordBatchReader,
    checker: StreamValidator,
    batch_rows: int,
    spool: Path,
    off_runtime: ThreadPoolExecutor,
    end: _StreamEnd,
) -> pa.RecordBatchReader:
    """The valid rows of ``batches``, as they are validated; the rejected ones are spooled.

    At the end of the stream the verdict is judged: a blocked stream raises :class:`_Blocked`,
    otherwise the quarantine is committed (on ``off_runtime``: the stream is read on deltalake's
    runtime) before the stream ends and the table commits.
    """
    rejected_schema = quarantine_schema(batches.schema, plan.partition)

    def checked() -> Iterator[pa.Table]:
        """The valid rows of each batch; the rejected ones go to the spool."""
        with (
            batches,  # closed even when abandoned: an open Delta scan crashes at exit
            pa.OSFile(str(spool), "wb") as sink,
            pa.ipc.new_file(sink, rejected_schema) as spooled,
        ):
            for table in rebatch(batches, batch_rows):
                part = checker.check(table, taken=plan.published_elsewhere(table))
                rejected = plan.quarantine_rows(part.rejected)
                spooled.write_table(rejected.select(rejected_schema.names))
                yield part.valid

    def valid() -> Iterator[pa.RecordBatch]:
        # Validated on a thread of ours, one batch ahead of the writer: checking a batch
        # overlaps with encoding the one before (and may call deltalake).
        for table in read_ahead(checked()):
            yield from table.to_batches()
        end.result = checker.finish()
        if end.result.blocked:
            raise _Blocked
        with pa.memory_map(str(spool)) as source:  # quarantine first, then the table
            rejected = pa.ipc.open_file(source).read_all()
            end.quarantined = off_runtime.submit(plan.keep_rejected, rejected).result()

    return pa.RecordBatchReader.from_batches(contract_arrow_schema(plan.contract), valid())


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
