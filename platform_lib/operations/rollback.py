"""Rollback: restore a table's earlier Delta version, recorded as a new version and in Dagster.

A restore (``Committer.restore_version``) commits a new version whose content equals version N;
history is kept, so a rollback can itself be rolled back. The quarantine follows the table: the
publish that made version N committed the quarantine first with the same run id (commit metadata
``mesh.run_id``), so the quarantine is restored to the last version that run committed (or, when
that run did not touch it, to the last version committed before table version N). Table and
quarantine then tell the same story again.

Both restore commits carry one rollback run id, so ``publish.quarantine.reconcile`` sees a
consistent pair and removes nothing. A materialisation event (``AssetMaterialization``,
description ``rolled back to version N: <reason>``) is recorded in the Dagster instance, so the UI
and ``mesh status`` show the rollback as the table's latest materialisation.
"""

import datetime as dt
import uuid
from typing import Any

from dagster import AssetMaterialization, DagsterInstance
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError
from pydantic import BaseModel, ConfigDict

from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.committer import Committer
from platform_lib.lake.publish.run_ids import RUN_ID_METADATA
from platform_lib.lake.reader import table_exists, table_state
from platform_lib.mesh.graph import Mesh
from platform_lib.orchestration.keys import to_asset_key
from platform_lib.settings import MeshSettings, resolve_settings

RESTORED_FROM_METADATA = "mesh.restored_from"
ROLLBACK_RUN_PREFIX = "rollback_"


class QuarantineRollback(BaseModel):
    """What happened to the table's quarantine."""

    model_config = ConfigDict(frozen=True)

    restored_from: int | None
    """The quarantine version restored (None when left as it was)."""
    version: int | None
    """The quarantine's version afterwards (None when there is no quarantine)."""
    rows: int
    note: str


class RollbackReport(BaseModel):
    """A rollback's outcome: the versions involved, row counts and the recorded event."""

    model_config = ConfigDict(frozen=True)

    table: str
    restored_from: int
    previous_version: int
    """The version that was current before the rollback."""
    new_version: int
    """The version the rollback committed (its content equals ``restored_from``)."""
    rows: int
    """Rows in the table after the rollback."""
    reason: str
    run_id: str
    """The id in both restore commits' ``mesh.run_id`` metadata."""
    quarantine: QuarantineRollback


def rollback_table(
    mesh: Mesh,
    table: str,
    to_version: int,
    instance: DagsterInstance,
    *,
    reason: str = "",
    settings: MeshSettings | None = None,
) -> RollbackReport:
    """Restore ``table`` (and its quarantine) to Delta version ``to_version``.

    Args:
        mesh: The mesh (``load_mesh``); the table must be one of its tables.
        table: ``domain/layer/table``.
        to_version: An existing version other than the current one.
        instance: The Dagster instance the materialisation event is recorded in.
        reason: Why (shown in the event's description and the report).
        settings: Where the lake is (default: resolved from the environment).

    Example:
        >>> rollback_table(mesh, "payments/curated/transactions", 3, instance, reason="bad feed")
    """
    settings = settings or resolve_settings()
    key = mesh.table(table)
    uri = key.uri(settings)
    if not table_exists(uri):
        raise MeshError(
            f"{key} has never been written: there is no version to roll back to",
            fix=f"materialise it first: `mesh materialize -s {key}`",
        )
    table_committer = Committer.for_table(key, settings)
    delta = DeltaTable(uri)
    current = delta.version()
    _check_target(key, to_version, current)
    history = {int(entry["version"]): entry for entry in delta.history()}
    target_commit = history.get(to_version, {})
    run_id = f"{ROLLBACK_RUN_PREFIX}{uuid.uuid4().hex}"
    quarantine, tag = _roll_quarantine_back(key, target_commit, run_id, settings)
    try:
        table_committer.restore_version(
            to_version, commit_metadata=_commit_metadata(tag, to_version, reason)
        )
    except DeltaError as error:
        raise MeshError(
            f"{key}: version {to_version} cannot be restored ({error})",
            fix="its data files were probably vacuumed; pick a later version "
            "(see the versions with `mesh status` or the table's history)",
        ) from error
    state = table_state(uri)
    new_version = state.version if state else current + 1
    instance.report_runless_asset_event(
        AssetMaterialization(
            asset_key=to_asset_key(key),
            description=f"rolled back to version {to_version}: {reason or 'no reason given'}",
            metadata={
                "mesh/delta_version": new_version,
                "mesh/restored_from": to_version,
                "mesh/previous_version": current,
                "mesh/rollback_reason": reason,
                "mesh/run_id": tag,
                "dagster/row_count": state.rows if state else 0,
                "mesh/quarantine_version": quarantine.version
                if quarantine.version is not None
                else -1,
            },
        )
    )
    return RollbackReport(
        table=str(key),
        restored_from=to_version,
        previous_version=current,
        new_version=new_version,
        rows=state.rows if state else 0,
        reason=reason,
        run_id=tag,
        quarantine=quarantine,
    )


