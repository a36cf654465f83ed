"""Materialise tables across code locations, producers before consumers, in one process.

Dagster stops only the downstream steps of one run. Domains are separate code locations, so this
runner plans *stages*: a table runs one stage after the latest of its producers in another domain.
Each stage runs one in-process Dagster job per domain, recorded in the Dagster instance like any
other run; a daily-partitioned table runs once per requested day (``partitions``), each day its
own run. A table whose producer failed, was blocked by a check or was skipped is skipped too, and
reported: its consumers are never fed bad or missing data.
"""

from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from dagster import AssetKey, DagsterEventType, DagsterInstance, ExecuteInProcessResult
from pydantic import BaseModel, ConfigDict

from platform_lib.conventions import TableKey
from platform_lib.mesh.graph import Mesh
from platform_lib.orchestration.keys import to_asset_key

_PHRASES = {
    "failed": "failed",
    "blocked": "was blocked by a failing check",
    "skipped": "was skipped",
    "materialized": "was materialised",
}
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class AssetStatus(StrEnum):
    """How one table fared in a mesh run."""

    MATERIALIZED = "materialized"
    BLOCKED = "blocked"
    """A blocking check failed: nothing was committed."""
    FAILED = "failed"
    SKIPPED = "skipped"
    """Not run because a table it reads failed, was blocked or was skipped."""


class AssetRun(BaseModel):
    """One table's outcome in a mesh run."""

    model_config = ConfigDict(frozen=True)

    key: str
    domain: str
    status: AssetStatus
    run_id: str | None = None
    rows: int | None = None
    version: int | None = None
    quarantined: int | None = None
    message: str = ""


class MeshRunReport(BaseModel):
    """Every selected table's outcome, in the order they ran."""

    model_config = ConfigDict(frozen=True)

    assets: tuple[AssetRun, ...]

    @property
    def succeeded(self) -> bool:
        """Whether every selected table was materialised."""
        return all(a.status is AssetStatus.MATERIALIZED for a in self.assets)


def plan_stages(mesh: Mesh, selected: Sequence[TableKey]) -> list[dict[str, list[TableKey]]]:
    """Group the selected tables into stages of ``{domain: tables}``, producers first.

    A table's stage is the largest over its producers of (their stage, plus one when the producer
    is in another domain); within a domain Dagster orders the steps itself.
    """
    stage: dict[TableKey, int] = {}

    def stage_of(key: TableKey, path: tuple[TableKey, ...] = ()) -> int:
        if key in path:
            cycle = " -> ".join(str(k) for k in (*path, key))
            raise ValueError(f"the mesh has a cycle: {cycle}")
        if key not in stage:
            table = mesh.tables[key]
            stage[key] = max(
                (
                    stage_of(up, (*path, key)) + (up.domain != key.domain)
                    for up in table.upstream
                    if up in mesh.tables
                ),
                default=0,
            )
        return stage[key]

    stages: list[dict[str, list[TableKey]]] = []
    for key in topological_order(mesh, selected):
        index = stage_of(key)
        while len(stages) <= index:
            stages.append({})
        stages[index].setdefault(key.domain, []).append(key)
    return [s for s in stages if s]


def topological_order(mesh: Mesh, keys: Sequence[TableKey]) -> list[TableKey]:
    """``keys`` ordered so that every table comes after the tables it reads."""
    wanted = set(keys)
    ordered: list[TableKey] = []
    visited: set[TableKey] = set()

    def visit(key: TableKey) -> None:
        if key in visited:
            return
        visited.add(key)
        for up in mesh.tables[key].upstream:
            if up in mesh.tables:
                visit(up)
        if key in wanted:
            ordered.append(key)

    for key in sorted(keys, key=str):
        visit(key)
    return ordered


def materialize_mesh(
    mesh: Mesh,
    selected: Sequence[TableKey],
    instance: DagsterInstance,
    on_result: Callable[[AssetRun], None] = lambda _: None,
    partitions: Sequence[str] = (),
    tags: Mapping[str, str] | None = None,
) -> MeshRunReport:
    """Materialise ``selected`` in dependency order across domains; never raises for a failure.

    ``partitions`` are the days (``YYYY-MM-DD``) the daily-partitioned tables among ``selected``
    are written for; the other tables run once. A partitioned table with no day to run fails.
    ``tags`` are added to every run's tags (e.g. ``mesh/replay``).
    """
    extra_tags = dict(tags or {})
    outcomes: dict[TableKey, AssetRun] = {}
    for stage in plan_stages(mesh, selected):
        for domain, keys in stage.items():
            runnable = []
            for key in keys:
                blocker = _failed_producer(mesh, key, outcomes)
                if blocker is None:
                    runnable.append(key)
                    continue
                outcomes[key] = AssetRun(
                    key=str(key),
                    domain=domain,
                    status=AssetStatus.SKIPPED,
                    message=f"not run: {blocker} {_PHRASES[outcomes[blocker].status]}",
                )
                on_result(outcomes[key])
            if not runnable:
                continue
            whole = [k for k in runnable if not mesh.tables[k].partitioned]
            daily = [k for k in runnable if mesh.tables[k].partitioned]
            if whole:
                result = _run_domain(mesh, domain, whole, instance, tags=extra_tags)
                for key in whole:
                    outcomes[key] = _outcome(key, result, outcomes)
                    on_result(outcomes[key])
            if daily:
                results = [
                    _run_domain(mesh, domain, daily, instance, partition_key=day, tags=extra_tags)
                    for day in partitions
                ]
                for key in daily:
                    outcomes[key] = _daily_outcome(key, list(partitions), results, outcomes)
                    on_result(outcomes[key])
    return MeshRunReport(assets=tuple(outcomes.values()))


