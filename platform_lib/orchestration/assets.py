"""Mesh declarations + contracts -> Dagster assets, every convention applied here and nowhere else.

Each asset gets the key ``[domain, layer, table]``, the domain as group, the contract's team as
owners, ``kinds`` ``{"delta"}``, the standard tags, the contract's column schema, id and version as
metadata, a freshness policy from the contract's SLA, and one asset check per contract rule (plus
``schema`` and ``quarantine_threshold``), whose results come from the write-time validation: no
second scan.
"""

import inspect
from collections.abc import Iterator
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    DailyPartitionsDefinition,
    Failure,
    FreshnessPolicy,
    MaterializeResult,
    asset,
)
from dagster_duckdb import DuckDBResource

from platform_lib.contracts.access import ReadDecision, read_decision
from platform_lib.contracts.model import TableContract
from platform_lib.contracts.registry import ContractRegistry, project_registry
from platform_lib.contracts.rules import SCHEMA_RULE, THRESHOLD_RULE
from platform_lib.conventions import ARRIVAL_SEQUENCE, DELTA_KIND, Layer, TableKey, standard_tags
from platform_lib.errors import MeshError
from platform_lib.lake.duckdb_inputs import mask_columns, register_input
from platform_lib.lake.partitions import PARTITION_RULE, PARTITION_TYPES, PartitionWrite
from platform_lib.lake.publish import publish_rows
from platform_lib.lake.publish.append_inputs import InputVersions
from platform_lib.lake.publish.request import PublishRequest
from platform_lib.lake.raw_ingest import LandingSource, ingest_landing_folder
from platform_lib.lake.reader import (
    latest_version,
    open_dataset,
    table_exists,
    table_state,
)
from platform_lib.lake.write_scope import loading_declared_reads, writing_for
from platform_lib.orchestration.automation import consumer_condition
from platform_lib.orchestration.keys import to_asset_key
from platform_lib.orchestration.metadata import (
    READS_METADATA,
    already_appended_metadata,
    definition_metadata,
    ingest_metadata,
    publish_metadata,
    reads_metadata,
)
from platform_lib.orchestration.table_spec import (
    CONTEXT_PARAMETER,
    DUCKDB_PARAMETER,
    PARTITION_PARAMETER,
    TableLike,
    TableSpec,
)
from platform_lib.quality.engine import validate_batch
from platform_lib.quality.results import RuleResult
from platform_lib.quality.stream import DEFAULT_BATCH_ROWS
from platform_lib.settings import MeshSettings, resolve_settings
from platform_lib.sql import quote_identifier, use_utc

DUCKDB_RESOURCE = "duckdb"


