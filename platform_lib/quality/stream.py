"""The validation engine over a stream of record batches, for tables larger than memory.

:class:`StreamValidator` checks a stream batch by batch and gives exactly what
:func:`~platform_lib.quality.engine.validate_batch` gives on the concatenated table: the same valid
rows (same order, cast to the contract's types), the same rejected rows with the same
``violated_rules``, and the same verdict for every rule. Each batch goes through ``validate_batch``
itself (one engine, no second copy of the rules); what crosses batches is kept here:

- **uniqueness** (``unique`` rules and ``duplicateValues`` metrics): ``validate_batch`` marks the
  repeats inside a batch; a :class:`KeySet` per column remembers the keys of every earlier row
  (valid or rejected) and marks the rows repeating one. Keys only, never rows: an integer-like
  value (integers, dates, timestamps, booleans, decimals of precision <= 18) is its own exact
  64-bit key; any other value (text, floats, wider decimals) is keyed by two independent 64-bit
  polars hashes, 128 bits, where a repeat needs both halves equal: a collision of one half is
  told apart, a false repeat needs a 128-bit collision (probability below n^2 / 2^128, ~1e-25
  for 10^7 keys). Memory is 8 or 16 bytes a distinct key, in sorted runs merged like an LSM tree
  (lookups are binary searches of the batch's sorted keys: no per-batch rebuild);
- **table-level rules** are judged at the end from counts summed over the batches: the row
  count, the metric thresholds (counts, or shares of all rows), and the quarantine threshold;
- **samples** of failing keys: the first rejected rows (their key and ``violated_rules``), as
  many as the engine looks at (:data:`~platform_lib.quality.verdicts.SAMPLE_ROWS`);
- **SQL rules** need every row to publish: with any, the valid rows are spooled to a temporary
  Arrow file (LZ4; deleted on :meth:`StreamValidator.close`) that DuckDB queries at the end, so
  memory stays bounded by the batch (the disk holds about half the rows' Arrow size).

Float sums in an SQL rule may differ in the last bits from a whole-table run (DuckDB adds in
another order); integer and decimal results are exact.

Example:
    >>> with StreamValidator(contract, reader.schema) as validator:
    ...     for batch in reader:
    ...         part = validator.check(batch)  # part.valid, part.rejected
    ...     result = validator.finish()
"""

import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.rules import (
    SCHEMA_RULE,
    THRESHOLD_RULE,
    MetricThreshold,
    SqlCheck,
    Unique,
)
from platform_lib.quality.contract_schema import contract_arrow_schema
from platform_lib.quality.engine import CheckedBatch, validate_batch
from platform_lib.quality.results import ValidationResult
from platform_lib.quality.verdicts import SAMPLE_ROWS, verdicts
from platform_lib.quality.violations import VIOLATIONS_COLUMN, VIOLATIONS_TYPE

DEFAULT_BATCH_ROWS = 500_000
"""Rows validated at a time by :func:`rebatch` (see benchmarks/README.md, P3)."""
_ROW = "__mesh_stream_row"
"""The position of a row in its batch, carried through ``validate_batch`` as a lineage column."""
_POS, _KEY, _RULE, _ORDER = "pos", "key", "rule", "order"
_SEEDS = (0x6D657368, 0x73747265)
_HIGH = 2**64
_VALID_SPOOL = "valid.arrow"
_SPOOL_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")
"""Arrow IPC, LZ4: ~2.5x faster to write than Parquet (snappy), ~2x its size."""


@dataclass(frozen=True)
class StreamedBatch:
    """One batch split by its contract, uniqueness judged against every earlier batch."""

    valid: pa.Table
    """The rows to publish: the contract's columns, cast to the contract's types."""
    rejected: pa.Table
    """The rejected rows as they arrived plus ``violated_rules`` (``list<string>``)."""


