"""Write-audit-publish: validate rows against their contract, quarantine breakers, commit the rest.

Nothing that breaks a contract becomes visible, and no row is silently dropped:

- a schema mismatch, a failing blocking table-level rule, or a rejected share above the contract's
  threshold commits nothing (the table keeps its previous version);
- otherwise rows breaking a row-level rule go to the table ``<table>__quarantine`` with their
  original values (as text, on every layer), ``violated_rules`` and ``run_id`` (see
  :mod:`.quarantine`); the valid rows, cast to the contract's types, are committed in one
  transaction.

One core, two modes, one entry point:

- :mod:`.request`: what a publish is asked to do, the input of both modes and of the router;
- :mod:`.plan`: the set-up both modes share, built once (run id, write scope, the interrupted
  run's quarantine rows removed, a daily partition's rule, mode and predicate, uniqueness across
  days), and the outcome (:mod:`.outcome`);
- :mod:`.quarantine`: the quarantine rows, their row hashes and their commit (the text of their
  values: :mod:`.quarantine_text`); :mod:`.run_ids`;
- :mod:`.append_inputs`: an append records the input versions it consumed and commits nothing
  when the same inputs were appended already;
- :mod:`.whole`: ``publish``, a batch in memory validated in one pass;
- :mod:`.stream`: ``publish_stream``, batches validated and written as they arrive;
- :mod:`.arrival_order`: rows carrying the raw layer's arrival sequence validated in arrival
  order, so the first of duplicates to arrive wins;
- here, :func:`publish_rows`, what the assets call: it picks the mode by the rows' size.

Every commit goes through :class:`~platform_lib.lake.committer.Committer`.
"""

import itertools
from collections.abc import Iterator

import pyarrow as pa

from platform_lib.lake.publish.arrival_order import in_arrival_order
from platform_lib.lake.publish.outcome import PublishOutcome
from platform_lib.lake.publish.request import PublishRequest
from platform_lib.lake.publish.stream import publish_stream
from platform_lib.lake.publish.whole import publish
from platform_lib.quality.stream import DEFAULT_BATCH_ROWS

__all__ = ["DEFAULT_STREAM_THRESHOLD_ROWS", "publish_rows"]

DEFAULT_STREAM_THRESHOLD_ROWS = 1_000_000
"""Above this many rows :func:`publish_rows` streams (measured: ``bench_publish.py --sweep``,
benchmarks/README.md P2/P3). Below it the whole-table path is faster (a stream of one or two
batches only adds its spools and key sets) and peaks under ~0.8 GiB; from about here on the
whole-table peak grows with the table (~0.3 GiB a million rows of 8 columns, the input held in
memory included) while the stream's stays put, and where batches need the engine's DuckDB pass
(text to cast) streaming is also faster: at 3M rows 6.1 s against 10.1 s."""


def publish_rows(
    request: PublishRequest,
    rows: pa.Table | pa.RecordBatchReader,
    *,
    predicate: str | None = None,
    stream_threshold_rows: int = DEFAULT_STREAM_THRESHOLD_ROWS,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> PublishOutcome:
    """Write-audit-publish ``rows``, whole or streamed, whichever fits their size.

    An Arrow table of at most ``stream_threshold_rows`` rows is published whole by ``publish``.
    A record batch reader is read until it passes that many rows: if it ends first, its batches
    are published whole; otherwise they are put back in front of the rest and everything
    streams through ``publish_stream``. A larger Arrow table streams too, in slices of
    ``batch_rows`` (no whole-table copies). With ``predicate`` the rows always stream (only the
    streaming path takes an explicit predicate). Both paths give the same published table,
    quarantine and verdicts; ``path`` on the outcome says which one ran.

    Example:
        >>> request = PublishRequest(key, contract=contract, mode=spec.mode, settings=settings,
        ...                          run_id=context.run_id, partition=partition)
        >>> outcome = publish_rows(request, relation.arrow())
    """
    if isinstance(rows, pa.Table):
        if rows.num_rows <= stream_threshold_rows and predicate is None:
            return publish(request, rows)
        reader = in_arrival_order(rows).to_reader(max_chunksize=batch_rows)
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
                return publish(request, pa.Table.from_batches(peeked, schema=rows.schema))
        reader = pa.RecordBatchReader.from_batches(rows.schema, _chained(peeked, rows))
    return publish_stream(request, reader, predicate=predicate, batch_rows=batch_rows)


def _chained(peeked: list[pa.RecordBatch], rest: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The batches read ahead, then the rest of the reader (closed at the end, or when the
    stream is abandoned)."""
    with rest:
        yield from itertools.chain(peeked, rest)
