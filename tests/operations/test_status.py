"""`mesh status` over real Dagster runs of the demo mesh and real Delta tables."""

import datetime as dt
import json
from pathlib import Path

import pytest
from dagster import AssetKey, JsonMetadataValue
from dagster._core.definitions.freshness import TimeWindowFreshnessPolicy

from platform_lib.conventions import TableKey
from platform_lib.lake.reader import open_dataset, table_state
from platform_lib.mesh.graph import Mesh, load_mesh
from platform_lib.mesh.run import MeshRunReport, materialize_mesh
from platform_lib.operations.status import Freshness, Health, TableStatus, mesh_status
from platform_lib.orchestration.keys import to_asset_key
from tests.conftest import PROJECT_ROOT, MeshEnv, instance_for, run_command, sql

RAW = TableKey.parse("payments/raw/transactions")
CURATED = TableKey.parse("payments/curated/transactions")
RECONCILIATION = TableKey.parse("finance/product/reconciliation")


@pytest.fixture(scope="module")
def first_run(module_mesh_env: MeshEnv) -> MeshRunReport:
    mesh = load_mesh(PROJECT_ROOT).require_loaded()
    report = materialize_mesh(mesh, list(mesh.tables), instance_for(module_mesh_env))
    assert report.succeeded, report
    return report


def by_key(statuses: list[TableStatus]) -> dict[str, TableStatus]:
    return {status.key: status for status in statuses}


def test_empty_instance_and_lake_report_every_table_never_materialised(
    mesh_env: MeshEnv, project_mesh: Mesh
) -> None:
    statuses = mesh_status(project_mesh, instance_for(mesh_env))

    assert {s.key for s in statuses} == {str(k) for k in project_mesh.tables}
    assert all(s.last_materialisation is None and s.lake_version is None for s in statuses)
    assert {(s.freshness, s.health, s.quarantine_rows) for s in statuses} == {
        (Freshness.NEVER, Health.AMBER, 0)
    }
    assert all(s.reason == "never materialised" and not s.checks for s in statuses)


def test_after_a_run_quarantine_counts_by_rule_match_the_quarantine_table(
    module_mesh_env: MeshEnv, project_mesh: Mesh, first_run: MeshRunReport
) -> None:
    settings = module_mesh_env.settings
    curated = by_key(mesh_status(project_mesh, instance_for(module_mesh_env)))[str(CURATED)]
    quarantine = open_dataset(CURATED.quarantine.uri(settings))
    expected = sql(
        "SELECT rule, count(*) FROM quarantine, unnest(violated_rules) AS t(rule) "
        "GROUP BY rule ORDER BY rule",
        quarantine=quarantine,
    )

    assert curated.quarantine_rows == quarantine.count_rows() > 0
    assert list(curated.quarantine_by_rule.items()) == expected
    assert (curated.health, curated.freshness, curated.reason) == (
        Health.GREEN,
        Freshness.FRESH,
        "ok",
    )
    assert curated.owners == ["team:payments", "payments-team@example.com"]
    assert curated.access == "public"
    # row-level rules that quarantined rows fail as warnings: shown, but they do not colour
    assert {c.name for c in curated.failing_checks} == set(expected_rules(expected))
    assert all(c.row_level and not c.blocking for c in curated.failing_checks)


def expected_rules(rows: list[tuple[object, ...]]) -> list[str]:
    return [str(row[0]) for row in rows]


def test_last_materialisation_matches_the_lake_and_the_run(
    module_mesh_env: MeshEnv, project_mesh: Mesh, first_run: MeshRunReport
) -> None:
    statuses = mesh_status(project_mesh, instance_for(module_mesh_env))
    run_ids = {run.key: run.run_id for run in first_run.assets}

    for status in statuses:
        last = status.last_materialisation
        assert last is not None, status.key
        assert last.run_id == run_ids[status.key]
        assert last.delta_version == status.lake_version
        lake = table_state(TableKey.parse(status.key).uri(module_mesh_env.settings))
        assert lake is not None and status.lake_version == lake.version
    assert {s.health for s in statuses} == {Health.GREEN}
    assert by_key(statuses)[str(RECONCILIATION)].freshness is Freshness.NO_SLA