class KeySet:
    """A set of keys (Int64 or UInt128 polars values) in sorted runs: lookups are binary searches.

    Runs are merged when the newest is at least half the size of the one before, so there are at
    most log2(keys / batch) + 1 runs and each key is merged O(log) times.
    """

    def __init__(self) -> None:
        self._runs: list[pl.Series] = []

    def __len__(self) -> int:
        return sum(len(run) for run in self._runs)

    def contains(self, keys: pl.Series) -> pl.Series:
        """Whether each key is in the set; ``keys`` sorted ascending (cache-friendly searches)."""
        found = pl.repeat(False, len(keys), eager=True)
        for run in self._runs:
            index = run.search_sorted(keys, side="left")
            at = run.gather(index.clip(0, len(run) - 1))
            found = found | ((index < len(run)) & (at == keys))
        return found

    def add(self, keys: pl.Series) -> None:
        """Add ``keys``: none of them in the set yet (repeats among them allowed), no nulls."""
        new = keys.unique().sort()
        if new.is_empty():
            return
        while self._runs and len(self._runs[-1]) <= 2 * len(new):
            old = pl.DataFrame({_KEY: self._runs.pop()})
            new = old.merge_sorted(pl.DataFrame({_KEY: new}), key=_KEY).to_series()
        self._runs.append(new)

    @property
    def nbytes(self) -> int:
        """Memory held by the keys."""
        return sum(int(run.estimated_size()) for run in self._runs)


def row_keys(values: pl.Series) -> pl.Series:
    """The key of each value (nulls stay null): exact for integer-like types, else 128 bits."""
    dtype = values.dtype
    if dtype.is_integer() or dtype in (pl.Boolean, pl.Date, pl.Time):
        return values.to_physical().cast(pl.Int64)
    if isinstance(dtype, pl.Datetime | pl.Duration):
        return values.to_physical().cast(pl.Int64)
    if isinstance(dtype, pl.Decimal) and (dtype.precision or 38) <= 18:
        return values.to_physical().cast(pl.Int64)  # the unscaled value, at the column's scale
    frame = pl.DataFrame({"v": values})
    high = pl.col("v").hash(_SEEDS[0]).cast(pl.UInt128) * _HIGH
    key = (high + pl.col("v").hash(_SEEDS[1]).cast(pl.UInt128)).alias(_KEY)
    return frame.select(pl.when(pl.col("v").is_not_null()).then(key)).to_series()


@dataclass
class _KeyGroup:
    """The keys seen in one column, and the rules judged against them."""

    column: str
    unique_rules: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    seen: KeySet = field(default_factory=KeySet)
    """The keys of every row checked so far."""
    taken: KeySet = field(default_factory=KeySet)
    """Keys published outside the stream: a repeat breaks the unique rules, not the metrics."""

    def add_taken(self, values: pa.Array | pa.ChunkedArray, type_: pa.DataType) -> None:
        """Remember ``values`` (cast to the column's type) as published outside the stream."""
        keys = row_keys(_series(values.cast(type_))).drop_nulls().sort()
        self.taken.add(keys.filter(~self.taken.contains(keys)))


