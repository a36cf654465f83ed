"""The quarantine: the rows a publish rejected, kept with why and by which run.

A table's quarantine is the table ``<table>__quarantine``, of one shape on every layer:

- the contract's columns, each as the text of the value that arrived (see
  :mod:`.quarantine_text`: decimals with their scale, timestamps in ISO-8601 with their zone,
  nested values as JSON), whether the rows came from landing files as text or from a product
  function as typed values; a value that did not cast is kept exactly as it came;
- then the envelope: the lineage columns (named ``_...``, such as ``_source_file``) in their own
  types, ``violated_rules``, ``run_id``, ``row_hash`` (a digest of the original values) and, for a
  daily-partitioned table (see :mod:`~platform_lib.lake.partitions`), the ``partition_key`` of the
  day written.

- A row already in the quarantine is not added again, so re-running an append or
  partition-replace publish over the same input duplicates nothing. An overwrite publish
  overwrites the quarantine; publishing one day of a daily-partitioned table replaces that day's
  quarantine rows.
- Delta has no multi-table transaction, so the quarantine is committed first and both commits
  carry the run id. A crash between the two leaves quarantine rows of a run that published
  nothing; the next publish of the table removes them before writing (:func:`reconcile`: nothing
  missing, nothing twice). An overwritten table overwrites its quarantine too, so repeating a run
  duplicates nothing.
- A quarantine written by an earlier version keeps the contract's columns in the types they
  arrived in. The first publish that adds to it converts it to text, in one commit of its own
  (metadata ``mesh.quarantine: as-text``), before adding its rows: every row keeps its values
  (as text) and its row hash, so a row already kept is still not added again.
"""

import hashlib

import pyarrow as pa
from deltalake import DeltaTable

from platform_lib.conventions import TableKey
from platform_lib.lake.committer import Committer, WriteMode, WriteResult
from platform_lib.lake.partitions import PARTITION_KEY_COLUMN, PartitionWrite
from platform_lib.lake.publish.quarantine_text import TEXT_TYPE, as_text, is_text
from platform_lib.lake.publish.run_ids import RUN_ID_METADATA, is_run_id
from platform_lib.lake.reader import open_dataset, read_arrow, table_exists
from platform_lib.quality.engine import LINEAGE_PREFIX
from platform_lib.quality.violations import VIOLATIONS_COLUMN, VIOLATIONS_TYPE
from platform_lib.settings import MeshSettings

RUN_ID_COLUMN = "run_id"
ROW_HASH_COLUMN = "row_hash"
ENVELOPE_COLUMNS = (VIOLATIONS_COLUMN, RUN_ID_COLUMN, ROW_HASH_COLUMN, PARTITION_KEY_COLUMN)
"""The columns the quarantine adds to a rejected row (besides its lineage columns)."""
CONVERSION_METADATA = {"mesh.quarantine": "as-text"}
"""The commit metadata of the commit converting an earlier version's typed quarantine to text."""


def is_value_column(name: str) -> bool:
    """Whether the quarantine column ``name`` holds a row's value of a contract column (kept as
    text), rather than its lineage or the quarantine's envelope."""
    return not name.startswith(LINEAGE_PREFIX) and name not in ENVELOPE_COLUMNS


def quarantine_schema(schema: pa.Schema, partition: PartitionWrite | None) -> pa.Schema:
    """The quarantine's columns for batches of ``schema``: theirs (a contract column as text,
    a lineage column as it is), ``violated_rules``, ``run_id``, ``row_hash`` (and
    ``partition_key`` for a day of a partitioned table)."""
    fields = [
        *(
            pa.field(field.name, TEXT_TYPE) if is_value_column(field.name) else field
            for field in schema
        ),
        pa.field(VIOLATIONS_COLUMN, VIOLATIONS_TYPE),
        pa.field(RUN_ID_COLUMN, pa.string()),
        pa.field(ROW_HASH_COLUMN, pa.string()),
    ]
    if partition is not None:
        fields.append(pa.field(PARTITION_KEY_COLUMN, pa.string()))
    return pa.schema(fields)


def quarantine_rows(rejected: pa.Table, run_id: str, partition: PartitionWrite | None) -> pa.Table:
    """Rejected rows as the quarantine keeps them: the contract's columns as text, then the run
    id, their row hash (of the values as they arrived) and, for a daily-partitioned table, the day
    they were written for."""
    rows = rejected.num_rows
    out = values_as_text(rejected)
    out = out.append_column(RUN_ID_COLUMN, pa.array([run_id] * rows, pa.string()))
    out = out.append_column(ROW_HASH_COLUMN, row_hashes(rejected))
    if partition is not None:
        out = out.append_column(PARTITION_KEY_COLUMN, pa.array([partition.key] * rows, pa.string()))
    return out


def values_as_text(rows: pa.Table) -> pa.Table:
    """``rows`` with each contract column as nullable text (:func:`.quarantine_text.as_text`);
    lineage and envelope columns unchanged."""
    for index, field in enumerate(rows.schema):
        text = pa.field(field.name, TEXT_TYPE)
        if is_value_column(field.name) and not field.equals(text):
            rows = rows.set_column(index, text, as_text(rows[index]))
    return rows


