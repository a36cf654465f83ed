"""The set-up both modes of write-audit-publish share, decided once before any row is read.

:func:`plan_publish` turns a :class:`~platform_lib.lake.publish.request.PublishRequest` into a
:class:`PublishPlan`: it checks the run id, makes the committers of the table and its quarantine
(which refuses a table outside the running domain's prefix) and, for one day of a
daily-partitioned table (see :mod:`~platform_lib.lake.partitions`), adds the rule keeping the
batch inside the day to the contract and sets the mode, the partition columns and the predicate
of the day. The :class:`PublishPlan` it returns then does, for either mode, the steps that do not
depend on how the rows arrive: removing an interrupted run's quarantine rows, the values a batch
shares with the other days of the table (unique columns stay unique across days), the quarantine
rows and their commit, and the outcome.
"""

from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.rules import Unique
from platform_lib.errors import MeshError
from platform_lib.lake.committer import Committer, WriteConflict, WriteMode, WriteResult
from platform_lib.lake.key_lookup import values_already_held
from platform_lib.lake.partitions import PartitionWrite
from platform_lib.lake.publish.append_inputs import AlreadyAppended, AppendGuard
from platform_lib.lake.publish.outcome import PublishOutcome, WritePath
from platform_lib.lake.publish.quarantine import keep_rejected, quarantine_rows, reconcile
from platform_lib.lake.publish.request import PublishRequest
from platform_lib.lake.publish.run_ids import check_run_id, run_tag
from platform_lib.lake.reader import open_dataset, table_exists, table_state
from platform_lib.quality.contract_schema import contract_arrow_schema
from platform_lib.quality.results import ValidationResult


@dataclass(frozen=True)
class PublishPlan:
    """What one write-audit-publish of a table writes, and how (see the module docstring)."""

    request: PublishRequest
    contract: TableContract
    """The table's contract, with the partition's day rule for one day of a partitioned table."""
    mode: WriteMode
    partition_by: tuple[str, ...]
    predicate: str | None
    """With ``REPLACE_PARTITIONS``: the rows replaced (None: the dates of the batch)."""
    table: Committer
    quarantine: Committer

    @property
    def partition(self) -> PartitionWrite | None:
        """The day of a daily-partitioned table written, if any."""
        return self.request.partition

    @property
    def tag(self) -> dict[str, str]:
        """The commit metadata of both commits: the run id."""
        return run_tag(self.request.run_id)

    def append_guard(self) -> AppendGuard | None:
        """For an append of known inputs (no partition): whether they were appended already
        (see :mod:`~platform_lib.lake.publish.append_inputs`); None for any other publish."""
        inputs = self.request.inputs
        if inputs is None or not inputs.versions or self.mode is not WriteMode.APPEND:
            return None
        if self.partition is not None:
            return None
        return AppendGuard.check(self.table.uri, inputs)

    def write_valid(
        self, rows: pa.Table | pa.RecordBatchReader, guard: AppendGuard | None
    ) -> WriteResult | AlreadyAppended:
        """Commit the valid ``rows`` to the table, tagged with the run (and, for a guarded
        append, its inputs, on the version the guard checked).

        Returns:
            The commit, or, when a concurrent run appended the same inputs first, the version
            it committed (nothing was committed here).

        Raises:
            WriteConflict: Another writer won, and not with the same inputs.
        """
        metadata = {**self.tag, **(guard.inputs.commit_metadata() if guard else {})}
        try:
            return self.table.write_table(
                rows,
                mode=self.mode,
                partition_by=self.partition_by,
                commit_metadata=metadata,
                predicate=self.predicate,
                transaction=guard.transaction if guard else None,
            )
        except WriteConflict:
            earlier = guard.appended_since(self.table.uri) if guard else None
            if earlier is None:
                raise
            self._hand_quarantine_to(earlier)
            return earlier

    def _hand_quarantine_to(self, winner: AlreadyAppended) -> None:
        """After losing the append to ``winner``: an empty quarantine commit tagged with its run,
        so the quarantine rows this run added (the same as the winner's) are not taken for an
        interrupted run's (see :mod:`~platform_lib.lake.publish.append_inputs`)."""
        if winner.run_id is None or not table_exists(self.quarantine.uri):
            return
        empty = open_dataset(self.quarantine.uri).schema.empty_table()
        self.quarantine.write_table(
            empty, mode=WriteMode.APPEND, commit_metadata=run_tag(winner.run_id)
        )

    def reconcile(self) -> int:
        """Remove the quarantine rows of an interrupted run (only the day's for a partition);
        return how many."""
        return reconcile(self.request.key, self.request.settings, self.partition)

    def published_elsewhere(self, batch: pa.Table) -> dict[str, pa.Array]:
        """Per unique column, the values of ``batch`` the table already publishes on other days
        (only for one day of a partitioned table; read through file statistics: see
        :mod:`~platform_lib.lake.key_lookup`)."""
        partition = self.partition
        if partition is None:
            return {}
        columns = sorted(
            {rule.column for rule in self.contract.row_rules if isinstance(rule, Unique)}
        )
        if not columns or not table_exists(self.table.uri):
            return {}
        schema = contract_arrow_schema(self.contract)
        taken: dict[str, pa.Array] = {}
        for column in columns:
            if column not in batch.column_names:
                continue
            values = _as_type(batch.column(column).combine_chunks(), schema.field(column).type)
            taken[column] = values_already_held(
                self.table.uri,
                column,
                values,
                rows=partition.other_days,
                skip_partition=partition.own_files,
            )
        return taken

    def quarantine_rows(self, rejected: pa.Table) -> pa.Table:
        """``rejected`` as the quarantine keeps them (run id, row hash, day)."""
        return quarantine_rows(rejected, self.request.run_id, self.partition)

    def keep_rejected(self, rows: pa.Table) -> WriteResult | None:
        """Commit the quarantine rows ``rows`` (see :func:`quarantine.keep_rejected`)."""
        return keep_rejected(
            self.quarantine, rows, mode=self.mode, partition=self.partition, tag=self.tag
        )

    def outcome(
        self,
        validation: ValidationResult,
        *,
        path: WritePath,
        reconciled_rows: int,
        published: WriteResult | AlreadyAppended | None = None,
        quarantined: WriteResult | None = None,
        batches: int = 1,
    ) -> PublishOutcome:
        """The outcome of the publish, with the published table's row count."""
        state = table_state(self.table.uri) if published is not None else None
        return PublishOutcome(
            key=self.request.key,
            run_id=self.request.run_id,
            validation=validation,
            published=published if isinstance(published, WriteResult) else None,
            quarantined=quarantined,
            table_rows=state.rows if state else None,
            table_version=state.version if state else None,
            reconciled_rows=reconciled_rows,
            path=path,
            batches=batches,
            already_appended=published.version if isinstance(published, AlreadyAppended) else None,
        )