class StreamValidator:
    """Validate a stream batch by batch with the results ``validate_batch`` gives the whole.

    Use as a context manager (it may spool the valid rows for SQL rules to a temporary folder):
    :meth:`check` each batch in order, then :meth:`finish` once for the verdicts.
    """

    def __init__(
        self,
        contract: TableContract,
        schema: pa.Schema,
        *,
        taken: Mapping[str, pa.Array] | None = None,
        spool_dir: Path | None = None,
    ) -> None:
        """Prepare to check batches of ``schema`` against ``contract``.

        Args:
            contract: The rules.
            schema: The schema of every batch.
            taken: Per ``unique`` column, values already published outside the stream: a row
                repeating one breaks the rule too (as ``validate_batch``'s ``taken``).
            spool_dir: Where to spool the valid rows when the contract has SQL rules (a new
                temporary folder inside it; default: the system's temporary folder).
        """
        if _ROW in schema.names:
            raise ValueError(f"a batch column is called {_ROW!r}, a name the validator uses")
        self.contract = contract
        self.schema = schema
        self._batch_contract = _per_batch_contract(contract)
        self._groups = _key_groups(contract)
        self._types = contract_arrow_schema(contract)
        self._add_taken(taken or {})
        self._casts = {g.column: _cast_contract(contract, g.column) for g in self._groups.values()}
        self._sql = any(isinstance(rule, SqlCheck) for rule in contract.table_rules)
        self._spool_root = spool_dir
        self._spool: Path | None = None
        self._writer: pa.ipc.RecordBatchFileWriter | None = None
        self._rows_in = 0
        self._rows_valid = 0
        self._rows_rejected = 0
        self._breakers: Counter[str] = Counter()
        self._hits: Counter[str] = Counter()
        self._samples: list[pa.Table] = []
        self._sampled = 0
        self._batches = 0
        self._finished = False
        probe = validate_batch(_indexed(schema.empty_table()), self._batch_contract)
        self.blocked_by_schema: ValidationResult | None = (
            probe.result if _schema_failed(probe.result) else None
        )
        """The schema verdict when the batches cannot be validated at all (nothing may be
        committed); its ``rows_in`` counts the rows checked so far."""

    # -- the stream ------------------------------------------------------------------------------

    @property
    def batches(self) -> int:
        """Batches checked so far."""
        return self._batches

    @property
    def rows_in(self) -> int:
        """Rows checked so far."""
        return self._rows_in

    @property
    def keys_nbytes(self) -> int:
        """Memory held by the keys of every unique column so far."""
        return sum(g.seen.nbytes + g.taken.nbytes for g in self._groups.values())

    def check(
        self, batch: pa.RecordBatch | pa.Table, *, taken: Mapping[str, pa.Array] | None = None
    ) -> StreamedBatch:
        """Split the next batch into valid and rejected rows (in stream order).

        ``taken`` adds, per ``unique`` column, values published outside the stream (e.g. the
        ones of this batch that other days of the table hold), as in ``__init__``.
        """
        if self._finished:
            raise RuntimeError("the stream is finished")
        self._add_taken(taken or {})
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        self._batches += 1
        self._rows_in += table.num_rows
        if self.blocked_by_schema is not None:
            return self._nothing()
        indexed = _indexed(table)
        checked = validate_batch(indexed, self._batch_contract)
        if _schema_failed(checked.result):  # not after the empty probe passed; never publish
            self.blocked_by_schema = checked.result
            return self._nothing()
        for rule in checked.result.rules:
            if rule.kind == "metric":  # a count: the batch contract compares counts
                self._hits[rule.rule_id] += int(rule.observed or 0)
        valid, rejected = self._repeats_of_earlier_batches(indexed, checked)
        rejected = rejected.sort_by(_ROW).drop_columns([_ROW])
        self._count(valid, rejected)
        return StreamedBatch(valid=valid, rejected=rejected)

    def finish(self) -> ValidationResult:
        """The verdict of every rule over the whole stream (call once, after the last batch)."""
        self._finished = True
        if self.blocked_by_schema is not None:
            return self.blocked_by_schema.model_copy(update={"rows_in": self._rows_in})
        valid: pa.Table | pads.Dataset
        if self._sql:
            valid = pads.dataset(self._close_spool(), format="ipc")
        else:  # only its row count is read: a column of nulls holds no buffers
            valid = pa.table({"rows": pa.nulls(self._rows_valid)})
        head = self._sample_head()
        result = verdicts(self.contract, self._rows_in, valid, head, self._breakers, self._hits)
        # The head holds the first rejected rows only; the threshold needs all of them counted.
        everything = pa.table({"rows": pa.nulls(self._rows_rejected)})
        nothing = pa.table({"rows": pa.nulls(0)})
        bare = self.contract.model_copy(update={"rules": ()})
        threshold = next(
            r
            for r in verdicts(bare, self._rows_in, nothing, everything, {}, {}).rules
            if r.rule_id == THRESHOLD_RULE
        )
        rules = tuple(threshold if r.rule_id == THRESHOLD_RULE else r for r in result.rules)
        return result.model_copy(update={"rows_rejected": self._rows_rejected, "rules": rules})

    def close(self) -> None:
        """Delete the spooled rows (if any)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)
            self._spool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- uniqueness across batches -----------------------------------------------------------

    def _repeats_of_earlier_batches(
        self, indexed: pa.Table, checked: CheckedBatch
    ) -> tuple[pa.Table, pa.Table]:
        """Mark the rows whose unique value an earlier batch (or ``taken``) already holds."""
        valid, rejected = checked.valid, checked.rejected
        if not self._groups:
            return valid, rejected
        rejected_pos = pl.Series(_POS, rejected.column(_ROW), dtype=pl.Int64)
        is_rejected = pl.repeat(False, indexed.num_rows, eager=True).scatter(rejected_pos, True)
        valid_pos = is_rejected.not_().arg_true().cast(pl.Int64).alias(_POS)
        positions = pl.concat([valid_pos, rejected_pos])
        repeats: list[pl.DataFrame] = []
        for group in self._groups.values():
            typed = pl.concat(
                [
                    _series(valid.column(group.column)),
                    _series(self._typed_rejected(rejected, group.column)),
                ]
            )
            keys = row_keys(typed)  # aligned with positions
            ordered = keys.drop_nulls().sort()  # sorted probes: cache-friendly searches
            seen = group.seen.contains(ordered)
            if group.metrics:  # the first row of each repeated key, in this batch
                repeated = ordered.filter(seen).n_unique()
                for metric in group.metrics:
                    self._hits[metric] += repeated
            if group.unique_rules:
                taken = group.taken.contains(ordered) if len(group.taken) else seen & False
                known = ordered.filter(seen | taken)
                if not known.is_empty():  # rare: only then are positions looked up
                    hits = positions.filter(keys.is_in(known.implode())).to_frame(_POS)
                    repeats += [
                        hits.with_columns(pl.lit(r).alias(_RULE)) for r in group.unique_rules
                    ]
            group.seen.add(ordered.filter(~seen))
        found = pl.concat(repeats) if repeats else pl.DataFrame()
        if found.is_empty():
            return valid, rejected
        return self._move_repeats(indexed, valid, valid_pos, rejected, rejected_pos, found)

    def _move_repeats(
        self,
        indexed: pa.Table,
        valid: pa.Table,
        valid_pos: pl.Series,
        rejected: pa.Table,
        rejected_pos: pl.Series,
        found: pl.DataFrame,
    ) -> tuple[pa.Table, pa.Table]:
        """Add the repeats' unique rules to their lists; valid rows among them become rejected."""
        order = {rule.id: n for n, rule in enumerate(self.contract.row_rules)}
        was_rejected = found.get_column(_POS).is_in(rejected_pos.implode())
        already = (
            pl.DataFrame(
                {
                    _POS: rejected_pos,
                    _RULE: pl.Series(rejected.column(VIOLATIONS_COLUMN)),
                }
            )
            .filter(pl.col(_POS).is_in(found.get_column(_POS).implode()))
            .explode(_RULE)
            .drop_nulls(_RULE)
        )
        lists = (
            pl.concat([already, found.select(_POS, _RULE)])
            .unique()
            .with_columns(pl.col(_RULE).replace_strict(order, return_dtype=pl.Int64).alias(_ORDER))
            .sort(_POS, _ORDER)
            .group_by(_POS, maintain_order=True)
            .agg(pl.col(_RULE))
        )
        # Rejected rows: their list, with the unique rules they now break.
        updated = (
            pl.DataFrame({_POS: rejected_pos})
            .join(lists, on=_POS, how="left", maintain_order="left")
            .get_column(_RULE)
        )
        old = rejected.column(VIOLATIONS_COLUMN)
        new = pc.if_else(
            pc.is_null(_arrow(updated)), old.combine_chunks(), _arrow(updated).cast(VIOLATIONS_TYPE)
        )
        rejected = rejected.set_column(
            rejected.schema.get_field_index(VIOLATIONS_COLUMN), VIOLATIONS_COLUMN, new
        )
        # Valid rows repeating an earlier batch's key: rejected now, with their original values.
        moved = found.filter(~was_rejected).get_column(_POS).unique().sort()
        if moved.is_empty():
            return valid, rejected
        moved_lists = (
            pl.DataFrame({_POS: moved}).join(lists, on=_POS, how="left", maintain_order="left")
        ).get_column(_RULE)
        newly = indexed.take(_arrow(moved)).append_column(
            VIOLATIONS_COLUMN, _arrow(moved_lists).cast(VIOLATIONS_TYPE)
        )
        keep = valid_pos.is_in(moved.implode()).not_()
        valid = valid.filter(_arrow(keep))
        return valid, pa.concat_tables([rejected, newly.select(rejected.column_names)])

    def _add_taken(self, taken: Mapping[str, pa.Array]) -> None:
        for column, values in taken.items():
            group = self._groups.get(column)
            if group is not None and group.unique_rules:
                group.add_taken(values, self._types.field(column).type)

    def _typed_rejected(self, rejected: pa.Table, column: str) -> pa.ChunkedArray:
        """The rejected rows' values of ``column`` cast to the contract type, as the engine casts
        them (null where a value does not cast): ``validate_batch`` over that column alone."""
        cast = self._casts[column]
        target = contract_arrow_schema(cast).field(0).type
        if rejected.num_rows == 0:
            return pa.chunked_array([], target)
        return validate_batch(rejected.select([column]), cast).valid.column(0)

    # -- counting and spooling -----------------------------------------------------------------

    def _count(self, valid: pa.Table, rejected: pa.Table) -> None:
        self._rows_valid += valid.num_rows
        self._rows_rejected += rejected.num_rows
        if rejected.num_rows:
            flat = pc.list_flatten(rejected.column(VIOLATIONS_COLUMN))
            for item in pc.value_counts(flat).to_pylist():
                self._breakers[item["values"]] += item["counts"]
            if self._sampled < SAMPLE_ROWS:
                head = rejected.slice(0, SAMPLE_ROWS - self._sampled)
                self._samples.append(head.select(self._sample_columns(rejected)))
                self._sampled += head.num_rows
        if self._sql:
            self._spool_valid(valid)

    def _sample_columns(self, rejected: pa.Table) -> list[str]:
        keys = [c.name for c in self.contract.columns if c.primary_key]
        if not keys and "_line_number" in rejected.column_names:
            keys = ["_line_number"]
        return [*keys[:1], VIOLATIONS_COLUMN]

    def _sample_head(self) -> pa.Table:
        if self._samples:
            return pa.concat_tables(self._samples)
        empty = self.schema.empty_table()
        empty = empty.append_column(VIOLATIONS_COLUMN, pa.array([], VIOLATIONS_TYPE))
        return empty.select(self._sample_columns(empty))

    def _spool_valid(self, valid: pa.Table) -> None:
        if self._writer is None:
            self._spool = Path(tempfile.mkdtemp(prefix="mesh-stream-", dir=self._spool_root))
            self._writer = pa.ipc.new_file(
                str(self._spool / _VALID_SPOOL),
                contract_arrow_schema(self.contract),
                options=_SPOOL_OPTIONS,
            )
        self._writer.write_table(valid)

    def _close_spool(self) -> Path:
        if self._writer is None:
            self._spool_valid(contract_arrow_schema(self.contract).empty_table())
        assert self._writer is not None and self._spool is not None
        self._writer.close()
        self._writer = None
        return self._spool / _VALID_SPOOL

    def _nothing(self) -> StreamedBatch:
        rejected = self.schema.empty_table().append_column(
            VIOLATIONS_COLUMN, pa.array([], VIOLATIONS_TYPE)
        )
        return StreamedBatch(contract_arrow_schema(self.contract).empty_table(), rejected)


