"""`mesh rollback`: a table and its quarantine back at an earlier version, recorded in Dagster."""

import json

import pyarrow as pa
import pytest
from dagster import AssetKey, DagsterInstance
from deltalake import DeltaTable

from platform_lib.contracts.registry import project_registry
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.committer import Committer, WriteMode
from platform_lib.lake.publish.run_ids import RUN_ID_METADATA
from platform_lib.lake.publish.whole import publish
from platform_lib.mesh.graph import Mesh, load_mesh
from platform_lib.operations.rollback import (
    FORCED_METADATA,
    SCHEMA_CHANGES_METADATA,
    RollbackReport,
    rollback_table,
)
from platform_lib.quality.contract_schema import contract_arrow_schema
from tests.conftest import PROJECT_ROOT, MeshEnv, instance_for, publish_request, run_command

CURATED = TableKey.parse("payments/curated/transactions")


@pytest.fixture(scope="module")
def mesh() -> Mesh:
    return load_mesh(PROJECT_ROOT).require_loaded()


def batch(ids: range, *, bad_amounts: int = 0) -> pa.Table:
    """Transactions as text, like the curated asset computes them; the first ones may be bad."""
    count = len(ids)
    return pa.table(
        {
            "transaction_id": [f"tx_{i:06d}" for i in ids],
            "account_id": ["acc_1"] * count,
            "amount": ["-1.00" if n < bad_amounts else f"{n + 1}.50" for n in range(count)],
            "currency": ["EUR"] * count,
            "merchant": ["shop"] * count,
            "created_at": ["2026-03-01T10:00:00+00:00"] * count,
            "status": ["settled"] * count,
        }
    )


def publish_versions(env: MeshEnv) -> None:
    """Versions 0, 1, 2 of the curated table, each with its own quarantine rows and run id."""
    contract = project_registry(PROJECT_ROOT).require(CURATED)
    for run, rows, bad in (
        ("run_a", range(0, 20), 1),
        ("run_b", range(0, 30), 2),
        ("run_c", range(0, 12), 0),
    ):
        outcome = publish(
            publish_request(CURATED, contract, env.settings, run_id=run),
            batch(rows, bad_amounts=bad),
        )
        assert outcome.committed, outcome.validation


def sorted_rows(uri: str, version: int | None = None) -> list[dict[str, object]]:
    table = DeltaTable(uri, version=version).to_pyarrow_table()
    return sorted(table.to_pylist(), key=lambda row: json.dumps(row, sort_keys=True, default=str))


def test_rollback_restores_the_versions_content_and_its_quarantine(
    mesh_env: MeshEnv, mesh: Mesh
) -> None:
    publish_versions(mesh_env)
    uri, quarantine_uri = CURATED.uri(mesh_env.settings), CURATED.quarantine.uri(mesh_env.settings)
    expected = sorted_rows(uri, version=1)
    expected_quarantine = sorted_rows(
        quarantine_uri,
        version=next(
            int(e["version"])
            for e in DeltaTable(quarantine_uri).history()
            if e.get(RUN_ID_METADATA) == "run_b"
        ),
    )
    instance = instance_for(mesh_env)

    report = rollback_table(mesh, str(CURATED), 1, instance, reason="run_c lost rows")

    assert isinstance(report, RollbackReport) and not report.forced
    assert (report.previous_version, report.new_version, report.rows) == (2, 3, 28)
    assert sorted_rows(uri) == expected
    assert sorted_rows(quarantine_uri) == expected_quarantine
    assert len(expected_quarantine) == 2 and report.quarantine.rows == 2
    assert DeltaTable(uri).history(1)[0][RUN_ID_METADATA] == report.run_id
    assert DeltaTable(quarantine_uri).history(1)[0][RUN_ID_METADATA] == report.run_id
    event = instance.get_latest_materialization_event(
        AssetKey(["payments", "curated", "transactions"])
    )
    assert event is not None and event.asset_materialization is not None
    materialization = event.asset_materialization
    assert materialization.description == "rolled back to version 1: run_c lost rows"
    assert materialization.metadata["mesh/delta_version"].value == 3
    assert materialization.metadata["mesh/restored_from"].value == 1


def test_the_next_publish_after_a_rollback_removes_no_quarantine_row(
    mesh_env: MeshEnv, mesh: Mesh
) -> None:
    publish_versions(mesh_env)
    rollback_table(mesh, str(CURATED), 1, instance_for(mesh_env), reason="probe")
    contract = project_registry(PROJECT_ROOT).require(CURATED)

    outcome = publish(
        publish_request(
            CURATED, contract, mesh_env.settings, mode=WriteMode.APPEND, run_id="run_d"
        ),
        batch(range(100, 120), bad_amounts=1),
    )

    assert outcome.reconciled_rows == 0
    assert DeltaTable(CURATED.quarantine.uri(mesh_env.settings)).to_pyarrow_table().num_rows == 3


