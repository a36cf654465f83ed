"""The three demo domains end to end: real Dagster runs writing real Delta tables."""

import polars as pl
import pytest
from deltalake import DeltaTable

from platform_lib.conventions import TableKey
from platform_lib.lake.committer import Committer, WriteMode
from platform_lib.lake.reader import open_dataset, table_state
from platform_lib.mesh.graph import Mesh, load_mesh
from platform_lib.mesh.run import AssetStatus, MeshRunReport, materialize_mesh
from platform_lib.operations.replay import replay_table
from platform_lib.orchestration.keys import to_asset_key
from platform_lib.settings import MeshSettings
from tests.conftest import PROJECT_ROOT, MeshEnv, instance_for, sql

RAW = TableKey.parse("payments/raw/transactions")
CURATED = TableKey.parse("payments/curated/transactions")
RISK = TableKey.parse("fraud/product/account_risk")
REVENUE = TableKey.parse("finance/product/daily_revenue")
DEMO_TABLES = (RAW, CURATED, RISK, REVENUE)


@pytest.fixture(scope="module")
def mesh() -> Mesh:
    return load_mesh(PROJECT_ROOT).require_loaded()


@pytest.fixture(scope="module")
def first_run(module_mesh_env: MeshEnv, mesh: Mesh) -> MeshRunReport:
    return materialize_mesh(mesh, list(mesh.tables), instance_for(module_mesh_env))


def test_every_demo_table_is_materialised_producers_first(first_run: MeshRunReport) -> None:
    order = [run.key for run in first_run.assets]

    assert first_run.succeeded, first_run
    assert set(order) >= {str(k) for k in DEMO_TABLES}
    assert order.index(str(RAW)) < order.index(str(CURATED)) < order.index(str(REVENUE))
    assert order.index(str(RAW)) < order.index(str(RISK))


def test_raw_keeps_every_source_record(module_mesh_env: MeshEnv, first_run: MeshRunReport) -> None:
    raw = open_dataset(RAW.uri(module_mesh_env.settings))

    unparseable = sql("SELECT count(*) FROM raw WHERE _parse_error IS NOT NULL", raw=raw)

    assert raw.count_rows() == module_mesh_env.source_records
    assert unparseable[0][0] == module_mesh_env.malformed_records


def test_curated_holds_no_row_breaking_the_rules(
    module_mesh_env: MeshEnv, first_run: MeshRunReport
) -> None:
    curated = open_dataset(CURATED.uri(module_mesh_env.settings))

    broken = sql(
        """
        SELECT count(*) FROM curated
        WHERE transaction_id IS NULL OR account_id IS NULL OR amount IS NULL OR amount <= 0
           OR currency NOT IN ('EUR', 'SEK', 'USD', 'GBP', 'NOK', 'DKK') OR currency IS NULL
           OR status NOT IN ('authorized', 'settled', 'declined', 'refunded') OR status IS NULL
           OR created_at IS NULL
        """,
        curated=curated,
    )[0][0]
    duplicates = sql(
        "SELECT count(*) - count(DISTINCT transaction_id) FROM curated", curated=curated
    )[0][0]

    assert (broken, duplicates) == (0, 0)
    assert curated.schema.field("created_at").type.tz == "UTC"


def test_published_plus_quarantined_equals_parseable_raw_rows(
    module_mesh_env: MeshEnv, first_run: MeshRunReport
) -> None:
    settings = module_mesh_env.settings

    published = table_state(CURATED.uri(settings)).rows
    quarantine = open_dataset(CURATED.quarantine.uri(settings))
    without_rule = sql(
        "SELECT count(*) FROM quarantine WHERE len(violated_rules) = 0", quarantine=quarantine
    )[0][0]

    assert quarantine.count_rows() > 0 and without_rule == 0
    assert published + quarantine.count_rows() == (
        module_mesh_env.source_records - module_mesh_env.malformed_records
    )


def test_duplicates_keep_the_first_to_arrive(
    module_mesh_env: MeshEnv, first_run: MeshRunReport
) -> None:
    settings = module_mesh_env.settings
    raw = open_dataset(RAW.uri(settings))
    quarantine = open_dataset(CURATED.quarantine.uri(settings))

    later_than_first = sql(
        """
        WITH firsts AS (
            SELECT transaction_id, min(_arrival_seq) AS first
            FROM raw WHERE transaction_id <> '' GROUP BY 1
        )
        SELECT count(*) FROM quarantine q JOIN firsts f USING (transaction_id)
        WHERE list_contains(q.violated_rules, 'transaction_id_unique')
          AND q._arrival_seq <= f.first
        """,
        raw=raw,
        quarantine=quarantine,
    )[0][0]

    assert later_than_first == 0


def test_offsets_are_honoured_when_stored_as_utc(
    module_mesh_env: MeshEnv, first_run: MeshRunReport
) -> None:
    settings = module_mesh_env.settings
    raw = pl.read_delta(RAW.uri(settings)).filter(pl.col("created_at").str.ends_with("-05:00"))
    curated = pl.read_delta(CURATED.uri(settings))

    sample = raw.join(curated, on="transaction_id", suffix="_utc").head(1)
    local, utc = sample["created_at"][0], sample["created_at_utc"][0]

    assert utc.hour == (int(local[11:13]) + 5) % 24


