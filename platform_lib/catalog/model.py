"""What the catalog shows, gathered once: every table, its contract, its edges and its state.

Sources, each read-only: the tables of ``mesh tables`` (quarantines included) with the lake's
Delta version and row count, the contracts, the consumers' declared reads, the asset checks of
every code location, and, when one exists at ``DAGSTER_HOME``, the Dagster instance's latest
materialisation and check results. The catalog never creates an instance or writes to the lake.
"""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from dagster import AssetCheckKey, AssetCheckSeverity, AssetKey, DagsterInstance
from deltalake import DeltaTable
from pydantic import BaseModel, ConfigDict, Field

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.registry import project_registry
from platform_lib.conventions import TableKey
from platform_lib.lake.reader import open_dataset, table_exists
from platform_lib.mesh.graph import Mesh, load_mesh
from platform_lib.mesh.listing import TableListing, list_tables
from platform_lib.mesh.location_facts import DeclaredRead
from platform_lib.mesh.violations import Violation
from platform_lib.orchestration.keys import to_asset_key
from platform_lib.settings import MeshSettings, resolve_settings

INSTANCE_CONFIG_FILE = "dagster.yaml"
INSTANCE_STORAGE_FOLDER = "storage"


class CheckOutcome(StrEnum):
    """The latest result of one asset check."""

    PASSED = "passed"
    FAILED = "failed"
    """Failed with severity error."""
    WARNED = "warned"
    """Failed with severity warn."""
    NOT_EVALUATED = "not evaluated"
    """Planned by a run that produced no result (stopped upstream, or still running)."""
    NEVER_RUN = "never run"


class ColumnSource(StrEnum):
    """Where a table's columns come from: its contract, or the lake when it has none."""

    CONTRACT = "contract"
    LAKE = "lake"
    NONE = "none"


class CatalogColumn(BaseModel):
    """One column of a table."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: str
    required: bool = False
    unique: bool = False
    classification: str | None = None
    description: str = ""


class CatalogContract(BaseModel):
    """The contract facts a reader of the catalog needs."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: str
    status: str
    name: str = ""
    description: str = ""
    deprecation_date: dt.date | None = None
    path: str = Field(description="The contract file, relative to the project root.")


class CatalogEdge(BaseModel):
    """One declared read: a consumer table reads a producer table."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="The table at the other end of the edge.")
    domain: str
    major: int | None = Field(description="The major the consumer accepts (None: any).")
    columns: dict[str, str | None] = Field(
        description="Columns read -> the type the consumer expects (None: any)."
    )


class CatalogCheck(BaseModel):
    """One asset check of a table and its latest result."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    blocking: bool = False
    outcome: CheckOutcome = CheckOutcome.NEVER_RUN
    message: str | None = None
    evaluated_at: dt.datetime | None = None


class CatalogTable(BaseModel):
    """Everything the catalog shows about one table."""

    model_config = ConfigDict(frozen=True)

    key: str
    domain: str
    layer: str
    table: str
    uri: str
    owners: list[str]
    access: str | None = Field(description="public / internal / private; None without contract.")
    contract: CatalogContract | None
    columns: list[CatalogColumn]
    columns_source: ColumnSource
    freshness: dt.timedelta | None = Field(description="Maximum age of the newest data (SLA).")
    quarantine_of: str | None = None
    producers: list[CatalogEdge] = Field(description="The tables this table reads.")
    consumers: list[CatalogEdge] = Field(description="The tables reading this table.")
    rows: int | None = None
    delta_version: int | None = None
    lake_updated_at: dt.datetime | None = Field(description="Time of the latest Delta commit.")
    materialized_at: dt.datetime | None = Field(
        description="Time of the latest Dagster materialisation (None without an instance)."
    )
    checks: list[CatalogCheck]

    @property
    def page(self) -> str:
        """The file name of the table's page (``<domain>__<layer>__<table>.html``)."""
        return page_name(self.key)

    @property
    def last_update(self) -> dt.datetime | None:
        """The latest materialisation, else the latest Delta commit."""
        return self.materialized_at or self.lake_updated_at

    @property
    def check_counts(self) -> Counter[CheckOutcome]:
        """How many checks have each outcome."""
        return Counter(check.outcome for check in self.checks)


