"""Replay: recompute a curated or product table from its inputs after a contract or code fix.

A replay is an ordinary materialisation through Dagster (recorded in the instance, tagged
``mesh/replay=true``), so it publishes exactly what a run would publish today:

- a table written whole (overwrite, the default) is recomputed from its inputs in one run: rows
  that now pass are published once (the table is replaced, not appended to), rows that still fail
  are the new quarantine (an overwrite publish replaces the quarantine too);
- a daily-partitioned table is replayed one run per day: every day from ``since`` to the last day
  it holds (by the instance's materialised partitions and the quarantine's ``partition_key``), or
  every day it holds without ``since``. Each day's run replaces that day's rows and quarantine;
- an append table is refused: its rows accumulate run after run, so recomputing would publish
  again rows it already holds. Fix it forward (land the corrected rows as a new file) or restore
  an earlier version with ``mesh rollback``.

Raw tables are not replayed: they are the record of the landing files, never recomputed.
Tables reading the replayed one (in any domain, transitively) are reported as stale, or
re-materialised after it with ``downstream=True``.
"""

import datetime as dt
import uuid
from collections.abc import Callable

from dagster import DagsterInstance, RunsFilter
from deltalake import DeltaTable
from pydantic import BaseModel, ConfigDict, computed_field

from platform_lib.conventions import Layer, TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.partitions import PARTITION_KEY_COLUMN
from platform_lib.lake.reader import read_arrow, table_exists, table_state
from platform_lib.mesh.graph import Mesh
from platform_lib.mesh.run import AssetRun, AssetStatus, materialize_mesh
from platform_lib.operations.status import quarantine_counts
from platform_lib.orchestration.keys import to_asset_key
from platform_lib.settings import MeshSettings, resolve_settings

REPLAY_TAG = "mesh/replay"
"""The tag every replay run carries (value ``true``)."""
REPLAY_ID_TAG = "mesh/replay_id"
"""The tag naming one replay (its runs share it)."""
APPEND_MODE = "Append"


class TableCounts(BaseModel):
    """A table's published and quarantined rows at one moment."""

    model_config = ConfigDict(frozen=True)

    version: int | None
    """The table's Delta version (None when it does not exist)."""
    rows_published: int
    rows_quarantined: int
    quarantined_by_rule: dict[str, int]
    """Quarantined rows per violated rule (a row breaking two rules counts for both)."""


class ReplayReport(BaseModel):
    """What a replay did: the counts before and after, the runs, and the consumers affected."""

    model_config = ConfigDict(frozen=True)

    table: str
    days: list[str]
    """The days replayed (``YYYY-MM-DD``), one run each; empty for a table written whole."""
    before: TableCounts
    after: TableCounts
    runs: list[AssetRun]
    """The outcome of the table, then of each re-materialised consumer."""
    replay_id: str
    """Tag ``mesh/replay_id`` of every run of this replay (each also has ``mesh/replay=true``)."""
    run_ids: list[str]
    """The Dagster runs of the replay."""
    stale_consumers: list[str]
    """Tables reading the replayed one (transitively) that were not re-materialised."""
    rematerialized: list[str]
    """Consumers materialised again after it (``downstream=True``)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def succeeded(self) -> bool:
        """Whether the table and every re-materialised consumer were materialised."""
        return all(run.status is AssetStatus.MATERIALIZED for run in self.runs)


def replay_table(
    mesh: Mesh,
    table: str,
    instance: DagsterInstance,
    *,
    since: dt.date | None = None,
    downstream: bool = False,
    settings: MeshSettings | None = None,
    on_result: Callable[[AssetRun], None] = lambda _: None,
) -> ReplayReport:
    """Recompute ``table`` from its inputs through Dagster and report what changed.

    Args:
        mesh: The mesh (``load_mesh``), loaded after the fix so it carries the fixed contract.
        table: ``domain/layer/table`` of a curated or product table.
        instance: The Dagster instance the runs are recorded in.
        since: For a daily-partitioned table, the first day to replay (default: every day it
            holds); a ``MeshError`` for a table written whole.
        downstream: Also re-materialise every table reading it (transitively, any domain).
        settings: Where the lake is (default: resolved from the environment).
        on_result: Called with each table's outcome as soon as it is known.

    Example:
        >>> report = replay_table(load_mesh(root), "payments/curated/transactions", instance)
        >>> report.after.rows_published - report.before.rows_published
    """
    settings = settings or resolve_settings()
    key = _replayable(mesh, table)
    partitioned = mesh.tables[key].partitioned
    if since is not None and not partitioned:
        raise MeshError(
            f"--since applies to daily-partitioned tables; {key} is recomputed whole",
            fix=f"run `mesh replay {key}` without --since",
        )
    if not partitioned:
        _refuse_append(key, settings)
    days = _days(mesh, key, instance, since, settings) if partitioned else []
    consumers = consumers_of(mesh, key)
    before = table_counts(key, settings)
    selected = [key, *consumers] if downstream else [key]
    replay_id = uuid.uuid4().hex
    report = materialize_mesh(
        mesh,
        selected,
        instance,
        on_result=on_result,
        partitions=days,
        tags={REPLAY_TAG: "true", REPLAY_ID_TAG: replay_id},
    )
    runs = list(report.assets)
    replay_runs = instance.get_run_records(filters=RunsFilter(tags={REPLAY_ID_TAG: replay_id}))
    return ReplayReport(
        table=str(key),
        days=days,
        replay_id=replay_id,
        before=before,
        after=table_counts(key, settings),
        runs=runs,
        run_ids=sorted(record.dagster_run.run_id for record in replay_runs),
        stale_consumers=[] if downstream else [str(c) for c in consumers],
        rematerialized=[str(c) for c in consumers] if downstream else [],
    )


def consumers_of(mesh: Mesh, key: TableKey) -> list[TableKey]:
    """Every table reading ``key``, directly or through other tables, sorted by name."""
    found: set[TableKey] = set()
    frontier = [key]
    while frontier:
        current = frontier.pop()
        for table in mesh.tables.values():
            if current in table.upstream and table.key not in found:
                found.add(table.key)
                frontier.append(table.key)
    return sorted(found, key=str)


def table_counts(key: TableKey, settings: MeshSettings) -> TableCounts:
    """The table's version, published rows and quarantined rows by rule, as the lake holds them."""
    state = table_state(key.uri(settings))
    quarantined, by_rule = quarantine_counts(key, settings)
    return TableCounts(
        version=state.version if state else None,
        rows_published=state.rows if state else 0,
        rows_quarantined=quarantined,
        quarantined_by_rule=by_rule,
    )


