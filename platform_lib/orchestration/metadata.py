"""Standard Dagster metadata for mesh tables, under Dagster's own keys where one exists."""

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from dagster import MetadataValue, TableColumn, TableColumnConstraints, TableSchema

from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.lake.publish.outcome import PublishOutcome
from platform_lib.lake.raw_ingest import IngestResult
from platform_lib.lake.reader import TableState
from platform_lib.orchestration.table_spec import Read


def contract_column_schema(contract: TableContract) -> TableSchema:
    """The ``dagster/column_schema`` of a contract: types, nullability, uniqueness, tags."""
    return TableSchema(
        columns=[
            TableColumn(
                name=c.name,
                type=c.type_name,
                description=c.description or None,
                constraints=TableColumnConstraints(nullable=not c.required, unique=c.unique),
                tags={"classification": c.classification} if c.classification else None,
            )
            for c in contract.columns
        ]
    )


def arrow_column_schema(schema: pa.Schema) -> TableSchema:
    """The ``dagster/column_schema`` of an Arrow schema (for tables without a contract)."""
    return TableSchema(
        columns=[
            TableColumn(
                name=f.name,
                type=str(f.type),
                constraints=TableColumnConstraints(nullable=f.nullable),
            )
            for f in schema
        ]
    )


READS_METADATA = "mesh/reads"
"""Definition metadata listing an asset's declared reads (read back by ``mesh check``)."""


NOT_LOADED_METADATA = "mesh/not_loaded"
"""Definition metadata of a table that cannot be materialised because a contract it needs is
broken: ``{"message", "fix", "cause"}`` (read back by the mesh, which reports it)."""


def reads_metadata(reads: Iterable[Read]) -> MetadataValue:
    """The declared reads as JSON metadata: table, accepted major, columns with expected types."""
    return MetadataValue.json(
        [{"table": str(read.table), "major": read.major, "columns": read.columns} for read in reads]
    )


def definition_metadata(key: TableKey, uri: str, contract: TableContract) -> dict[str, Any]:
    """Metadata every mesh asset carries in its definition."""
    return {
        "dagster/uri": uri,
        "dagster/table_name": f"{key.domain}.{key.layer.value}.{key.table}",
        "dagster/column_schema": contract_column_schema(contract),
        "mesh/contract_id": contract.id,
        "mesh/contract_version": contract.version,
        "mesh/contract_file": MetadataValue.path(str(contract.source)),
        "mesh/access": contract.access.value,
        "mesh/quarantine_table": str(key.quarantine),
    }


def publish_metadata(outcome: PublishOutcome, contract: TableContract, uri: str) -> dict[str, Any]:
    """Metadata of a materialisation that published a batch."""
    published = outcome.published
    validation = outcome.validation
    return {
        "dagster/uri": uri,
        "dagster/column_schema": contract_column_schema(contract),
        "dagster/row_count": outcome.table_rows or 0,
        "mesh/delta_version": published.version if published else -1,
        "mesh/run_id": outcome.run_id,
        "mesh/contract_version": contract.version,
        "mesh/rows_in": validation.rows_in,
        "mesh/rows_published": validation.rows_valid,
        "mesh/rows_quarantined": validation.rows_rejected,
        "mesh/quarantined_by_rule": validation.rejected_by_rule,
        "mesh/reconciled_quarantine_rows": outcome.reconciled_rows,
    }


def already_appended_metadata(
    outcome: PublishOutcome, contract: TableContract, uri: str, inputs: str
) -> dict[str, Any]:
    """Metadata of a materialisation of an append table that committed nothing: the inputs
    ``inputs`` (``table@version, ...``) were appended before, at ``outcome.already_appended``."""
    return {
        "dagster/uri": uri,
        "dagster/column_schema": contract_column_schema(contract),
        "dagster/row_count": outcome.table_rows or 0,
        "mesh/delta_version": outcome.table_version if outcome.table_version is not None else -1,
        "mesh/run_id": outcome.run_id,
        "mesh/contract_version": contract.version,
        "mesh/already_appended_at": outcome.already_appended,
        "mesh/note": f"already appended from these inputs ({inputs}) at version "
        f"{outcome.already_appended}; nothing committed",
    }


def ingest_metadata(
    result: IngestResult, contract: TableContract, uri: str, state: TableState
) -> dict[str, Any]:
    """Metadata of a raw ingestion."""
    return {
        "dagster/uri": uri,
        "dagster/column_schema": contract_column_schema(contract),
        "dagster/row_count": state.rows,
        "mesh/delta_version": state.version,
        "mesh/batch_id": result.batch_id,
        "mesh/records_added": result.records,
        "mesh/unparseable_records_added": result.unparseable,
        "mesh/files_ingested": list(result.files_ingested),
        "mesh/files_already_ingested": len(result.files_skipped),
    }