class CatalogModel(BaseModel):
    """The whole mesh as the catalog shows it."""

    model_config = ConfigDict(frozen=True)

    generated_at: dt.datetime
    lake_root: str
    dagster_home: str | None = Field(description="The instance read, None when there is none.")
    tables: list[CatalogTable]
    problems: list[Violation] = Field(
        default_factory=list,
        description="What stopped a code location or a table (not listed, being unknown).",
    )

    @property
    def domains(self) -> dict[str, list[CatalogTable]]:
        """Tables by domain, domains and tables in name order."""
        grouped: dict[str, list[CatalogTable]] = defaultdict(list)
        for table in sorted(self.tables, key=lambda t: t.key):
            grouped[table.domain].append(table)
        return dict(sorted(grouped.items()))

    def table(self, key: str) -> CatalogTable | None:
        """The table called ``key`` (``domain/layer/table``), if the catalog has it."""
        return next((t for t in self.tables if t.key == key), None)


def page_name(key: str) -> str:
    """The page file of the table ``domain/layer/table``."""
    return key.replace("/", "__") + ".html"


def build_catalog(*, now: dt.datetime | None = None) -> CatalogModel:
    """Gather the catalog of the mesh the environment points at (see ``resolve_settings``).

    A code location that does not load, or a table whose contract cannot be used, is kept as one
    of the model's ``problems``; the other tables are all there.
    """
    settings = resolve_settings()
    mesh = load_mesh(settings.project_root)
    listings = list_tables(mesh, settings)
    registry = project_registry(settings.project_root)
    reads = {key: table.reads for key, table in mesh.tables.items()}
    consumers = _consumers(reads)
    checks = _check_specs(mesh)
    recorded = _read_instance(
        settings.dagster_home,
        [to_asset_key(TableKey.parse(listing.key)) for listing in listings],
        [check_key for keys in checks.values() for check_key in keys],
    )
    tables = []
    for listing in listings:
        key = TableKey.parse(listing.key)
        tables.append(
            _table(
                listing,
                settings=settings,
                contract=registry.get(key),
                reads=reads.get(key, ()),
                consumers=consumers.get(listing.key, []),
                checks=checks.get(to_asset_key(key), {}),
                recorded=recorded,
            )
        )
    return CatalogModel(
        generated_at=now or dt.datetime.now(dt.UTC),
        lake_root=settings.lake_root,
        dagster_home=str(settings.dagster_home) if recorded.present else None,
        tables=tables,
        problems=list(mesh.problems),
    )


def _table(
    listing: TableListing,
    *,
    settings: MeshSettings,
    contract: TableContract | None,
    reads: Iterable[DeclaredRead],
    consumers: list[CatalogEdge],
    checks: Mapping[AssetCheckKey, tuple[str, bool]],
    recorded: "_Recorded",
) -> CatalogTable:
    key = TableKey.parse(listing.key)
    columns, source = _columns(contract, listing)
    return CatalogTable(
        key=listing.key,
        domain=listing.domain,
        layer=listing.layer,
        table=listing.table,
        uri=listing.uri,
        owners=listing.owners,
        access=contract.access.value if contract else None,
        contract=_contract(contract, settings.project_root) if contract else None,
        columns=columns,
        columns_source=source,
        freshness=contract.freshness if contract else None,
        quarantine_of=listing.quarantine_of,
        producers=[_edge(read.table, read) for read in reads],
        consumers=consumers,
        rows=listing.rows,
        delta_version=listing.version,
        lake_updated_at=_latest_commit(listing.uri) if listing.version is not None else None,
        materialized_at=recorded.materializations.get(to_asset_key(key)),
        checks=[
            _check(check_key.name, description, blocking, recorded.checks.get(check_key))
            for check_key, (description, blocking) in sorted(
                checks.items(), key=lambda item: item[0].name
            )
        ],
    )


def _contract(contract: TableContract, project_root: Path) -> CatalogContract:
    path = contract.source.resolve()
    try:
        shown = str(path.relative_to(project_root.resolve()))
    except ValueError:
        shown = str(path)
    return CatalogContract(
        id=contract.id,
        version=contract.version,
        status=contract.status,
        name=contract.name,
        description=contract.description,
        deprecation_date=contract.deprecation_date,
        path=shown,
    )


def _columns(
    contract: TableContract | None, listing: TableListing
) -> tuple[list[CatalogColumn], ColumnSource]:
    if contract is not None:
        return [
            CatalogColumn(
                name=c.name,
                type=c.type_name,
                required=c.required,
                unique=c.unique,
                classification=c.classification,
                description=c.description,
            )
            for c in contract.columns
        ], ColumnSource.CONTRACT
    if listing.version is None:
        return [], ColumnSource.NONE
    schema = open_dataset(listing.uri).schema
    return [
        CatalogColumn(name=column.name, type=str(column.type), required=not column.nullable)
        for column in schema
    ], ColumnSource.LAKE