def row_hashes(rows: pa.Table) -> pa.Array:
    """A digest per row of its values as they arrived, before they are kept as text (the rule
    ids they broke excluded): the same as earlier versions gave, so a row they quarantined is
    recognised."""
    values = rows.drop_columns([c for c in (VIOLATIONS_COLUMN,) if c in rows.column_names])
    return pa.array(
        [
            hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()
            for row in values.to_pylist()
        ],
        pa.string(),
    )


def keep_rejected(
    quarantine: Committer,
    rejected: pa.Table,
    *,
    mode: WriteMode,
    partition: PartitionWrite | None,
    tag: dict[str, str],
) -> WriteResult | None:
    """Commit the quarantine rows of one publish (from :func:`quarantine_rows`): the day's rows
    replaced for a partition, else as ``mode`` says (see :func:`_quarantine`).

    A quarantine an earlier version wrote with typed columns is first converted to text (see
    :func:`convert_to_text`), unless ``mode`` overwrites it.

    Args:
        quarantine: The committer of the table's quarantine.
        rejected: The quarantine rows.
        mode: The publish's write mode.
        partition: The day written, for a daily-partitioned table.
        tag: The run's commit metadata (see :func:`~platform_lib.lake.publish.run_ids.run_tag`).

    Returns:
        The quarantine commit, or None when none was needed.
    """
    if mode is not WriteMode.OVERWRITE:
        convert_to_text(quarantine, tag)
    if partition is not None:
        return _quarantine_day(quarantine, rejected, partition, tag)
    return _quarantine(quarantine, rejected, mode, tag)


def _quarantine(
    quarantine: Committer, rejected: pa.Table, mode: WriteMode, tag: dict[str, str]
) -> WriteResult | None:
    """Keep the rejected rows: overwrite with the table, else add the ones not already kept.

    Once the quarantine exists, every publish commits to it (an empty commit when nothing was
    rejected), so its last commit always names the last run that published: without that, a run
    with no rejected rows made :func:`reconcile` delete the rows of the run before it.
    """
    if mode is WriteMode.OVERWRITE:
        return quarantine.write_table(rejected, mode=WriteMode.OVERWRITE, commit_metadata=tag)
    if rejected.num_rows == 0:
        if not table_exists(quarantine.uri):
            return None
        # still a commit of the run: reconcile reads the last one's run id
        return quarantine.write_table(rejected, mode=WriteMode.APPEND, commit_metadata=tag)
    # by row hash, also for the first rows: runs creating the quarantine at the same time with
    # the same rejected rows (appends of the same inputs) must not each add them
    return quarantine.insert_new_rows(rejected, key_columns=(ROW_HASH_COLUMN,), commit_metadata=tag)


def _quarantine_day(
    quarantine: Committer, rejected: pa.Table, partition: PartitionWrite, tag: dict[str, str]
) -> WriteResult | None:
    """Replace the day's quarantine rows with ``rejected``, in one commit."""
    if not table_exists(quarantine.uri):
        if rejected.num_rows == 0:
            return None
        return quarantine.write_table(rejected, mode=WriteMode.APPEND, commit_metadata=tag)
    return quarantine.write_table(
        rejected,
        mode=WriteMode.REPLACE_PARTITIONS,
        commit_metadata=tag,
        predicate=f"{PARTITION_KEY_COLUMN} = '{partition.key}'",
    )


def convert_to_text(quarantine: Committer, tag: dict[str, str]) -> WriteResult | None:
    """Convert a quarantine an earlier version wrote with typed (or non-nullable) contract
    columns to nullable text, in one commit (tagged with ``tag`` and :data:`CONVERSION_METADATA`);
    return it, or None when the quarantine is missing or already text.

    Every row keeps its values (as :func:`values_as_text` writes them), its lineage, its envelope
    and its row hash; the table keeps its partition columns. The whole quarantine is read once.
    """
    if not table_exists(quarantine.uri):
        return None
    schema = open_dataset(quarantine.uri).schema
    if all(is_text(f.type) and f.nullable for f in schema if is_value_column(f.name)):
        return None
    rows = values_as_text(read_arrow(quarantine.uri))
    return quarantine.write_table(
        rows,
        mode=WriteMode.OVERWRITE,
        partition_by=DeltaTable(quarantine.uri).metadata().partition_columns,
        commit_metadata={**tag, **CONVERSION_METADATA},
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
    last_run = _last_run_id(DeltaTable(quarantine_uri))
    if last_run is None or not is_run_id(last_run):
        return 0
    table_uri = key.uri(settings)
    if table_exists(table_uri) and _last_run_id(DeltaTable(table_uri)) == last_run:
        return 0
    predicate = f"{RUN_ID_COLUMN} = '{last_run}'"
    if partition is not None:
        predicate += f" AND {PARTITION_KEY_COLUMN} = '{partition.key}'"
    return Committer.for_table(key.quarantine, settings).delete_rows(predicate)


def _last_run_id(table: DeltaTable) -> str | None:
    history = table.history(1)
    if not history:
        return None
    value = history[0].get(RUN_ID_METADATA)
    return str(value) if value is not None else None