def validate_stream(
    batches: Iterable[pa.RecordBatch | pa.Table],
    contract: TableContract,
    schema: pa.Schema,
    *,
    taken: Mapping[str, pa.Array] | None = None,
) -> CheckedBatch:
    """Validate ``batches`` with :class:`StreamValidator` and gather every row (for small
    streams and tests: it holds the whole result, like ``validate_batch``)."""
    valid: list[pa.Table] = []
    rejected: list[pa.Table] = []
    with StreamValidator(contract, schema, taken=taken) as validator:
        for batch in batches:
            part = validator.check(batch)
            valid.append(part.valid)
            rejected.append(part.rejected)
        result = validator.finish()
        empty = validator._nothing()
    return CheckedBatch(
        valid=pa.concat_tables([empty.valid, *valid]),
        rejected=pa.concat_tables([empty.rejected, *rejected]),
        result=result,
    )


def rebatch(
    batches: Iterable[pa.RecordBatch], rows: int = DEFAULT_BATCH_ROWS
) -> Iterator[pa.Table]:
    """``batches`` regrouped into tables of ``rows`` rows (the last one shorter): small batches
    are gathered (the engine's per-batch cost is paid once per table), large ones are sliced."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        while batch.num_rows:
            take = min(rows - held, batch.num_rows)
            pending.append(batch.slice(0, take))
            held += take
            batch = batch.slice(take)
            if held == rows:
                yield pa.Table.from_batches(pending)
                pending, held = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


# -- helpers -------------------------------------------------------------------------------------


def _per_batch_contract(contract: TableContract) -> TableContract:
    """The rules judged per batch: row rules and metric counts (as counts, not shares); the
    table-level verdicts, the quarantine threshold's included, wait for the end."""
    rules = [
        rule.model_copy(update={"percent": False}) if isinstance(rule, MetricThreshold) else rule
        for rule in contract.rules
        if not isinstance(rule, SqlCheck) and rule.kind != "row_count"
    ]
    return contract.model_copy(update={"rules": tuple(rules), "quarantine_threshold": 1.0})


