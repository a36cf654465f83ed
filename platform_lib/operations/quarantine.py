"""A table's quarantine: rows by rule, sample rows with their original raw lines, and export.

Every quarantine has one shape, whatever the layer (see
:mod:`~platform_lib.lake.publish.quarantine`): each quarantined row keeps its values of the
contract's columns as text (the value that arrived, exactly: a decimal with its scale, a timestamp
in ISO-8601 with its zone, a nested value as JSON), then ``violated_rules``, ``run_id`` and
``row_hash``; rows of a table built from landing files also carry their lineage
(``_source_file``, ``_line_number``, ``_raw_record``), and rows of a daily table their
``partition_key``.
"""

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict

from platform_lib.conventions import QUARANTINE_SUFFIX, Layer, TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.publish.quarantine import is_value_column
from platform_lib.lake.reader import open_dataset, table_exists
from platform_lib.mesh.graph import Mesh
from platform_lib.operations.status import quarantine_counts
from platform_lib.settings import MeshSettings, resolve_settings

LINEAGE_COLUMNS = ("_source_file", "_line_number", "_raw_record")
DEFAULT_SAMPLE_ROWS = 10
_SELECT = "SELECT * FROM quarantine WHERE $rule IS NULL OR list_contains(violated_rules, $rule)"
LANDING_ORDER_QUERY = _SELECT + " ORDER BY _source_file, _line_number, row_hash LIMIT $limit"
HASH_ORDER_QUERY = _SELECT + " ORDER BY row_hash LIMIT $limit"


class ExportFormat(StrEnum):
    """The file formats ``export_quarantine`` writes, chosen by the file's extension."""

    CSV = "csv"
    JSON_LINES = "jsonl"
    PARQUET = "parquet"


EXTENSIONS = {
    ".csv": ExportFormat.CSV,
    ".jsonl": ExportFormat.JSON_LINES,
    ".ndjson": ExportFormat.JSON_LINES,
    ".parquet": ExportFormat.PARQUET,
}


class QuarantinedRow(BaseModel):
    """One quarantined row: why, from which run, where it came from, and its values."""

    model_config = ConfigDict(frozen=True)

    violated_rules: list[str]
    run_id: str | None
    row_hash: str | None
    partition_key: str | None = None
    source_file: str | None = None
    line_number: int | None = None
    raw_record: str | None = None
    """The original landing line, when the table was built from landing files."""
    values: dict[str, Any]
    """The row's values of the contract's columns, as text (None for a missing value)."""


class QuarantineReport(BaseModel):
    """What ``mesh quarantine show`` prints for one table."""

    model_config = ConfigDict(frozen=True)

    table: str
    quarantine_table: str
    rule: str | None
    """The rule the samples were filtered by, if any."""
    total_rows: int
    by_rule: dict[str, int]
    """Quarantined rows per violated rule (a row breaking two rules counts for both)."""
    has_lineage: bool
    samples: list[QuarantinedRow]


class QuarantineExport(BaseModel):
    """The file ``export_quarantine`` wrote."""

    model_config = ConfigDict(frozen=True)

    table: str
    path: str
    format: ExportFormat
    rows: int


def quarantine_report(
    mesh: Mesh,
    table: str,
    *,
    rule: str | None = None,
    limit: int = DEFAULT_SAMPLE_ROWS,
    settings: MeshSettings | None = None,
) -> QuarantineReport:
    """Counts by rule and up to ``limit`` sample rows (of ``rule`` only, when given).

    A table that quarantined nothing yet reports zero rows. An unknown table, or a raw table
    (raw keeps every record, it has no quarantine), is a ``MeshError``.

    Example:
        >>> report = quarantine_report(load_mesh(root), "payments/curated/transactions")
        >>> report.by_rule["amount_range"]
    """
    settings = settings or resolve_settings()
    key = _quarantined_table(mesh, table)
    total, by_rule = quarantine_counts(key, settings)
    rows = _rows(key, settings, rule, limit) if total else pa.table({})
    return QuarantineReport(
        table=str(key),
        quarantine_table=str(key.quarantine),
        rule=rule,
        total_rows=total,
        by_rule=by_rule,
        has_lineage=all(name in rows.column_names for name in LINEAGE_COLUMNS),
        samples=[_quarantined_row(row) for row in rows.to_pylist()],
    )


