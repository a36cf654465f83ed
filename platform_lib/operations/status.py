"""The health of every table of the mesh, from the Dagster instance and the lake.

For each table: its last materialisation (time, run, Delta version), freshness against the
contract's SLA, the latest evaluation of each of its checks, the quarantine's rows by rule, and
one health colour with the reason:

- **red**: the last run of the table failed (nothing committed), a blocking check failed, or the
  table is stale (older than the contract's ``freshness`` SLA);
- **amber**: the table was never materialised, or a non-blocking check that judges the whole
  table (e.g. a row count at warning severity) failed;
- **green**: otherwise.

Row-level rules never colour a table: their breakers are quarantined by design, so they are
shown as quarantine counts by rule. Likewise the checks of a raw table only observe.
Either source may be empty (no run yet, no lake yet): every table is then reported as never
materialised.
"""

import datetime as dt
from collections import Counter
from enum import StrEnum

import pyarrow.compute as pc
from dagster import AssetCheckKey, DagsterInstance, DagsterRunStatus
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from pydantic import BaseModel, ConfigDict

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.registry import ContractRegistry, project_registry
from platform_lib.conventions import Layer, TableKey
from platform_lib.lake.partitions import PARTITION_RULE
from platform_lib.lake.reader import read_arrow, table_exists, table_state
from platform_lib.mesh.graph import Mesh
from platform_lib.orchestration.keys import to_asset_key
from platform_lib.settings import MeshSettings, resolve_settings

DELTA_VERSION_METADATA = "mesh/delta_version"
VIOLATED_RULES_COLUMN = "violated_rules"


class Health(StrEnum):
    """A table's overall health (see the module docstring for the rule)."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class Freshness(StrEnum):
    """The last materialisation against the contract's ``freshness`` SLA."""

    FRESH = "fresh"
    STALE = "stale"
    NEVER = "never"
    """Never materialised."""
    NO_SLA = "no_sla"
    """Materialised, but the contract states no freshness SLA."""


class Materialisation(BaseModel):
    """The latest materialisation event of a table in the Dagster instance."""

    model_config = ConfigDict(frozen=True)

    time: dt.datetime
    run_id: str
    delta_version: int | None
    """The Delta version the run recorded (``mesh/delta_version``), when it recorded one."""
    description: str | None = None
    """The event's description, when it has one: a rollback's says so (``rolled back to version
    N (forced across a schema change): REASON``)."""


class CheckState(BaseModel):
    """The latest evaluation of one of a table's checks."""

    model_config = ConfigDict(frozen=True)

    name: str
    passed: bool
    blocking: bool
    severity: str
    """``ERROR`` or ``WARN``, as Dagster shows it."""
    row_level: bool
    """Whether the check is a row-level rule (its breakers are quarantined; never colours)."""
    message: str
    run_id: str
    time: dt.datetime


class TableStatus(BaseModel):
    """Everything ``mesh status`` shows for one table."""

    model_config = ConfigDict(frozen=True)

    key: str
    domain: str
    layer: str
    owners: list[str]
    access: str | None
    contract_file: str | None
    last_materialisation: Materialisation | None
    lake_version: int | None
    """The table's latest Delta version in the lake (None when it does not exist)."""
    last_run_failed: bool
    """Whether the latest run planning this table failed without materialising it."""
    freshness: Freshness
    freshness_sla_seconds: float | None
    age_seconds: float | None
    checks: list[CheckState]
    """The latest evaluation of every check evaluated at least once."""
    quarantine_rows: int
    quarantine_by_rule: dict[str, int]
    """Quarantined rows per violated rule (a row breaking two rules counts for both)."""
    health: Health
    reason: str

    @property
    def failing_checks(self) -> list[CheckState]:
        """The checks whose latest evaluation failed."""
        return [check for check in self.checks if not check.passed]


def mesh_status(
    mesh: Mesh,
    instance: DagsterInstance,
    *,
    domain: str | None = None,
    now: dt.datetime | None = None,
    settings: MeshSettings | None = None,
    contracts: ContractRegistry | None = None,
) -> list[TableStatus]:
    """The status of every table of ``mesh`` (of ``domain`` only, when given), sorted by key.

    Args:
        mesh: The mesh (``load_mesh``); its code locations give each table's checks.
        instance: The Dagster instance holding runs, materialisations and check evaluations.
        domain: Only this domain's tables (a ``MeshError`` when the domain is unknown).
        now: The time freshness is measured at (default: the current UTC time).
        settings: Where the lake is (default: resolved from the environment).
        contracts: The tables' contracts (default: the project's).

    Example:
        >>> statuses = mesh_status(load_mesh(root), DagsterInstance.get())
        >>> [s.key for s in statuses if s.health is Health.RED]
    """
    settings = settings or resolve_settings()
    registry = contracts or project_registry(settings.project_root)
    moment = now or dt.datetime.now(dt.UTC)
    keys = mesh.select(domains=[domain]) if domain else list(mesh.tables)
    check_keys = _check_keys(mesh)
    return [
        _table_status(
            key,
            mesh,
            instance,
            registry.get(key),
            check_keys.get(key, []),
            settings,
            moment,
        )
        for key in sorted(keys, key=str)
    ]


def quarantine_counts(key: TableKey, settings: MeshSettings) -> tuple[int, dict[str, int]]:
    """The quarantine's row count and rows per violated rule (zero when it does not exist)."""
    uri = key.quarantine.uri(settings)
    if not table_exists(uri):
        return 0, {}
    rules = read_arrow(uri, columns=[VIOLATED_RULES_COLUMN]).column(VIOLATED_RULES_COLUMN)
    counts = Counter(str(rule) for rule in pc.list_flatten(rules).to_pylist())
    return len(rules), dict(sorted(counts.items()))


