"""What a write-audit-publish did: one outcome model for both of its modes."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from platform_lib.conventions import TableKey
from platform_lib.lake.committer import WriteResult
from platform_lib.quality.results import ValidationResult


class WritePath(StrEnum):
    """Which mode of write-audit-publish ran."""

    WHOLE_TABLE = "whole_table"
    """``publish``: the rows validated in one pass, in memory."""
    STREAM = "stream"
    """``publish_stream``: batch by batch, written as they are validated."""


class PublishOutcome(BaseModel):
    """What a publish did: the verdicts, and the commits it made (none when blocked)."""

    model_config = ConfigDict(frozen=True)

    key: TableKey
    run_id: str
    validation: ValidationResult
    published: WriteResult | None
    quarantined: WriteResult | None
    table_rows: int | None
    """Rows in the published table after the commit (None when nothing was committed; for an
    append of inputs already appended, its rows as they are)."""
    table_version: int | None = None
    """The table's version after the commit (None when nothing was committed; for an append of
    inputs already appended, its version as it is)."""
    reconciled_rows: int = 0
    """Quarantine rows of an earlier, interrupted run that were removed first."""
    path: WritePath
    batches: int = 1
    """Batches validated (1 for the whole-table path)."""
    already_appended: int | None = None
    """For an append: the table version that already appended the same inputs, when this
    publish therefore committed nothing (its rows were validated all the same, for the
    verdicts)."""

    @property
    def committed(self) -> bool:
        """Whether the valid rows were committed."""
        return self.published is not None

    @property
    def done(self) -> bool:
        """Whether the table holds the rows: committed now, or appended before from the same
        inputs."""
        return self.committed or self.already_appended is not None