def table_asset(
    spec: TableSpec,
    domain: str,
    contract: TableContract,
    *,
    settings: MeshSettings | None = None,
    contracts: ContractRegistry | None = None,
) -> AssetsDefinition:
    """The Dagster asset of a domain's table declaration, governed by its contract.

    ``settings`` give the location shown in the definition's metadata (default: resolved now;
    ``domain_definitions`` resolves them once per domain); a run resolves its own. ``contracts``
    hold the contracts of the tables it reads (default: the project's), which decide whether each
    read is allowed and which columns arrive masked (``platform_lib.contracts.access``).
    """
    key = spec.key(domain)
    partition_type = _partition_type(spec, contract)
    registry = contracts or project_registry((settings or resolve_settings()).project_root)
    decisions = {
        name: read_decision(
            contract, read.table, registry.get(read.table), columns=read.column_names
        )
        for name, read in spec.reads.items()
    }

    @asset(
        key=to_asset_key(key),
        description=contract.description or spec.description or None,
        group_name=domain,
        owners=list(contract.owners),
        kinds={DELTA_KIND},
        tags=standard_tags(key),
        metadata={
            **definition_metadata(key, key.uri(settings or resolve_settings()), contract),
            READS_METADATA: reads_metadata(spec.reads.values()),
        },
        deps=[to_asset_key(read.table) for read in spec.reads.values()],
        check_specs=check_specs(
            key, contract, blocking=True, partitioned=spec.partition is not None
        ),
        freshness_policy=_freshness(contract),
        automation_condition=consumer_condition(),
        partitions_def=_daily(spec),
        required_resource_keys={DUCKDB_RESOURCE},
        output_required=False,
    )
    def _materialize(context: AssetExecutionContext) -> Iterator[Any]:
        settings = resolve_settings()
        resource: DuckDBResource = getattr(context.resources, DUCKDB_RESOURCE)
        partition = None
        if spec.partition is not None and partition_type is not None:
            day = spec.partition.day(context.partition_key)
            partition = PartitionWrite(spec.partition, day, partition_type)
        with (
            writing_for(domain),
            resource.get_connection() as connection,  # open while a DuckDB result streams
        ):
            use_utc(connection)  # a timestamp's day is its UTC day, on any machine
            rows, inputs = _run_compute(spec, context, connection, partition, decisions)
            request = PublishRequest(
                key,
                contract=contract,
                mode=spec.mode,
                settings=settings,
                run_id=context.run_id,
                partition_by=spec.partition_by,
                partition=partition,
                inputs=inputs,
            )
            outcome = publish_rows(request, rows)
        checks = [check_result(result) for result in outcome.validation.rules]
        if outcome.already_appended is not None:
            metadata = already_appended_metadata(
                outcome, contract, key.uri(settings), inputs.describe()
            )
            context.log.info(f"{key}: {metadata['mesh/note']}")
            yield MaterializeResult(metadata=metadata, check_results=checks)
            return
        if not outcome.committed:
            yield from checks
            failed = "; ".join(
                f"{r.rule_id}: {r.message}" for r in outcome.validation.failed_blocking
            )
            raise Failure(
                description=f"{key}: nothing committed, the table keeps its previous version. "
                f"Failed: {failed}",
                allow_retries=False,
            )
        yield MaterializeResult(
            metadata=publish_metadata(outcome, contract, key.uri(settings)),
            check_results=checks,
        )

    return _materialize


def raw_asset(
    source: LandingSource,
    domain: str,
    contract: TableContract,
    *,
    settings: MeshSettings | None = None,
) -> AssetsDefinition:
    """The Dagster asset ingesting a landing source into its append-only raw table.

    Raw keeps every record, so the contract's rules only observe: their checks warn, never block.
    ``settings`` as for :func:`table_asset`.
    """
    key = TableKey(domain=domain, layer=Layer.RAW, table=source.table)
    _check_raw_contract(source, contract)

    @asset(
        key=to_asset_key(key),
        description=contract.description
        or source.description
        or f"Every record of the landing files {source.folder}/{source.pattern}, as text.",
        group_name=domain,
        owners=list(contract.owners),
        kinds={DELTA_KIND},
        tags=standard_tags(key),
        metadata=definition_metadata(key, key.uri(settings or resolve_settings()), contract),
        check_specs=check_specs(key, contract, blocking=False),
        freshness_policy=_freshness(contract),
    )
    def _ingest() -> MaterializeResult:
        settings = resolve_settings()
        uri = key.uri(settings)
        with writing_for(domain):
            result = ingest_landing_folder(source, settings.landing_root, uri)
        state = table_state(uri)
        if state is None:
            raise Failure(description=f"{key}: the raw table at {uri} was not written")
        observed = validate_batch(result.rows, contract).result.rules
        return MaterializeResult(
            metadata=ingest_metadata(result, contract, uri, state),
            check_results=[
                check_result(r, force_warn=True) for r in observed if r.rule_id != THRESHOLD_RULE
            ],
        )

    return _ingest


