"""What a write-audit-publish is asked to do, whichever mode runs it."""

from dataclasses import KW_ONLY, dataclass

from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.lake.committer import WriteMode
from platform_lib.lake.partitions import PartitionWrite
from platform_lib.lake.publish.append_inputs import InputVersions
from platform_lib.settings import MeshSettings


@dataclass(frozen=True)
class PublishRequest:
    """Publish rows to the table ``key`` by its ``contract``, for the run ``run_id``.

    Example:
        >>> PublishRequest(key, contract=contract, mode=WriteMode.OVERWRITE,
        ...                settings=resolve_settings(), run_id=context.run_id)
    """

    key: TableKey
    _: KW_ONLY
    contract: TableContract
    mode: WriteMode
    """How the table is written (a ``partition`` replaces its day whatever the mode)."""
    settings: MeshSettings
    """Where the lake is."""
    run_id: str
    """Tags both commits and the quarantined rows: letters, digits, '-' and '_'."""
    partition_by: tuple[str, ...] = ()
    """The table's Delta partition columns (a ``partition`` brings its own)."""
    partition: PartitionWrite | None = None
    """One day of a daily-partitioned table: it replaces that day only, a row of another day is
    quarantined, and unique columns stay unique across days."""
    inputs: InputVersions | None = None
    """The versions of the tables the rows were computed from: an append (without a partition)
    commits nothing when an append of the same inputs is still in effect (see
    :mod:`~platform_lib.lake.publish.append_inputs`)."""