def plan_publish(request: PublishRequest, predicate: str | None = None) -> PublishPlan:
    """The plan of ``request`` (nothing is read or written yet).

    Args:
        request: What to publish.
        predicate: With ``REPLACE_PARTITIONS``, the rows replaced (a partition brings its own).

    Raises:
        ValueError: The run id is not letters, digits, '-' and '_'.
        MeshError: The table is outside the running domain's prefix, or both a partition and a
            predicate are given.
    """
    check_run_id(request.run_id)
    table = Committer.for_table(request.key, request.settings)
    quarantine = Committer.for_table(request.key.quarantine, request.settings)
    contract, mode, partition_by = request.contract, request.mode, request.partition_by
    partition = request.partition
    if partition is not None:
        if predicate is not None:
            raise MeshError(
                "publish_stream takes a partition or a predicate, not both",
                fix="pass partition= alone: it brings the day's predicate",
            )
        contract = contract.model_copy(update={"rules": (*contract.rules, partition.rule)})
        mode, partition_by = WriteMode.REPLACE_PARTITIONS, partition.physical_columns
        predicate = partition.predicate
    return PublishPlan(
        request=request, contract=contract, mode=mode, partition_by=partition_by,
        predicate=predicate, table=table, quarantine=quarantine,
    )  # fmt: skip


def _as_type(values: pa.Array, wanted: pa.DataType) -> pa.Array:
    """``values`` cast to ``wanted``; a value that does not cast becomes null (it is rejected by
    its type rule anyway)."""
    if values.type.equals(wanted):
        return values
    target = pl.from_arrow(pa.array([], wanted)).dtype  # type: ignore[union-attr]
    return pl.Series(values).cast(target, strict=False).to_arrow().cast(wanted)