def check_specs(
    key: TableKey, contract: TableContract, *, blocking: bool, partitioned: bool = False
) -> list[AssetCheckSpec]:
    """One check per contract rule, plus the platform's schema and quarantine checks (and, for
    a daily-partitioned table, the check that every row falls on the day written)."""
    asset_key = to_asset_key(key)
    specs = [
        AssetCheckSpec(
            name=rule.id,
            asset=asset_key,
            description=rule.description or f"{rule.kind} rule {rule.id}",
            blocking=blocking and rule.blocking,
            metadata={"mesh/contract_field": ".".join(str(p) for p in rule.field)},
        )
        for rule in contract.rules
    ]
    specs.append(
        AssetCheckSpec(
            name=SCHEMA_RULE,
            asset=asset_key,
            description="The batch has the contract's columns and no others.",
            blocking=blocking,
        )
    )
    if partitioned:
        specs.append(
            AssetCheckSpec(
                name=PARTITION_RULE,
                asset=asset_key,
                description="Every row falls on the UTC day of the partition written; "
                "others are quarantined.",
            )
        )
    if blocking:
        specs.append(
            AssetCheckSpec(
                name=THRESHOLD_RULE,
                asset=asset_key,
                description="The share of rejected rows stays within the contract's "
                f"quarantineThreshold ({contract.quarantine_threshold:.0%}).",
                blocking=True,
            )
        )
    return specs


def check_result(result: RuleResult, *, force_warn: bool = False) -> AssetCheckResult:
    """The Dagster check result of one rule's outcome."""
    severity = (
        AssetCheckSeverity.ERROR if result.blocking and not force_warn else AssetCheckSeverity.WARN
    )
    metadata: dict[str, Any] = {"threshold": result.threshold, "message": result.message}
    if result.observed is not None:
        metadata["observed"] = result.observed
    if result.failed_rows is not None:
        metadata["failed_rows"] = result.failed_rows
    if result.samples:
        metadata["samples"] = ", ".join(result.samples)
    return AssetCheckResult(
        check_name=result.rule_id,
        passed=result.passed,
        severity=severity,
        description=result.message,
        metadata=metadata,
    )


def _daily(spec: TableSpec) -> DailyPartitionsDefinition | None:
    if spec.partition is None:
        return None
    return DailyPartitionsDefinition(start_date=spec.partition.start.isoformat(), timezone="UTC")


def _partition_type(spec: TableSpec, contract: TableContract) -> str | None:
    """The contract type of the table's partition column; a MeshError when it cannot be one."""
    if spec.partition is None:
        return None
    column = next((c for c in contract.columns if c.name == spec.partition.column), None)
    if column is None or column.type_name not in PARTITION_TYPES or not column.required:
        found = "missing" if column is None else f"{column.type_name}, required={column.required}"
        raise MeshError(
            f"{contract.source}: the partition column {spec.partition.column!r} of "
            f"{contract.key} must be a required date or timestamp_tz column (found: {found})",
            fix=f"declare {spec.partition.column!r} in the contract with physicalType date or "
            "timestamp_tz and required: true",
        )
    return column.type_name


def _freshness(contract: TableContract) -> FreshnessPolicy | None:
    if contract.freshness is None:
        return None
    return FreshnessPolicy.time_window(fail_window=contract.freshness)


def _check_raw_contract(source: LandingSource, contract: TableContract) -> None:
    expected = [field.name for field in source.arrow_schema()]
    declared = [column.name for column in contract.columns]
    if expected == declared:
        return
    missing = [name for name in expected if name not in declared]
    fix = "list the source's columns (as strings) then the envelope columns, in order"
    if missing and [name for name in expected if name not in missing] == declared:
        lines = "; ".join(_property_line(source.arrow_schema().field(name)) for name in missing)
        fix = f"add the missing column(s) in their place: {lines}"
    raise MeshError(
        f"{contract.source}: the raw contract lists columns {declared}, "
        f"the source {source.folder} produces {expected}",
        fix=fix,
    )


def _property_line(field: pa.Field) -> str:
    """The contract property of an envelope column, as one YAML line (not ``required``: adding
    a column stays a compatible change for consumers)."""
    if pa.types.is_integer(field.type):
        logical, physical = "integer", "int64"
    elif pa.types.is_timestamp(field.type):
        logical, physical = "timestamp", "timestamp_tz"
    else:
        logical, physical = "string", "string"
    return f"- {{name: {field.name}, logicalType: {logical}, physicalType: {physical}}}"