@pytest.mark.parametrize(
    ("version", "message"),
    [(2, "already at version 2"), (7, "no version 7"), (-1, "no version -1")],
)
def test_a_version_that_is_current_or_missing_is_refused(
    mesh_env: MeshEnv, mesh: Mesh, version: int, message: str
) -> None:
    publish_versions(mesh_env)

    with pytest.raises(MeshError, match=message):
        rollback_table(mesh, str(CURATED), version, DagsterInstance.ephemeral())

    assert DeltaTable(CURATED.uri(mesh_env.settings)).version() == 2


def test_a_table_never_written_or_unknown_is_refused(mesh_env: MeshEnv, mesh: Mesh) -> None:
    with pytest.raises(MeshError, match="never been written"):
        rollback_table(mesh, str(CURATED), 0, DagsterInstance.ephemeral())
    with pytest.raises(MeshError, match="no table payments/curated/nothing"):
        rollback_table(mesh, "payments/curated/nothing", 0, DagsterInstance.ephemeral())


def test_the_command_prints_json_and_errors_name_the_fix(mesh_env: MeshEnv) -> None:
    publish_versions(mesh_env)

    done = run_command(
        ["mesh", "rollback", str(CURATED), "--to-version", "0", "--reason", "drill", "--json"],
        mesh_env.environ(),
    )
    refused = run_command(
        ["mesh", "rollback", str(CURATED), "--to-version", "9"], mesh_env.environ()
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["restored_from"], report["new_version"], report["rows"]) == (0, 3, 19)
    assert report["quarantine"]["rows"] == 1
    assert refused.returncode == 2
    assert "no version 9" in refused.stderr and "fix:" in refused.stderr


def publish_after_a_schema_change(env: MeshEnv) -> None:
    """Version 0 as an older contract had it (amount as text, a ``channel`` column since
    dropped), then versions 1 and 2 under the current contract."""
    contract = project_registry(PROJECT_ROOT).require(CURATED)
    current = contract_arrow_schema(contract)
    amount = current.get_field_index("amount")
    older = current.set(amount, current.field(amount).with_type(pa.string()))
    old = batch(range(0, 5)).cast(older).append_column("channel", pa.array(["web"] * 5))
    Committer.for_table(CURATED, env.settings).write_table(
        old, mode=WriteMode.OVERWRITE, commit_metadata={RUN_ID_METADATA: "run_old"}
    )
    for run, rows in (("run_b", range(0, 30)), ("run_c", range(0, 12))):
        outcome = publish(
            publish_request(CURATED, contract, env.settings, run_id=run),
            batch(rows, bad_amounts=1),
        )
        assert outcome.committed, outcome.validation


def test_a_version_of_another_schema_is_refused_with_its_columns_and_nothing_committed(
    mesh_env: MeshEnv,
) -> None:
    publish_after_a_schema_change(mesh_env)
    uri, quarantine_uri = CURATED.uri(mesh_env.settings), CURATED.quarantine.uri(mesh_env.settings)
    quarantine_version = DeltaTable(quarantine_uri).version()

    refused = run_command(
        ["mesh", "rollback", str(CURATED), "--to-version", "0", "--reason", "drill"],
        mesh_env.environ(),
    )

    assert refused.returncode == 1, refused.stdout + refused.stderr
    message = " ".join(refused.stderr.split())
    assert "version 0 has a schema that differs from the current contract" in message
    assert "amount: string not null -> decimal(18,2) not null" in message
    assert "channel: string -> absent" in message
    assert "fix: restore it anyway with --force" in message
    assert "Traceback" not in refused.stderr
    assert DeltaTable(uri).version() == 2
    assert DeltaTable(quarantine_uri).version() == quarantine_version


def test_force_restores_a_version_of_another_schema_and_records_it(mesh_env: MeshEnv) -> None:
    publish_after_a_schema_change(mesh_env)
    uri = CURATED.uri(mesh_env.settings)

    done = run_command(
        ["mesh", "rollback", str(CURATED), "--to-version", "0", "--force", "--json"],
        mesh_env.environ(),
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["restored_from"], report["new_version"], report["forced"]) == (0, 3, True)
    assert {change["column"] for change in report["schema_changes"]} == {"amount", "channel"}
    assert "channel" in DeltaTable(uri).schema().to_arrow().names
    commit = DeltaTable(uri).history(1)[0]
    assert commit[FORCED_METADATA] == "true"
    assert "channel: string -> absent" in commit[SCHEMA_CHANGES_METADATA]
    event = instance_for(mesh_env).get_latest_materialization_event(
        AssetKey(["payments", "curated", "transactions"])
    )
    assert event is not None and event.asset_materialization is not None
    materialization = event.asset_materialization
    assert materialization.description == (
        "rolled back to version 0 (forced across a schema change): no reason given"
    )
    assert materialization.metadata["mesh/forced"].value is True
    status = run_command(["mesh", "status", "--domain", "payments", "--json"], mesh_env.environ())
    shown = next(t for t in json.loads(status.stdout) if t["key"] == str(CURATED))
    assert shown["last_materialisation"]["description"] == materialization.description
