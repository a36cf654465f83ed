"""Standard Dagster metadata for mesh tables, under Dagster's own keys where one exists."""

from typing import Any

import pyarrow as pa
from dagster import TableColumn, TableColumnConstraints, TableSchema

from platform_lib.conventions import TableKey
from platform_lib.lake.publish import PublishOutcome
from platform_lib.lake.raw_ingest import IngestResult
from platform_lib.lake.reader import TableState


def column_schema(schema: pa.Schema) -> TableSchema:
    """The ``dagster/column_schema`` of an Arrow schema."""
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


def definition_metadata(key: TableKey, uri: str) -> dict[str, Any]:
    """Metadata every mesh asset carries in its definition."""
    return {
        "dagster/uri": uri,
        "dagster/table_name": f"{key.domain}.{key.layer.value}.{key.table}",
    }


def publish_metadata(outcome: PublishOutcome, schema: pa.Schema, uri: str) -> dict[str, Any]:
    """Metadata of a materialisation that published a batch."""
    published = outcome.published
    validation = outcome.validation
    metadata: dict[str, Any] = {
        "dagster/uri": uri,
        "dagster/column_schema": column_schema(schema),
        "dagster/row_count": outcome.table_rows or 0,
        "mesh/delta_version": published.version if published else -1,
        "mesh/batch_id": outcome.batch_id,
        "mesh/rows_in": validation.rows_in,
        "mesh/rows_published": validation.rows_valid,
        "mesh/rows_quarantined": validation.rows_rejected,
        "mesh/quarantined_by_rule": validation.rejected_by_rule,
    }
    if outcome.quarantined is not None:
        metadata["mesh/quarantine_uri"] = outcome.quarantined.uri
    return metadata


def ingest_metadata(
    result: IngestResult, schema: pa.Schema, uri: str, state: TableState
) -> dict[str, Any]:
    """Metadata of a raw ingestion."""
    return {
        "dagster/uri": uri,
        "dagster/column_schema": column_schema(schema),
        "dagster/row_count": state.rows,
        "mesh/delta_version": state.version,
        "mesh/batch_id": result.batch_id,
        "mesh/records_added": result.records,
        "mesh/unparseable_records_added": result.unparseable,
        "mesh/files_ingested": list(result.files_ingested),
        "mesh/files_already_ingested": len(result.files_skipped),
    }