def export_quarantine(
    mesh: Mesh,
    table: str,
    out: Path,
    *,
    rule: str | None = None,
    settings: MeshSettings | None = None,
) -> QuarantineExport:
    """Write the table's quarantined rows (of ``rule`` only, when given) to ``out``.

    The format follows the extension: ``.csv`` (``violated_rules`` as a JSON array),
    ``.jsonl``/``.ndjson`` or ``.parquet`` (the quarantine's own types: the contract's columns as
    text, ``violated_rules`` as a list). A ``MeshError`` for another extension, an unknown table,
    or a table without a quarantine.

    Example:
        >>> export_quarantine(mesh, "payments/curated/transactions", Path("rejects.csv"))
    """
    settings = settings or resolve_settings()
    export_format = EXTENSIONS.get(out.suffix.lower())
    if export_format is None:
        raise MeshError(
            f"cannot export a quarantine to {out}: unknown extension {out.suffix or '(none)'!r}",
            fix=f"name the file with one of: {', '.join(EXTENSIONS)}",
        )
    key = _quarantined_table(mesh, table)
    if not table_exists(key.quarantine.uri(settings)):
        raise MeshError(
            f"{key} has no quarantine table yet ({key.quarantine.uri(settings)})",
            fix=f"materialise {key} first (`mesh materialize`); it is created on the first publish",
        )
    rows = _rows(key, settings, rule, limit=None)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write(rows, out, export_format)
    return QuarantineExport(table=str(key), path=str(out), format=export_format, rows=rows.num_rows)


def _quarantined_table(mesh: Mesh, table: str) -> TableKey:
    key = TableKey.parse(table)
    if key.is_quarantine:
        key = TableKey(
            domain=key.domain, layer=key.layer, table=key.table.removesuffix(QUARANTINE_SUFFIX)
        )
    mesh.table(str(key))
    if key.layer is Layer.RAW:
        raise MeshError(
            f"{key} is a raw table: raw keeps every record and has no quarantine",
            fix="name the curated or product table built from it (see `mesh tables`)",
        )
    return key


def _rows(key: TableKey, settings: MeshSettings, rule: str | None, limit: int | None) -> pa.Table:
    """The quarantine's rows, in landing order when it has lineage, else in hash order."""
    uri = key.quarantine.uri(settings)
    if not table_exists(uri):
        return pa.table({})
    dataset = open_dataset(uri)
    lineage = "_line_number" in dataset.schema.names
    query = LANDING_ORDER_QUERY if lineage else HASH_ORDER_QUERY
    # LIMIT NULL means no limit in DuckDB
    parameters = {"rule": rule, "limit": None if limit is None else max(limit, 0)}
    with duckdb.connect(":memory:") as connection:
        connection.register("quarantine", dataset)
        return connection.execute(query, parameters).to_arrow_table()


def _quarantined_row(row: dict[str, Any]) -> QuarantinedRow:
    line = row.get("_line_number")
    return QuarantinedRow(
        violated_rules=list(row.get("violated_rules") or []),
        run_id=row.get("run_id"),
        row_hash=row.get("row_hash"),
        partition_key=_text(row.get("partition_key")),
        source_file=row.get("_source_file"),
        line_number=int(line) if line is not None else None,
        raw_record=row.get("_raw_record"),
        values={name: _json_safe(value) for name, value in row.items() if is_value_column(name)},
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return str(value)


def _write(rows: pa.Table, out: Path, export_format: ExportFormat) -> None:
    if export_format is ExportFormat.PARQUET:
        pq.write_table(rows, out)
    elif export_format is ExportFormat.JSON_LINES:
        with out.open("w", encoding="utf-8") as stream:
            for row in rows.to_pylist():
                stream.write(json.dumps(_json_safe(row), ensure_ascii=False) + "\n")
    else:
        pacsv.write_csv(_flat(rows), out)


def _flat(rows: pa.Table) -> pa.Table:
    """Nested columns (``violated_rules``) as JSON text, which CSV can hold."""
    columns = []
    for field, column in zip(rows.schema, rows.columns, strict=True):
        if pa.types.is_nested(field.type):
            texts = [None if v is None else json.dumps(_json_safe(v)) for v in column.to_pylist()]
            column = pa.chunked_array([pa.array(texts, pa.string())])
        columns.append(column)
    return pa.table(columns, names=rows.column_names)