def test_a_table_older_than_its_sla_is_stale_and_red(
    module_mesh_env: MeshEnv, project_mesh: Mesh, first_run: MeshRunReport
) -> None:
    instance = instance_for(module_mesh_env)
    fresh = by_key(mesh_status(project_mesh, instance, domain="payments"))[str(CURATED)]
    assert fresh.last_materialisation is not None and fresh.freshness_sla_seconds == 86_400
    day_later = fresh.last_materialisation.time + dt.timedelta(days=1, minutes=1)

    later = by_key(mesh_status(project_mesh, instance, domain="payments", now=day_later))

    assert set(later) == {str(k) for k in project_mesh.tables if k.domain == "payments"}
    assert (later[str(CURATED)].freshness, later[str(CURATED)].health) == (
        Freshness.STALE,
        Health.RED,
    )
    assert later[str(CURATED)].reason.startswith("stale: last materialised 1.0d ago, SLA 1.0d")
    # a table without an SLA never goes stale
    assert later["payments/product/settlements"].health is Health.GREEN


def test_a_failed_blocking_check_turns_the_table_red(mesh_env: MeshEnv, project_mesh: Mesh) -> None:
    instance = instance_for(mesh_env)
    write_bad_landing_file(mesh_env.landing / "payments" / "transactions", rows=1_500)

    report = materialize_mesh(project_mesh, [RAW, CURATED], instance)
    curated = by_key(mesh_status(project_mesh, instance, domain="payments"))[str(CURATED)]

    assert not report.succeeded
    assert curated.health is Health.RED
    assert curated.last_run_failed and curated.last_materialisation is None
    failed = [c for c in curated.failing_checks if c.blocking]
    assert [c.name for c in failed] == ["quarantine_threshold"]
    assert "blocking check quarantine_threshold failed" in curated.reason
    assert "the last run failed" in curated.reason


def write_bad_landing_file(folder: Path, *, rows: int) -> None:
    """A landing file whose every row has a negative amount (a systematic defect)."""
    lines = ["transaction_id,account_id,amount,currency,merchant,created_at,status"]
    lines += [
        f"tx_9{n:05d},acc_0001,-1.00,EUR,Shop,2026-11-04T10:00:00+00:00,settled"
        for n in range(rows)
    ]
    (folder / "transactions_2026-11-04.csv").write_text("\n".join(lines) + "\n")


def test_the_ui_sees_rows_published_and_quarantined_by_rule_and_the_sla(
    module_mesh_env: MeshEnv, project_mesh: Mesh, first_run: MeshRunReport
) -> None:
    instance = instance_for(module_mesh_env)
    event = instance.get_latest_materialization_event(
        AssetKey(["payments", "curated", "transactions"])
    )
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    curated = by_key(mesh_status(project_mesh, instance))[str(CURATED)]
    location = project_mesh.definitions("payments").resolve_asset_graph()
    node = location.get(to_asset_key(CURATED))

    assert isinstance(metadata["mesh/quarantined_by_rule"], JsonMetadataValue)
    assert metadata["mesh/quarantined_by_rule"].value == curated.quarantine_by_rule
    assert metadata["mesh/rows_quarantined"].value == curated.quarantine_rows
    published = table_state(CURATED.uri(module_mesh_env.settings))
    assert published is not None and metadata["mesh/rows_published"].value == published.rows
    assert isinstance(node.freshness_policy, TimeWindowFreshnessPolicy)
    assert node.freshness_policy.fail_window.to_timedelta() == dt.timedelta(days=1)
    assert {k.name for k in node.check_keys} >= set(curated.quarantine_by_rule) | {
        "schema",
        "quarantine_threshold",
    }


def test_the_command_prints_json_and_exits_zero_when_nothing_is_red(
    module_mesh_env: MeshEnv, first_run: MeshRunReport
) -> None:
    result = run_command(
        ["mesh", "status", "--domain", "payments", "--json"], module_mesh_env.environ()
    )

    assert result.returncode == 0, result.stderr
    statuses = json.loads(result.stdout)
    assert {s["key"] for s in statuses} >= {str(RAW), str(CURATED)}
    curated = next(s for s in statuses if s["key"] == str(CURATED))
    assert curated["health"] == "green" and curated["quarantine_rows"] > 0
    assert set(curated["last_materialisation"]) == {
        "time",
        "run_id",
        "delta_version",
        "description",
    }