def _latest_commit(uri: str) -> dt.datetime | None:
    if not table_exists(uri):
        return None
    history = DeltaTable(uri).history(1)
    millis = history[0].get("timestamp") if history else None
    return dt.datetime.fromtimestamp(millis / 1000, dt.UTC) if isinstance(millis, int) else None


def _edge(other: TableKey, read: DeclaredRead) -> CatalogEdge:
    return CatalogEdge(key=str(other), domain=other.domain, major=read.major, columns=read.columns)


def _consumers(reads: Mapping[TableKey, Iterable[DeclaredRead]]) -> dict[str, list[CatalogEdge]]:
    """Producer key -> the edges of the tables reading it."""
    consumers: dict[str, list[CatalogEdge]] = defaultdict(list)
    for consumer, declared in sorted(reads.items(), key=lambda item: str(item[0])):
        for read in declared:
            consumers[str(read.table)].append(_edge(consumer, read))
    return consumers


def _check_specs(mesh: Mesh) -> dict[AssetKey, dict[AssetCheckKey, tuple[str, bool]]]:
    """Asset key -> its checks -> (description, blocking), from every code location."""
    specs: dict[AssetKey, dict[AssetCheckKey, tuple[str, bool]]] = defaultdict(dict)
    for name in mesh.loaded_domains:
        asset_graph = mesh.definitions(name).resolve_asset_graph()
        for check_key in asset_graph.asset_check_keys:
            spec = asset_graph.get_check_spec(check_key)
            specs[check_key.asset_key][check_key] = (spec.description or "", spec.blocking)
    return specs


def _check(
    name: str, description: str, blocking: bool, record: "_CheckRecord | None"
) -> CatalogCheck:
    if record is None:
        return CatalogCheck(name=name, description=description, blocking=blocking)
    return CatalogCheck(
        name=name,
        description=description,
        blocking=blocking,
        outcome=record.outcome,
        message=record.message,
        evaluated_at=record.at,
    )


@dataclass(frozen=True)
class _CheckRecord:
    outcome: CheckOutcome
    message: str | None
    at: dt.datetime


@dataclass(frozen=True)
class _Recorded:
    """What the Dagster instance recorded (empty when there is no instance)."""

    present: bool = False
    materializations: dict[AssetKey, dt.datetime] = field(default_factory=dict)
    checks: dict[AssetCheckKey, _CheckRecord] = field(default_factory=dict)


def instance_exists(home: Path) -> bool:
    """Whether ``home`` holds a Dagster instance (its config or its storage)."""
    return (home / INSTANCE_CONFIG_FILE).is_file() or (home / INSTANCE_STORAGE_FOLDER).is_dir()


def _read_instance(
    home: Path, asset_keys: list[AssetKey], check_keys: list[AssetCheckKey]
) -> _Recorded:
    """The latest materialisations and check executions, if an instance exists at ``home``."""
    if not instance_exists(home):
        return _Recorded()
    with DagsterInstance.from_config(str(home)) as instance:
        events = instance.get_latest_materialization_events(asset_keys)
        executions = (
            instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
            if check_keys
            else {}
        )
    materializations = {
        key: _utc(event.timestamp) for key, event in events.items() if event is not None
    }
    checks = {}
    for check_key, execution in executions.items():
        evaluation = execution.evaluation
        if evaluation is None:
            outcome, message = CheckOutcome.NOT_EVALUATED, None
        elif evaluation.passed:
            outcome, message = CheckOutcome.PASSED, evaluation.description
        elif evaluation.severity is AssetCheckSeverity.ERROR:
            outcome, message = CheckOutcome.FAILED, evaluation.description
        else:
            outcome, message = CheckOutcome.WARNED, evaluation.description
        at = execution.event.timestamp if execution.event else execution.create_timestamp
        checks[check_key] = _CheckRecord(outcome=outcome, message=message, at=_utc(at))
    return _Recorded(present=True, materializations=materializations, checks=checks)


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


__all__ = [
    "CatalogCheck",
    "CatalogColumn",
    "CatalogContract",
    "CatalogEdge",
    "CatalogModel",
    "CatalogTable",
    "CheckOutcome",
    "ColumnSource",
    "build_catalog",
    "instance_exists",
    "page_name",
]