def _failed_producer(
    mesh: Mesh, key: TableKey, outcomes: dict[TableKey, AssetRun]
) -> TableKey | None:
    for up in mesh.tables[key].upstream:
        outcome = outcomes.get(up)
        if up.domain != key.domain and outcome and outcome.status is not AssetStatus.MATERIALIZED:
            return up
    return None


def _run_domain(
    mesh: Mesh,
    domain: str,
    keys: list[TableKey],
    instance: DagsterInstance,
    partition_key: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ExecuteInProcessResult:
    job = mesh.definitions(domain).resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=instance,
        asset_selection=[to_asset_key(k) for k in keys],
        run_config=QUIET_RUN_CONFIG,
        raise_on_error=False,
        tags={"mesh/runner": "mesh materialize", **(tags or {})},
        partition_key=partition_key,
    )


def _daily_outcome(
    key: TableKey,
    days: list[str],
    results: list[ExecuteInProcessResult],
    earlier: dict[TableKey, AssetRun],
) -> AssetRun:
    """One table's outcome over the days it ran: materialised only when every day was."""
    if not days:
        return AssetRun(
            key=str(key),
            domain=key.domain,
            status=AssetStatus.FAILED,
            message="daily-partitioned: pass --partition DAY or --partition-range FIRST..LAST",
        )
    runs = [_outcome(key, result, earlier) for result in results]
    failed = [
        (day, run)
        for day, run in zip(days, runs, strict=True)
        if run.status is not AssetStatus.MATERIALIZED
    ]
    if failed:
        day, run = failed[0]
        note = f"{len(failed)} of {len(days)} day(s) not materialised"
        return run.model_copy(update={"message": f"{day}: {run.message} ({note})"})
    span = days[0] if len(days) == 1 else f"{days[0]}..{days[-1]}"
    return runs[-1].model_copy(
        update={
            "quarantined": sum(run.quarantined or 0 for run in runs),
            "message": f"{len(days)} day(s): {span}",
        }
    )


def _outcome(
    key: TableKey, result: ExecuteInProcessResult, earlier: dict[TableKey, AssetRun]
) -> AssetRun:
    run_id = result.run_id
    materialized = _materialization_metadata(result, to_asset_key(key))
    if materialized is not None:
        return AssetRun(
            key=str(key),
            domain=key.domain,
            status=AssetStatus.MATERIALIZED,
            run_id=run_id,
            rows=_int(materialized.get("dagster/row_count")),
            version=_int(materialized.get("mesh/delta_version")),
            quarantined=_int(materialized.get("mesh/rows_quarantined")),
        )
    blocking = [
        e.check_name
        for e in result.get_asset_check_evaluations()
        if e.asset_key == to_asset_key(key) and not e.passed and e.blocking
    ]
    failure = _step_failure(result, to_asset_key(key))
    if blocking:
        status, message = AssetStatus.BLOCKED, f"blocking check(s) failed: {', '.join(blocking)}"
    elif failure is not None:
        status, message = AssetStatus.FAILED, failure
    else:
        status, message = AssetStatus.SKIPPED, "not run: a table it reads in this domain failed"
    return AssetRun(key=str(key), domain=key.domain, status=status, run_id=run_id, message=message)


def _materialization_metadata(
    result: ExecuteInProcessResult, asset_key: AssetKey
) -> dict[str, Any] | None:
    for event in result.get_asset_materialization_events():
        if event.asset_key == asset_key:
            materialization = event.step_materialization_data.materialization
            return {k: v.value for k, v in materialization.metadata.items()}
    return None


def _step_failure(result: ExecuteInProcessResult, asset_key: AssetKey) -> str | None:
    step_key = "__".join(asset_key.path)
    for event in result.all_events:
        if event.event_type is DagsterEventType.STEP_FAILURE and event.step_key == step_key:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:
                error = error.cause
            if error is None:
                return "the step failed"
            return _first_line(error.message).removeprefix(f"{error.cls_name}: ")
    return None


def _first_line(message: str) -> str:
    lines = message.strip().splitlines()
    return lines[0] if lines else "the step failed"


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None