def _replayable(mesh: Mesh, table: str) -> TableKey:
    key = mesh.table(table)
    if key.layer is Layer.RAW:
        raise MeshError(
            f"{key} is a raw table: it records the landing files and is never recomputed",
            fix="replay the curated or product table that reads it, e.g. "
            f"`mesh replay {key.domain}/curated/<table>`",
        )
    return key


def _refuse_append(key: TableKey, settings: MeshSettings) -> None:
    uri = key.uri(settings)
    if not table_exists(uri):
        return
    modes = {
        str((entry.get("operationParameters") or {}).get("mode"))
        for entry in DeltaTable(uri).history()
    }
    if APPEND_MODE in modes:
        raise MeshError(
            f"{key} is written in append mode: recomputing it would publish again rows it "
            "already holds, so a replay cannot publish each row exactly once",
            fix="land the corrected rows as a new landing file (they are appended once), or "
            f"restore an earlier version with `mesh rollback {key} --to-version N`",
        )


def _days(
    mesh: Mesh,
    key: TableKey,
    instance: DagsterInstance,
    since: dt.date | None,
    settings: MeshSettings,
) -> list[str]:
    """The days to replay: those the table holds, from ``since`` to the last one when given."""
    node = mesh.definitions(mesh.tables[key].location).resolve_asset_graph().get(to_asset_key(key))
    valid = node.partitions_def.get_partition_keys() if node.partitions_def else []
    held = set(instance.get_materialized_partitions(to_asset_key(key))) | _quarantined_days(
        key, settings
    )
    if since is None:
        days = [day for day in valid if day in held]
    else:
        last = max(held, default=None)
        days = [day for day in valid if last is not None and since.isoformat() <= day <= last]
    if not days:
        raise MeshError(
            f"{key} holds no day to replay"
            + (f" from {since.isoformat()} on" if since is not None else ""),
            fix="materialise the days first (`mesh materialize -s "
            f"{key} --partition-range FIRST..LAST`), or pass an earlier --since",
        )
    return days


def _quarantined_days(key: TableKey, settings: MeshSettings) -> set[str]:
    uri = key.quarantine.uri(settings)
    if not table_exists(uri):
        return set()
    column = read_arrow(uri, columns=[PARTITION_KEY_COLUMN]).column(PARTITION_KEY_COLUMN)
    return {str(day) for day in column.unique().to_pylist() if day is not None}
