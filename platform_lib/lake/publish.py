"""Write-audit-publish: validate a batch against its contract, quarantine breakers, commit the rest.

Nothing that breaks a contract becomes visible, and no row is silently dropped:

- a schema mismatch, a failing blocking table-level rule, or a rejected share above the contract's
  threshold commits nothing (the table keeps its previous version);
- otherwise rows breaking a row-level rule go to the table ``<table>__quarantine`` with their
  original values (lineage columns such as ``_source_file`` included), ``violated_rules`` and
  ``run_id``; the valid rows, cast to the contract's types, are committed in one transaction.

A quarantined row carries ``row_hash``, a digest of its original values: a row already in the
quarantine is not added again, so re-running an append or partition-replace publish over the same
input duplicates nothing. An overwrite publish overwrites the quarantine; publishing one day of a
daily-partitioned table (see :mod:`partitions`) replaces that day's quarantine rows.

Delta has no multi-table transaction, so the quarantine is committed first and both commits carry
the run id. A crash between the two leaves quarantine rows of a run that published nothing; the
next publish of the table removes them before writing (nothing missing, nothing twice). An
overwritten table overwrites its quarantine too, so repeating a run duplicates nothing.
"""

import hashlib
import re

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable
from pydantic import BaseModel, ConfigDict

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.rules import Unique
from platform_lib.conventions import TableKey
from platform_lib.lake.key_lookup import values_already_held
from platform_lib.lake.partitions import PARTITION_KEY_COLUMN, PartitionWrite
from platform_lib.lake.reader import table_exists, table_state
from platform_lib.lake.write_scope import check_write_target
from platform_lib.lake.writer import WriteMode, WriteResult, insert_new_rows, write_table
from platform_lib.quality.contract_schema import contract_arrow_schema
from platform_lib.quality.engine import validate_batch
from platform_lib.quality.results import ValidationResult
from platform_lib.quality.violations import VIOLATIONS_COLUMN
from platform_lib.settings import MeshSettings

RUN_ID_COLUMN = "run_id"
ROW_HASH_COLUMN = "row_hash"
RUN_ID_METADATA = "mesh.run_id"
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]+$")


class PublishOutcome(BaseModel):
    """What a publish did: the verdicts, and the commits it made (none when blocked)."""

    model_config = ConfigDict(frozen=True)

    key: TableKey
    run_id: str
    validation: ValidationResult
    published: WriteResult | None
    quarantined: WriteResult | None
    table_rows: int | None
    """Rows in the published table after the commit (None when nothing was committed)."""
    reconciled_rows: int = 0
    """Quarantine rows of an earlier, interrupted run that were removed first."""

    @property
    def committed(self) -> bool:
        """Whether the valid rows were committed."""
        return self.published is not None


def publish(
    key: TableKey,
    batch: pa.Table,
    *,
    contract: TableContract,
    mode: WriteMode,
    settings: MeshSettings,
    run_id: str,
    partition_by: tuple[str, ...] = (),
    partition: PartitionWrite | None = None,
) -> PublishOutcome:
    """Validate ``batch`` against ``contract`` and write-audit-publish it to the table ``key``.

    With ``partition``, the batch is one day of a daily-partitioned table: it replaces that day
    only, a row of another day is quarantined, and unique columns stay unique across days.
    """
    check_run_id(run_id)
    check_write_target(key.uri(settings), settings, key=key)
    reconciled = reconcile(key, settings, partition)
    taken: dict[str, pa.Array] = {}
    if partition is not None:
        contract = contract.model_copy(update={"rules": (*contract.rules, partition.rule)})
        taken = _published_elsewhere(key.uri(settings), batch, contract, partition)
        mode, partition_by = WriteMode.REPLACE_PARTITIONS, partition.physical_columns
    checked = validate_batch(batch, contract, taken=taken)
    if checked.result.blocked:
        return PublishOutcome(
            key=key,
            run_id=run_id,
            validation=checked.result,
            published=None,
            quarantined=None,
            table_rows=None,
            reconciled_rows=reconciled,
        )
    tag = {RUN_ID_METADATA: run_id}
    rejected = quarantine_rows(checked.rejected, run_id, partition)
    quarantined = keep_rejected(key, rejected, mode, partition, settings, tag)
    published = write_table(
        key.uri(settings),
        checked.valid,
        mode=mode,
        partition_by=partition_by,
        commit_metadata=tag,
        predicate=partition.predicate if partition is not None else None,
    )
    state = table_state(key.uri(settings))
    return PublishOutcome(
        key=key,
        run_id=run_id,
        validation=checked.result,
        published=published,
        quarantined=quarantined,
        table_rows=state.rows if state else None,
        reconciled_rows=reconciled,
    )


def check_run_id(run_id: str) -> None:
    """A run id is recorded in commits and matched in predicates: letters, digits, '-', '_'."""
    if not _RUN_ID.match(run_id):
        raise ValueError(f"run id {run_id!r} must be letters, digits, '-' and '_'")


def quarantine_rows(rejected: pa.Table, run_id: str, partition: PartitionWrite | None) -> pa.Table:
    """Rejected rows as the quarantine keeps them: with the run id, their row hash and, for a
    daily-partitioned table, the day they were written for."""
    rows = rejected.num_rows
    out = rejected.append_column(RUN_ID_COLUMN, pa.array([run_id] * rows, pa.string()))
    out = out.append_column(ROW_HASH_COLUMN, row_hashes(rejected))
    if partition is not None:
        out = out.append_column(PARTITION_KEY_COLUMN, pa.array([partition.key] * rows, pa.string()))
    return out


