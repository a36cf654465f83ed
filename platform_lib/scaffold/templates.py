"""The files ``mesh new`` writes, as templates filled with ``str.format``."""

DOMAIN_INIT = '"""The {domain} domain."""\n'

DEFINITIONS = '''"""The {domain} code location: every source and table of this package."""

from platform_lib import package_definitions

defs = package_definitions(__package__)
'''

SOURCE = '''"""Landing sources of {domain}: files kept whole in the raw layer."""

from platform_lib import {source_class}

{table}_landing = {source_class}(
    table="{table}",
    folder="{domain}/{table}",
    columns=("{table}_id", "account_id", "amount", "occurred_at"),
)
'''

CURATED = '''"""Curated {table}: the raw records, typed and checked by their contract."""

from duckdb import DuckDBPyConnection, DuckDBPyRelation

from platform_lib import Layer, reads, table


@table(Layer.CURATED, reads={{"raw": reads("{domain}/raw/{table}")}})
def {table}(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
    """One row per {singular} (the first to arrive); its contract casts and checks it."""
    return duckdb.sql(
        """
        SELECT
            NULLIF(trim({table}_id), '') AS {table}_id,
            NULLIF(trim(account_id), '') AS account_id,
            trim(amount)                 AS amount,
            trim(occurred_at)            AS occurred_at,
            _source_file,
            _line_number,
            _arrival_seq
        FROM raw
        WHERE _parse_error IS NULL
        ORDER BY _arrival_seq
        """
    )
'''

TABLE = '''"""{layer_title} table {table}."""

from duckdb import DuckDBPyConnection, DuckDBPyRelation

from platform_lib import Layer, reads, table

SOURCE = reads("{read}")


@table(Layer.{layer_upper}, reads={{"source": SOURCE}})
def {table}(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
    """{description}"""
    return duckdb.sql("SELECT count(*) AS row_count FROM source")
'''

CONTRACT_HEADER = """# {comment}
apiVersion: v3.1.0
kind: DataContract
id: {domain}.{layer}.{table}
name: {title}
version: 1.0.0
status: active
domain: {domain}
description:
  purpose: {purpose}
team:
  name: {team}
servers:
  - {{server: local, type: local, format: delta, path: {domain}/{layer}/{table}}}
slaProperties:
  - {{property: freshness, value: 1, unit: d}}
customProperties:
  - {{property: layer, value: {layer}}}
  - {{property: access, value: {access}}}
  - {{property: quarantineThreshold, value: 0.3}}
"""

RAW_SCHEMA = """schema:
  - name: {table}
    physicalType: table
    properties:
      - {{name: {table}_id, logicalType: string, physicalType: string}}
      - {{name: account_id, logicalType: string, physicalType: string}}
      - {{name: amount, logicalType: string, physicalType: string}}
      - {{name: occurred_at, logicalType: string, physicalType: string}}
      - {{name: _ingested_at, logicalType: timestamp, physicalType: timestamp_tz, required: true}}
      - {{name: _batch_id, logicalType: string, physicalType: string, required: true}}
      - {{name: _source_file, logicalType: string, physicalType: string, required: true}}
      - {{name: _source_sha256, logicalType: string, physicalType: string, required: true}}
      - {{name: _line_number, logicalType: integer, physicalType: int64, required: true}}
      - {{name: _raw_record, logicalType: string, physicalType: string, required: true}}
      - {{name: _parse_error, logicalType: string, physicalType: string}}
      - {{name: _arrival_seq, logicalType: integer, physicalType: int64}}
"""

CURATED_SCHEMA = """schema:
  - name: {table}
    physicalType: table
    quality:
      - {{id: has_rows, metric: rowCount, mustBeGreaterThan: 0, severity: error}}
    properties:
      - name: {table}_id
        logicalType: string
        physicalType: string
        primaryKey: true
        required: true
        unique: true
      - {{name: account_id, logicalType: string, physicalType: string, required: true}}
      - name: amount
        logicalType: number
        physicalType: "decimal(18,2)"
        required: true
        logicalTypeOptions: {{minimum: 0}}
      - {{name: occurred_at, logicalType: timestamp, physicalType: timestamp_tz, required: true}}
"""

TABLE_SCHEMA = """schema:
  - name: {table}
    physicalType: table
    quality:
      - {{id: has_rows, metric: rowCount, mustBeGreaterThan: 0, severity: error}}
    properties:
      - {{name: row_count, logicalType: integer, physicalType: int64, required: true}}
"""

SAMPLE_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("0001", "acc_001", "12.50", "2026-11-01T09:15:00+01:00"),
    ("0002", "acc_002", "7.00", "2026-11-01T10:02:00Z"),
    ("0003", "acc_001", "not-a-number", "2026-11-01T11:30:00+01:00"),
    ("0004", "acc_003", "99.90", "2026-11-02T08:00:00-05:00"),
    ("0005", "", "3.20", "2026-11-02T12:45:00Z"),
    ("0006", "acc_002", "45.00", "2026-11-02T13:00:00+01:00"),
    ("0007", "acc_004", "0.99", "2026-11-03T07:30:00Z"),
    ("0008", "acc_003", "120.00", "2026-11-03T18:10:00+02:00"),
)
"""The sample landing records of a new domain: six valid, one with a text amount, one without
an account (so the new domain shows its quarantine from the first run)."""

DOMAIN_TEST = '''"""The {domain} domain: its sample landing file through raw and curated."""

import shutil

from platform_lib.conventions import TableKey
from platform_lib.lake.reader import read_arrow
from platform_lib.mesh.graph import load_mesh
from platform_lib.mesh.run import AssetStatus, materialize_mesh
from tests.conftest import PROJECT_ROOT, MeshEnv, instance_for

DOMAIN = "{domain}"
CURATED = TableKey.parse("{domain}/curated/{table}")
LANDING = PROJECT_ROOT / "data" / "landing" / DOMAIN


def test_sample_rows_are_published_or_quarantined(mesh_env: MeshEnv) -> None:
    shutil.copytree(LANDING, mesh_env.landing / DOMAIN, dirs_exist_ok=True)
    mesh = load_mesh(PROJECT_ROOT).require_loaded()

    report = materialize_mesh(mesh, mesh.select(domains=[DOMAIN]), instance_for(mesh_env))

    assert {{run.status for run in report.assets}} == {{AssetStatus.MATERIALIZED}}, report
    published = read_arrow(CURATED.uri(mesh_env.settings))
    quarantined = read_arrow(CURATED.quarantine.uri(mesh_env.settings))
    assert published.num_rows == 6
    broken = quarantined["violated_rules"].to_pylist()
    assert sorted(rule for rules in broken for rule in rules) == [
        "account_id_required",
        "amount_required",
        "amount_type",
    ]
'''

WORKSPACE_ENTRY = """  - python_module:
      module_name: domains.{domain}.definitions
      location_name: {domain}
      working_directory: .
"""
