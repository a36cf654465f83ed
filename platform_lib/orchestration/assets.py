"""Mesh declarations -> Dagster assets, with every convention applied here and nowhere else.

Each asset gets the key ``[domain, layer, table]``, the domain as group, the owners, ``kinds``
``{"delta"}``, the standard tags and metadata, one asset check per quality rule (blocking rules
block), and a compute step that loads the declared reads and write-audit-publishes the result.
"""

import inspect
from collections.abc import Iterator, Sequence
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
    Failure,
    MaterializeResult,
    asset,
)
from dagster_duckdb import DuckDBResource

from platform_lib.conventions import DELTA_KIND, Layer, TableKey, standard_tags
from platform_lib.lake.publish import publish
from platform_lib.lake.raw_ingest import CsvSource, ingest_csv_folder
from platform_lib.lake.reader import open_dataset, read_arrow, table_exists, table_state
from platform_lib.lake.sql import register_input
from platform_lib.orchestration.metadata import (
    definition_metadata,
    ingest_metadata,
    publish_metadata,
)
from platform_lib.orchestration.table_spec import (
    CONTEXT_PARAMETER,
    DUCKDB_PARAMETER,
    Read,
    TableLike,
    TableSpec,
)
from platform_lib.quality.engine import RuleResult
from platform_lib.settings import resolve_settings

DUCKDB_RESOURCE = "duckdb"
PARSEABLE_CHECK = "records_parseable"


def table_asset(spec: TableSpec, domain: str, owners: Sequence[str]) -> AssetsDefinition:
    """The Dagster asset of a domain's table declaration."""
    key = spec.key(domain)
    # Where the table lives as the code location loads; each run resolves it again.
    uri_at_load = key.uri(resolve_settings())
    check_specs = [
        AssetCheckSpec(
            name=rule.id,
            asset=key.asset_key,
            description=rule.description or f"{rule.kind} rule {rule.id}",
            blocking=rule.blocking,
        )
        for rule in spec.rules
    ]

    @asset(
        key=key.asset_key,
        description=spec.description or None,
        group_name=domain,
        owners=list(owners),
        kinds={DELTA_KIND},
        tags=standard_tags(key),
        metadata=definition_metadata(key, uri_at_load),
        deps=[read.table.asset_key for read in spec.reads.values()],
        check_specs=check_specs,
        required_resource_keys={DUCKDB_RESOURCE},
        output_required=False,
    )
    def _materialize(context: AssetExecutionContext) -> Iterator[Any]:
        settings = resolve_settings()
        resource: DuckDBResource = getattr(context.resources, DUCKDB_RESOURCE)
        with resource.get_connection() as connection:
            rows = _run_compute(spec, context, connection)
        outcome = publish(
            key,
            rows,
            rules=spec.rules,
            mode=spec.mode,
            settings=settings,
            partition_by=spec.partition_by,
        )
        checks = [_check_result(result) for result in outcome.validation.rules]
        if not outcome.committed:
            yield from checks
            failed = [r.rule_id for r in outcome.validation.rules if r.blocking and not r.passed]
            raise Failure(
                description=f"{key}: blocking rule(s) {', '.join(failed)} failed; "
                "nothing was committed and the table keeps its previous version",
                allow_retries=False,
            )
        uri = key.uri(settings)
        yield MaterializeResult(
            metadata=publish_metadata(outcome, open_dataset(uri).schema, uri),
            check_results=checks,
        )

    return _materialize


def raw_asset(source: CsvSource, domain: str, owners: Sequence[str]) -> AssetsDefinition:
    """The Dagster asset ingesting a landing source into its append-only raw table."""
    key = TableKey(domain=domain, layer=Layer.RAW, table=source.table)
    uri_at_load = key.uri(resolve_settings())

    @asset(
        key=key.asset_key,
        description=source.description
        or f"Every record of the landing files {source.folder}/{source.pattern}, as text.",
        group_name=domain,
        owners=list(owners),
        kinds={DELTA_KIND},
        tags=standard_tags(key),
        metadata=definition_metadata(key, uri_at_load),
        check_specs=[
            AssetCheckSpec(
                name=PARSEABLE_CHECK,
                asset=key.asset_key,
                description="Warns when records of this batch could not be parsed "
                "(they are kept with their original text and the parse error).",
            )
        ],
    )
    def _ingest() -> MaterializeResult:
        settings = resolve_settings()
        uri = key.uri(settings)
        result = ingest_csv_folder(source, settings.landing_root, uri)
        state = table_state(uri)
        if state is None:
            raise Failure(description=f"{key}: the raw table at {uri} was not written")
        return MaterializeResult(
            metadata=ingest_metadata(result, source.arrow_schema(), uri, state),
            check_results=[
                AssetCheckResult(
                    check_name=PARSEABLE_CHECK,
                    passed=result.unparseable == 0,
                    severity=AssetCheckSeverity.WARN,
                    metadata={"unparseable": result.unparseable, "records": result.records},
                )
            ],
        )

    return _ingest


def _run_compute(
    spec: TableSpec, context: AssetExecutionContext, connection: duckdb.DuckDBPyConnection
) -> pa.Table:
    """Load the declared reads, call the domain's function, and return its rows as Arrow."""
    settings = resolve_settings()
    parameters = inspect.signature(spec.compute).parameters
    arguments: dict[str, Any] = {}
    for name, read in spec.reads.items():
        uri = read.table.uri(settings)
        if not table_exists(uri):
            raise Failure(
                description=f"{read.table} has not been materialised yet (no table at {uri})",
            )
        register_input(connection, name, open_dataset(uri), read.columns)
        if name in parameters:
            arguments[name] = read_arrow(uri, read.columns)
    if CONTEXT_PARAMETER in parameters:
        arguments[CONTEXT_PARAMETER] = context
    if DUCKDB_PARAMETER in parameters:
        arguments[DUCKDB_PARAMETER] = connection
    return to_arrow(spec.compute(**arguments))


def to_arrow(rows: TableLike) -> pa.Table:
    """Normalise what a compute function returned to an Arrow table."""
    if isinstance(rows, pa.Table):
        return rows
    if isinstance(rows, pa.RecordBatchReader):
        return rows.read_all()
    if isinstance(rows, duckdb.DuckDBPyRelation):
        return rows.to_arrow_table()
    if isinstance(rows, pl.DataFrame):
        return rows.to_arrow()
    raise TypeError(
        f"a table function returned {type(rows).__name__}; "
        "return a pyarrow Table, a DuckDB relation or a polars DataFrame"
    )


def _check_result(result: RuleResult) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=result.rule_id,
        passed=result.passed,
        severity=AssetCheckSeverity.ERROR if result.blocking else AssetCheckSeverity.WARN,
        description=result.message,
        metadata={
            key: value
            for key, value in (
                ("failed_rows", result.failed_rows),
                ("observed", result.observed),
            )
            if value is not None
        },
    )


__all__ = ["Read", "raw_asset", "table_asset", "to_arrow"]
