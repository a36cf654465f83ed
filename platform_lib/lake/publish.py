"""Write-audit-publish: validate a batch, quarantine what breaks a rule, commit the rest.

Nothing that breaks a blocking rule becomes visible, and no row is silently dropped: a row breaking
a row-level rule goes to the table's quarantine (with every input column, including lineage columns
such as ``_source_file``, and the ids of the rules it broke); the valid rows are committed in one
Delta transaction. Columns whose names start with ``_`` are lineage: kept in quarantine, not
published.

Delta has no multi-table transaction, so the quarantine is committed first: a crash between the two
commits leaves the published table at its previous version, and the next run rewrites both.
"""

import datetime as dt
import uuid

import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from platform_lib.conventions import TableKey
from platform_lib.lake.reader import table_state
from platform_lib.lake.writer import WriteMode, WriteResult, write_table
from platform_lib.quality.engine import ValidationResult, validate_batch
from platform_lib.quality.rules import Rule
from platform_lib.settings import MeshSettings

LINEAGE_PREFIX = "_"


class PublishOutcome(BaseModel):
    """What a publish did: the verdicts, and the commits it made (none when blocked)."""

    model_config = ConfigDict(frozen=True)

    key: TableKey
    batch_id: str
    validation: ValidationResult
    published: WriteResult | None
    quarantined: WriteResult | None
    table_rows: int | None
    """Rows in the published table after the commit (None when nothing was committed)."""

    @property
    def committed(self) -> bool:
        """Whether the valid rows were committed."""
        return self.published is not None


def publish(
    key: TableKey,
    batch: pa.Table,
    *,
    rules: tuple[Rule, ...],
    mode: WriteMode,
    settings: MeshSettings,
    partition_by: tuple[str, ...] = (),
) -> PublishOutcome:
    """Validate ``batch`` against ``rules`` and write-audit-publish it to the table ``key``."""
    batch_id = uuid.uuid4().hex
    checked = validate_batch(batch, rules)
    if checked.result.blocked:
        return PublishOutcome(
            key=key,
            batch_id=batch_id,
            validation=checked.result,
            published=None,
            quarantined=None,
            table_rows=None,
        )
    quarantined = _write_quarantine(key, checked.rejected, batch_id, mode, settings, partition_by)
    published_columns = [c for c in batch.column_names if not c.startswith(LINEAGE_PREFIX)]
    published = write_table(
        key.uri(settings),
        checked.valid.select(published_columns),
        mode=mode,
        partition_by=partition_by,
    )
    state = table_state(key.uri(settings))
    return PublishOutcome(
        key=key,
        batch_id=batch_id,
        validation=checked.result,
        published=published,
        quarantined=quarantined,
        table_rows=state.rows if state else None,
    )


def _write_quarantine(
    key: TableKey,
    rejected: pa.Table,
    batch_id: str,
    mode: WriteMode,
    settings: MeshSettings,
    partition_by: tuple[str, ...],
) -> WriteResult | None:
    """Keep the rejected rows; an overwrite of the table also overwrites its quarantine."""
    if rejected.num_rows == 0 and mode is not WriteMode.OVERWRITE:
        return None
    now = dt.datetime.now(dt.UTC)
    stamped = rejected.append_column(
        "_quarantine_batch_id", pa.array([batch_id] * rejected.num_rows, pa.string())
    ).append_column(
        "_quarantined_at",
        pa.array([now] * rejected.num_rows, pa.timestamp("us", tz="UTC")),
    )
    return write_table(key.quarantine_uri(settings), stamped, mode=mode, partition_by=partition_by)
