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

A version whose schema differs from the table's current contract (a column added, dropped,
retyped or made nullable since) is not restored: the result is a :class:`RollbackRefusal` naming
the columns, and nothing is committed. With ``force`` it is restored all the same, and the
restore commit (``mesh.forced``, ``mesh.schema_changes``), the Dagster event and the report
record that it was forced and across which changes.
"""

import datetime as dt
import uuid
from typing import Any

from dagster import AssetMaterialization, DagsterInstance
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError
from pydantic import BaseModel, ConfigDict

from platform_lib.contracts.registry import project_registry
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.committer import Committer
from platform_lib.lake.publish.run_ids import RUN_ID_METADATA
from platform_lib.lake.reader import table_exists, table_state
from platform_lib.lake.schema_changes import ColumnChange, version_schema_changes
from platform_lib.mesh.graph import Mesh
from platform_lib.orchestration.keys import to_asset_key
from platform_lib.quality.contract_schema import contract_arrow_schema
from platform_lib.settings import MeshSettings, resolve_settings

RESTORED_FROM_METADATA = "mesh.restored_from"
FORCED_METADATA = "mesh.forced"
"""Commit metadata of a forced restore: ``"true"``."""
SCHEMA_CHANGES_METADATA = "mesh.schema_changes"
"""Commit metadata of a forced restore: the columns that differ, ``; ``-separated."""
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
    forced: bool = False
    """Whether the version was restored across a schema change (``force``)."""
    schema_changes: list[ColumnChange] = []
    """The columns of the restored version that differ from the current contract."""


class RollbackRefusal(BaseModel):
    """A rollback refused because the version's schema differs from the current contract."""

    model_config = ConfigDict(frozen=True)

    table: str
    to_version: int
    current_version: int
    schema_changes: list[ColumnChange]
    """Each differing column: its type at ``to_version`` -> its type in the contract."""

    @property
    def message(self) -> str:
        """What was refused and why, with every differing column."""
        changes = "; ".join(change.render() for change in self.schema_changes)
        return (
            f"{self.table}: version {self.to_version} has a schema that differs from the current "
            f"contract ({changes}); nothing was restored, the table stays at version "
            f"{self.current_version}"
        )

    @property
    def fix(self) -> str:
        """How to go ahead anyway, or what else to do."""
        return (
            "restore it anyway with --force (recorded in the restore commit and the Dagster "
            "event), or pick a version written under the current contract"
        )


def rollback_table(
    mesh: Mesh,
    table: str,
    to_version: int,
    instance: DagsterInstance,
    *,
    reason: str = "",
    force: bool = False,
    settings: MeshSettings | None = None,
) -> RollbackReport | RollbackRefusal:
    """Restore ``table`` (and its quarantine) to Delta version ``to_version``.

    Args:
        mesh: The mesh (``load_mesh``); the table must be one of its tables.
        table: ``domain/layer/table``.
        to_version: An existing version other than the current one.
        instance: The Dagster instance the materialisation event is recorded in.
        reason: Why (shown in the event's description and the report).
        force: Restore a version whose schema differs from the current contract (recorded).
        settings: Where the lake is (default: resolved from the environment).

    Returns:
        The report of the rollback, or, when the version's schema differs from the current
        contract and ``force`` is not given, the refusal (nothing committed).

    Raises:
        MeshError: The table is unknown or was never written, or the version is the current one
            or does not exist or cannot be restored.

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
    changes = _schema_changes(key, uri, to_version, settings)
    if changes and not force:
        return RollbackRefusal(
            table=str(key), to_version=to_version, current_version=current, schema_changes=changes
        )
    forced = _forced_metadata(changes)
    history = {int(entry["version"]): entry for entry in delta.history()}
    target_commit = history.get(to_version, {})
    run_id = f"{ROLLBACK_RUN_PREFIX}{uuid.uuid4().hex}"
    quarantine, tag = _roll_quarantine_back(key, target_commit, run_id, settings)
    try:
        table_committer.restore_version(
            to_version, commit_metadata={**_commit_metadata(tag, to_version, reason), **forced}
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
            description=f"rolled back to version {to_version}"
            f"{' (forced across a schema change)' if changes else ''}: "
            f"{reason or 'no reason given'}",
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
                "mesh/forced": bool(changes),
                "mesh/schema_changes": forced.get(SCHEMA_CHANGES_METADATA, ""),
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
        forced=bool(changes),
        schema_changes=changes,
    )


def _schema_changes(
    key: TableKey, uri: str, to_version: int, settings: MeshSettings
) -> list[ColumnChange]:
    """How version ``to_version``'s schema differs from the table's current contract."""
    contract = project_registry(settings.project_root).require(key)
    try:
        return version_schema_changes(uri, to_version, contract_arrow_schema(contract))
    except DeltaError as error:
        raise MeshError(
            f"{key}: version {to_version} cannot be read ({error})",
            fix="its log entry was probably cleaned up; pick a later version "
            "(see the versions with `mesh status` or the table's history)",
        ) from error


def _forced_metadata(changes: list[ColumnChange]) -> dict[str, str]:
    """The commit metadata recording a restore forced across ``changes`` (none without)."""
    if not changes:
        return {}
    return {
        FORCED_METADATA: "true",
        SCHEMA_CHANGES_METADATA: "; ".join(change.render() for change in changes),
    }


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