def test_each_table_opens_with_deltalake_polars_and_duckdb(
    module_mesh_env: MeshEnv, first_run: MeshRunReport
) -> None:
    for key in DEMO_TABLES:
        uri = key.uri(module_mesh_env.settings)
        dataset = DeltaTable(uri).to_pyarrow_dataset()
        rows = sql("SELECT count(*) FROM dataset", dataset=dataset)[0][0]
        assert rows > 0
        assert pl.read_delta(uri).height == rows


def test_a_second_run_changes_no_row_count(
    module_mesh_env: MeshEnv, mesh: Mesh, first_run: MeshRunReport
) -> None:
    settings = module_mesh_env.settings
    tables = [*DEMO_TABLES, CURATED]
    before = [table_state(k.uri(settings)).rows for k in tables]
    quarantine_before = table_state(CURATED.quarantine.uri(settings)).rows

    second = materialize_mesh(mesh, list(mesh.tables), instance_for(module_mesh_env))

    assert second.succeeded
    assert [table_state(k.uri(settings)).rows for k in tables] == before
    assert table_state(CURATED.quarantine.uri(settings)).rows == quarantine_before


def test_runs_are_recorded_in_the_dagster_instance(
    module_mesh_env: MeshEnv, first_run: MeshRunReport
) -> None:
    instance = instance_for(module_mesh_env)

    for key in DEMO_TABLES:
        event = instance.get_latest_materialization_event(to_asset_key(key))
        assert event is not None, key
        metadata = event.asset_materialization.metadata
        assert {"dagster/uri", "dagster/row_count", "dagster/column_schema"} <= set(metadata)


LATE_FILE = "a-late.csv"
"""A file landing after the demo's, whose name sorts before theirs."""
PRODUCTS_OF_CURATED = (
    TableKey.parse("payments/product/settlements"),
    TableKey.parse("payments/product/settlements_v2"),
    REVENUE,
)


def test_a_later_file_sorting_first_leaves_published_rows_unchanged_through_a_replay_too(
    mesh_env: MeshEnv, project_mesh: Mesh
) -> None:
    settings = mesh_env.settings
    first = materialize_mesh(project_mesh, list(project_mesh.tables), instance_for(mesh_env))
    assert first.succeeded, first
    published = _sorted_rows(CURATED, settings)
    products = {key: _sorted_rows(key, settings) for key in PRODUCTS_OF_CURATED}
    settled = next(row for row in published if row["status"] == "settled")
    folder = mesh_env.landing / "payments" / "transactions"
    header = next(folder.glob("transactions_*.csv")).read_text().splitlines()[0]
    late = f"{settled['transaction_id']},acc_late,999.00,EUR,late shop,2026-11-01T12:00:00Z,settled"
    (folder / LATE_FILE).write_text(f"{header}\n{late}\n")

    second = materialize_mesh(project_mesh, list(project_mesh.tables), instance_for(mesh_env))
    replay = replay_table(project_mesh, str(CURATED), instance_for(mesh_env), downstream=True)

    assert second.succeeded and replay.succeeded, (second, replay)
    assert _sorted_rows(CURATED, settings) == published
    assert {key: _sorted_rows(key, settings) for key in PRODUCTS_OF_CURATED} == products
    quarantined = pl.read_delta(CURATED.quarantine.uri(settings)).filter(
        pl.col("_source_file").str.ends_with(LATE_FILE)
    )
    assert quarantined["violated_rules"].to_list() == [["transaction_id_unique"]]


def _sorted_rows(key: TableKey, settings: MeshSettings) -> list[dict[str, object]]:
    rows = pl.read_delta(key.uri(settings))
    return rows.sort(rows.columns).to_dicts()


def test_a_blocked_producer_skips_its_consumers_in_other_domains(
    mesh_env: MeshEnv, project_mesh: Mesh
) -> None:
    folder = mesh_env.landing / "payments" / "transactions"
    for path in folder.glob("*.csv"):
        header = path.read_bytes().splitlines()[0]
        path.write_bytes(header + b"\n,acc_1,-1,XXX,nobody,never,pending\n")

    report = materialize_mesh(project_mesh, list(project_mesh.tables), instance_for(mesh_env))

    status = {run.key: run.status for run in report.assets}
    assert status[str(RAW)] is AssetStatus.MATERIALIZED
    assert status[str(CURATED)] is AssetStatus.BLOCKED, report
    assert status[str(REVENUE)] is AssetStatus.SKIPPED
    assert status[str(RISK)] is AssetStatus.MATERIALIZED
    assert not report.succeeded
    assert table_state(CURATED.uri(mesh_env.settings)) is None


def test_a_consumer_of_a_raw_table_from_before_arrival_numbers_is_told_to_ingest_first(
    mesh_env: MeshEnv, project_mesh: Mesh
) -> None:
    settings = mesh_env.settings
    first = materialize_mesh(project_mesh, [RAW], instance_for(mesh_env))
    assert first.succeeded, first
    older = open_dataset(RAW.uri(settings)).to_table().drop_columns(["_arrival_seq"])
    Committer(RAW.uri(settings)).write_table(older, mode=WriteMode.OVERWRITE)

    curated_first = materialize_mesh(project_mesh, [CURATED], instance_for(mesh_env))
    raw_then_curated = materialize_mesh(project_mesh, [RAW, CURATED], instance_for(mesh_env))

    (outcome,) = curated_first.assets
    assert outcome.status is AssetStatus.FAILED
    assert "payments/raw/transactions has no arrival numbers yet" in outcome.message
    assert "mesh materialize --select payments/raw/transactions" in outcome.message
    assert "Binder Error" not in outcome.message
    assert raw_then_curated.succeeded, raw_then_curated