def _schema_failed(result: ValidationResult) -> bool:
    return any(r.rule_id == SCHEMA_RULE and not r.passed for r in result.rules)


def _key_groups(contract: TableContract) -> dict[str, _KeyGroup]:
    """One key set per column with a unique rule or a duplicate metric."""
    groups: dict[str, _KeyGroup] = {}
    for rule in contract.row_rules:
        if isinstance(rule, Unique):
            groups.setdefault(rule.column, _KeyGroup(rule.column)).unique_rules.append(rule.id)
    for metric in contract.table_rules:
        if isinstance(metric, MetricThreshold) and metric.metric == "duplicateValues":
            groups.setdefault(metric.column, _KeyGroup(metric.column)).metrics.append(metric.id)
    return groups


def _cast_contract(contract: TableContract, column: str) -> TableContract:
    """A contract of ``column`` alone, optional and without rules: ``validate_batch`` with it is
    the engine's cast of that column."""
    spec = contract.column(column)
    assert spec is not None
    only = spec.model_copy(update={"required": False, "unique": False, "primary_key": False})
    return contract.model_copy(update={"columns": (only,), "rules": ()})


def _indexed(table: pa.Table) -> pa.Table:
    positions = pl.int_range(table.num_rows, dtype=pl.Int64, eager=True).to_arrow()
    return table.append_column(_ROW, positions)


def _series(values: pa.ChunkedArray | pa.Array) -> pl.Series:
    series = pl.from_arrow(values)
    assert isinstance(series, pl.Series)
    return series


def _arrow(series: pl.Series) -> pa.Array:
    return series.to_arrow(compat_level=pl.CompatLevel.oldest())