def keep_rejected(
    key: TableKey,
    rejected: pa.Table,
    mode: WriteMode,
    partition: PartitionWrite | None,
    settings: MeshSettings,
    tag: dict[str, str],
) -> WriteResult | None:
    """Commit the quarantine rows of one publish: the day's rows replaced for a partition, else
    as ``mode`` says (see :func:`_quarantine`)."""
    if partition is not None:
        return _quarantine_day(key, rejected, partition, settings, tag)
    return _quarantine(key, rejected, mode, settings, tag)


def row_hashes(rows: pa.Table) -> pa.Array:
    """A digest per row of its values (the rule ids they broke excluded)."""
    values = rows.drop_columns([c for c in (VIOLATIONS_COLUMN,) if c in rows.column_names])
    return pa.array(
        [
            hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()
            for row in values.to_pylist()
        ],
        pa.string(),
    )


def _quarantine(
    key: TableKey, rejected: pa.Table, mode: WriteMode, settings: MeshSettings, tag: dict[str, str]
) -> WriteResult | None:
    """Keep the rejected rows: overwrite with the table, else add the ones not already kept.

    Once the quarantine exists, every publish commits to it (an empty commit when nothing was
    rejected), so its last commit always names the last run that published: without that, a run
    with no rejected rows made :func:`reconcile` delete the rows of the run before it.
    """
    uri = key.quarantine.uri(settings)
    if mode is WriteMode.OVERWRITE:
        return write_table(uri, rejected, mode=WriteMode.OVERWRITE, commit_metadata=tag)
    if not table_exists(uri):
        if rejected.num_rows == 0:
            return None
        return write_table(uri, rejected, mode=WriteMode.APPEND, commit_metadata=tag)
    if rejected.num_rows == 0:  # still a commit of the run: reconcile reads the last one's run id
        return write_table(uri, rejected, mode=WriteMode.APPEND, commit_metadata=tag)
    return insert_new_rows(uri, rejected, key_columns=(ROW_HASH_COLUMN,), commit_metadata=tag)


def _published_elsewhere(
    uri: str, batch: pa.Table, contract: TableContract, partition: PartitionWrite
) -> dict[str, pa.Array]:
    """Per unique column, the batch's values the table already publishes on other days (read
    through file statistics: see :mod:`key_lookup`)."""
    columns = sorted({rule.column for rule in contract.row_rules if isinstance(rule, Unique)})
    if not columns or not table_exists(uri):
        return {}
    schema = contract_arrow_schema(contract)
    taken: dict[str, pa.Array] = {}
    for column in columns:
        if column not in batch.column_names:
            continue
        values = _as_type(batch.column(column).combine_chunks(), schema.field(column).type)
        taken[column] = values_already_held(
            uri, column, values, rows=partition.other_days, skip_partition=partition.own_files
        )
    return taken


def _as_type(values: pa.Array, wanted: pa.DataType) -> pa.Array:
    """``values`` cast to ``wanted``; a value that does not cast becomes null (it is rejected by
    its type rule anyway)."""
    if values.type.equals(wanted):
        return values
    target = pl.from_arrow(pa.array([], wanted)).dtype  # type: ignore[union-attr]
    return pl.Series(values).cast(target, strict=False).to_arrow().cast(wanted)


def _quarantine_day(
    key: TableKey,
    rejected: pa.Table,
    partition: PartitionWrite,
    settings: MeshSettings,
    tag: dict[str, str],
) -> WriteResult | None:
    """Replace the day's quarantine rows with ``rejected``, in one commit."""
    uri = key.quarantine.uri(settings)
    if not table_exists(uri):
        if rejected.num_rows == 0:
            return None
        return write_table(uri, rejected, mode=WriteMode.APPEND, commit_metadata=tag)
    return write_table(
        uri,
        rejected,
        mode=WriteMode.REPLACE_PARTITIONS,
        commit_metadata=tag,
        predicate=f"{PARTITION_KEY_COLUMN} = '{partition.key}'",
    )


def reconcile(
    key: TableKey, settings: MeshSettings, partition: PartitionWrite | None = None
) -> int:
    """Remove quarantine rows of a run whose publish never committed; return how many.

    With ``partition`` only that day's rows are candidates: runs writing other days of the table
    may be in flight at the same time, between their quarantine and their publish commits.
    """
    quarantine_uri = key.quarantine.uri(settings)
    if not table_exists(quarantine_uri):
        return 0
    quarantine = DeltaTable(quarantine_uri)
    last_run = _last_run_id(quarantine)
    if last_run is None or not _RUN_ID.match(last_run):
        return 0
    table_uri = key.uri(settings)
    if table_exists(table_uri) and _last_run_id(DeltaTable(table_uri)) == last_run:
        return 0
    predicate = f"{RUN_ID_COLUMN} = '{last_run}'"
    if partition is not None:
        predicate += f" AND {PARTITION_KEY_COLUMN} = '{partition.key}'"
    metrics = quarantine.delete(predicate)
    return int(metrics.get("num_deleted_rows", 0) or 0)


def _last_run_id(table: DeltaTable) -> str | None:
    history = table.history(1)
    if not history:
        return None
    value = history[0].get(RUN_ID_METADATA)
    return str(value) if value is not None else None
