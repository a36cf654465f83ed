"""Write-audit-publish of a batch held in memory, validated in one pass.

The batch is validated against its contract (``quality.engine.validate_batch``); if a schema
mismatch, a failing blocking table-level rule or a rejected share above the contract's threshold
blocks it, nothing is committed. Otherwise the rejected rows are committed to the quarantine,
then the valid rows, cast to the contract's types, to the table, in one commit each (see
:mod:`~platform_lib.lake.publish`).
"""

import pyarrow as pa

from platform_lib.lake.publish.arrival_order import in_arrival_order
from platform_lib.lake.publish.outcome import PublishOutcome, WritePath
from platform_lib.lake.publish.plan import plan_publish
from platform_lib.lake.publish.request import PublishRequest
from platform_lib.quality.engine import validate_batch


def publish(request: PublishRequest, batch: pa.Table) -> PublishOutcome:
    """Validate ``batch`` against the request's contract and write-audit-publish it.

    Rows carrying the arrival sequence are validated in arrival order (see
    :mod:`~platform_lib.lake.publish.arrival_order`): of duplicates, the first to arrive wins.

    Returns:
        The verdicts and the commits made (none when blocked, or for an append whose inputs
        were appended already: ``already_appended``), with ``path=WHOLE_TABLE``.

    Example:
        >>> publish(PublishRequest(key, contract=contract, mode=WriteMode.OVERWRITE,
        ...                        settings=resolve_settings(), run_id="run-1"), rows)
    """
    plan = plan_publish(request)
    guard = plan.append_guard()
    already = guard.already if guard else None
    reconciled = plan.reconcile() if already is None else 0
    batch = in_arrival_order(batch)
    checked = validate_batch(batch, plan.contract, taken=plan.published_elsewhere(batch))
    if already is not None:  # validated for the checks' sake; nothing is committed
        return plan.outcome(
            checked.result, path=WritePath.WHOLE_TABLE, reconciled_rows=0, published=already
        )
    if checked.result.blocked:
        return plan.outcome(checked.result, path=WritePath.WHOLE_TABLE, reconciled_rows=reconciled)
    quarantined = plan.keep_rejected(plan.quarantine_rows(checked.rejected))
    written = plan.write_valid(checked.valid, guard)
    return plan.outcome(
        checked.result,
        path=WritePath.WHOLE_TABLE,
        reconciled_rows=reconciled,
        published=written,
        quarantined=quarantined,
    )