def _check_target(key: TableKey, to_version: int, current: int) -> None:
    if to_version == current:
        raise MeshError(
            f"{key} is already at version {current}",
            fix=f"name an earlier version: 0..{current - 1}" if current else "nothing to undo",
        )
    if not 0 <= to_version < current:
        raise MeshError(
            f"{key} has no version {to_version}: its versions are 0..{current}",
            fix=f"pass --to-version with one of 0..{current - 1}",
        )


def _roll_quarantine_back(
    key: TableKey, target_commit: dict[str, Any], run_id: str, settings: MeshSettings
) -> tuple[QuarantineRollback, str]:
    """Restore the quarantine as it stood with table version N; return it and the commit tag.

    The tag is the run id the table's restore commit must carry to match the quarantine's last
    commit (``reconcile`` would otherwise take the quarantine's last rows for an interrupted run).
    """
    uri = key.quarantine.uri(settings)
    if not table_exists(uri):
        return QuarantineRollback(
            restored_from=None, version=None, rows=0, note="the table has no quarantine"
        ), run_id
    quarantine = DeltaTable(uri)
    current = quarantine.version()
    target = _matching_version(quarantine, target_commit)
    if target is None:
        return _unchanged(uri, "no quarantine version precedes the restored one"), run_id
    if target == current:
        last = quarantine.history(1)[0].get(RUN_ID_METADATA)
        return _unchanged(uri, "already as it was"), str(last) if last else run_id
    Committer.for_table(key.quarantine, settings).restore_version(
        target, commit_metadata=_commit_metadata(run_id, target, "with its table's rollback")
    )
    state = table_state(uri)
    return QuarantineRollback(
        restored_from=target,
        version=state.version if state else None,
        rows=state.rows if state else 0,
        note=f"restored to version {target}, committed with table version "
        f"{target_commit.get('version')}",
    ), run_id


def _matching_version(quarantine: DeltaTable, target_commit: dict[str, Any]) -> int | None:
    """The quarantine version committed by the run of the table's target version, else the last
    one committed before it."""
    history = quarantine.history()
    run_id = target_commit.get(RUN_ID_METADATA)
    same_run = [int(e["version"]) for e in history if run_id and e.get(RUN_ID_METADATA) == run_id]
    if same_run:
        return max(same_run)
    moment = target_commit.get("timestamp")
    earlier = [int(e["version"]) for e in history if moment and e.get("timestamp", 0) <= moment]
    return max(earlier, default=None)


def _unchanged(uri: str, note: str) -> QuarantineRollback:
    state = table_state(uri)
    return QuarantineRollback(
        restored_from=None,
        version=state.version if state else None,
        rows=state.rows if state else 0,
        note=note,
    )


def _commit_metadata(run_id: str, version: int, reason: str) -> dict[str, str]:
    return {
        RUN_ID_METADATA: run_id,
        RESTORED_FROM_METADATA: str(version),
        "mesh.reason": reason,
        "mesh.restored_at": dt.datetime.now(dt.UTC).isoformat(),
    }