def _run_compute(
    spec: TableSpec,
    context: AssetExecutionContext,
    connection: duckdb.DuckDBPyConnection,
    partition: PartitionWrite | None,
    decisions: dict[str, ReadDecision],
) -> tuple[pa.Table | pa.RecordBatchReader, InputVersions]:
    """Load the declared reads (refusing private tables of other domains, masking restricted
    columns as ``decisions`` say), call the domain's function, and return its rows as Arrow (a
    stream when the function returned one, or a DuckDB relation) with the version of each table
    read (every read sees that one version)."""
    settings = resolve_settings()
    parameters = inspect.signature(spec.compute).parameters
    arguments: dict[str, Any] = {}
    versions: dict[str, int] = {}
    with loading_declared_reads():
        for name, read in spec.reads.items():
            decision = decisions[name]
            if decision.refusal is not None:
                raise Failure(description=decision.refusal, allow_retries=False)
            uri = read.table.uri(settings)
            if not table_exists(uri):
                raise Failure(
                    description=f"{read.table} has not been materialised yet (no table at {uri})",
                )
            version = versions[str(read.table)] = latest_version(uri)
            dataset = open_dataset(uri, version=version)
            _require_arrival_numbers(read.table, dataset.schema)
            if decision.masked:
                masked = mask_columns(dataset, read.column_names, decision.masked)
                context.log.info(f"{read.table}: columns {', '.join(decision.masked)} masked")
                register_input(connection, name, masked)
                if name in parameters:
                    arguments[name] = masked
                continue
            register_input(connection, name, dataset, read.column_names)
            if name in parameters:
                columns = list(read.column_names) if read.column_names is not None else None
                arguments[name] = dataset.to_table(columns=columns)
    if CONTEXT_PARAMETER in parameters:
        arguments[CONTEXT_PARAMETER] = context
    if DUCKDB_PARAMETER in parameters:
        arguments[DUCKDB_PARAMETER] = connection
    if PARTITION_PARAMETER in parameters and partition is not None:
        arguments[PARTITION_PARAMETER] = partition.day
    return to_arrow(spec.compute(**arguments)), InputVersions.of(versions)


def _require_arrival_numbers(key: TableKey, schema: pa.Schema) -> None:
    """Stop with a clear failure when the raw table ``key`` (of ``schema``, the version read) was
    written before raw records had arrival numbers: its next ingestion numbers them (see
    ``upgrade_to_arrival_order``)."""
    if key.layer is Layer.RAW and ARRIVAL_SEQUENCE not in schema.names:
        raise Failure(
            description=f"{key} has no arrival numbers yet ({ARRIVAL_SEQUENCE}: it was written "
            f"by an earlier version); materialise it first, which numbers its records: "
            f"mesh materialize --select {key}",
            allow_retries=False,
        )


def to_arrow(rows: TableLike) -> pa.Table | pa.RecordBatchReader:
    """Normalise what a compute function returned to Arrow: a table, or a stream of batches for a
    stream or a DuckDB relation (never read whole here: ``publish_rows`` streams what is large).

    A DuckDB relation whose rows carry the arrival sequence is ordered by it here (DuckDB sorts
    out of memory when it must), so its stream arrives in arrival order and the first to arrive
    wins (see :mod:`platform_lib.lake.publish.arrival_order`)."""
    if isinstance(rows, pa.Table | pa.RecordBatchReader):
        return rows
    if isinstance(rows, duckdb.DuckDBPyRelation):
        if ARRIVAL_SEQUENCE in rows.columns:
            rows = rows.order(quote_identifier(ARRIVAL_SEQUENCE))
        return rows.to_arrow_reader(DEFAULT_BATCH_ROWS)
    if isinstance(rows, pl.DataFrame):
        return rows.to_arrow()
    raise TypeError(
        f"a table function returned {type(rows).__name__}; "
        "return a pyarrow Table, a DuckDB relation or a polars DataFrame"
    )
