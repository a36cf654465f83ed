"""Write-audit-publish of a batch held in memory, validated in one pass.

The batch is validated against its contract (``quality.engine.validate_batch``); if a schema
mismatch, a failing blocking table-level rule or a rejected share above the contract's threshold
blocks it, nothing is committed. Otherwise the rejected rows are committed to the quarantine,
then the valid rows, cast to the contract's types, to the table, in one commit each (see
:mod:`~platform_lib.lake.publish`).
"""

import pyarrow as pa

from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.lake.committer import WriteMode
from platform_lib.lake.partitions import PartitionWrite
from platform_lib.lake.publish.outcome import PublishOutcome, WritePath
from platform_lib.lake.publish.plan import plan_publish
from platform_lib.quality.engine import validate_batch
from platform_lib.settings import MeshSettings


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

    Returns:
        The verdicts and the commits made (none when blocked), with ``path=WHOLE_TABLE``.

    Example:
        >>> publish(key, rows, contract=contract, mode=WriteMode.OVERWRITE,
        ...         settings=resolve_settings(), run_id="run-1")
    """
    plan = plan_publish(
        key,
        contract=contract,
        mode=mode,
        settings=settings,
        run_id=run_id,
        partition_by=partition_by,
        partition=partition,
    )
    reconciled = plan.reconcile()
    checked = validate_batch(batch, plan.contract, taken=plan.published_elsewhere(batch))
    if checked.result.blocked:
        return plan.outcome(checked.result, path=WritePath.WHOLE_TABLE, reconciled_rows=reconciled)
    quarantined = plan.keep_rejected(plan.quarantine_rows(checked.rejected))
    published = plan.table.write_table(
        checked.valid,
        mode=plan.mode,
        partition_by=plan.partition_by,
        commit_metadata=plan.tag,
        predicate=plan.predicate,
    )
    return plan.outcome(
        checked.result,
        path=WritePath.WHOLE_TABLE,
        reconciled_rows=reconciled,
        published=published,
        quarantined=quarantined,
    )