def _check_keys(mesh: Mesh) -> dict[TableKey, list[AssetCheckKey]]:
    keys: dict[TableKey, list[AssetCheckKey]] = {}
    for name in mesh.loaded_domains:
        asset_graph = mesh.definitions(name).resolve_asset_graph()
        for key, table in mesh.tables.items():
            if table.location == name:
                keys[key] = sorted(asset_graph.get(to_asset_key(key)).check_keys, key=str)
    return keys


def _table_status(
    key: TableKey,
    mesh: Mesh,
    instance: DagsterInstance,
    contract: TableContract | None,
    check_keys: list[AssetCheckKey],
    settings: MeshSettings,
    now: dt.datetime,
) -> TableStatus:
    materialisation = _last_materialisation(instance, key)
    lake = table_state(key.uri(settings))
    quarantined, by_rule = (
        quarantine_counts(key, settings) if key.layer is not Layer.RAW else (0, {})
    )
    sla = contract.freshness if contract else None
    age = (now - materialisation.time) if materialisation else None
    freshness = _freshness(age, sla)
    checks = _checks(instance, check_keys, contract, key)
    last_run_failed = _last_run_failed(instance, key, materialisation)
    health, reason = _health(freshness, last_run_failed, checks, age, sla)
    return TableStatus(
        key=str(key),
        domain=key.domain,
        layer=key.layer.value,
        owners=list(mesh.tables[key].owners),
        access=contract.access.value if contract else None,
        contract_file=str(contract.source) if contract else None,
        last_materialisation=materialisation,
        lake_version=lake.version if lake else None,
        last_run_failed=last_run_failed,
        freshness=freshness,
        freshness_sla_seconds=sla.total_seconds() if sla else None,
        age_seconds=age.total_seconds() if age is not None else None,
        checks=checks,
        quarantine_rows=quarantined,
        quarantine_by_rule=by_rule,
        health=health,
        reason=reason,
    )


def _last_materialisation(instance: DagsterInstance, key: TableKey) -> Materialisation | None:
    event = instance.get_latest_materialization_event(to_asset_key(key))
    if event is None or event.asset_materialization is None:
        return None
    version = event.asset_materialization.metadata.get(DELTA_VERSION_METADATA)
    value = getattr(version, "value", None)
    return Materialisation(
        time=dt.datetime.fromtimestamp(event.timestamp, dt.UTC),
        run_id=event.run_id,
        delta_version=int(value) if isinstance(value, int | float) and value >= 0 else None,
        description=event.asset_materialization.description,
    )


def _last_run_failed(
    instance: DagsterInstance, key: TableKey, materialisation: Materialisation | None
) -> bool:
    """Whether the latest run planning the table failed and did not materialise it."""
    planned = instance.get_latest_planned_materialization_info(to_asset_key(key))
    if planned is None or (materialisation and materialisation.run_id == planned.run_id):
        return False
    run = instance.get_run_by_id(planned.run_id)
    return run is not None and run.status == DagsterRunStatus.FAILURE


def _checks(
    instance: DagsterInstance,
    check_keys: list[AssetCheckKey],
    contract: TableContract | None,
    key: TableKey,
) -> list[CheckState]:
    if not check_keys:
        return []
    row_rules = {rule.id for rule in contract.row_rules} if contract else set()
    row_rules.add(PARTITION_RULE)
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    states = []
    for check_key in check_keys:
        record = latest.get(check_key)
        evaluation = record.evaluation if record else None
        if record is None or evaluation is None:
            continue
        if record.status == AssetCheckExecutionRecordStatus.PLANNED:
            continue
        states.append(
            CheckState(
                name=check_key.name,
                passed=evaluation.passed,
                blocking=bool(evaluation.blocking) and key.layer is not Layer.RAW,
                severity=evaluation.severity.value,
                row_level=check_key.name in row_rules or key.layer is Layer.RAW,
                message=evaluation.description or "",
                run_id=record.run_id,
                time=dt.datetime.fromtimestamp(record.create_timestamp, dt.UTC),
            )
        )
    return states


def _freshness(age: dt.timedelta | None, sla: dt.timedelta | None) -> Freshness:
    if age is None:
        return Freshness.NEVER
    if sla is None:
        return Freshness.NO_SLA
    return Freshness.STALE if age > sla else Freshness.FRESH


def _health(
    freshness: Freshness,
    last_run_failed: bool,
    checks: list[CheckState],
    age: dt.timedelta | None,
    sla: dt.timedelta | None,
) -> tuple[Health, str]:
    red: list[str] = []
    if last_run_failed:
        red.append("the last run failed")
    red += [
        f"blocking check {c.name} failed: {c.message}"
        for c in checks
        if not c.passed and c.blocking
    ]
    if freshness is Freshness.STALE and age is not None and sla is not None:
        red.append(f"stale: last materialised {_duration(age)} ago, SLA {_duration(sla)}")
    if red:
        return Health.RED, "; ".join(red)
    amber = [
        f"check {c.name} failed: {c.message}" for c in checks if not c.passed and not c.row_level
    ]
    if freshness is Freshness.NEVER:
        amber.insert(0, "never materialised")
    if amber:
        return Health.AMBER, "; ".join(amber)
    return Health.GREEN, "ok"


def _duration(span: dt.timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds >= 86_400:
        return f"{seconds / 86_400:.1f}d"
    if seconds >= 3_600:
        return f"{seconds / 3_600:.1f}h"
    return f"{seconds // 60}m"
