"""The demo mesh configured by environment variables alone: Delta on S3, Dagster on PostgreSQL."""

import os

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, DagsterRunStatus
from dagster_postgres import PostgresRunStorage

from platform_lib.conventions import TableKey
from platform_lib.deploy.local_stack import LocalStack
from platform_lib.lake.reader import read_arrow, table_state
from platform_lib.mesh.graph import load_mesh
from platform_lib.settings import resolve_settings
from tests.conftest import PROJECT_ROOT, run_command

CURATED = TableKey.parse("payments/curated/transactions")
REVENUE = TableKey.parse("finance/product/daily_revenue")


@pytest.fixture(scope="module")
def materialized(local_stack: LocalStack) -> str:
    """``mesh materialize --all`` once, as a user runs it, against the stack; its output."""
    env = {
        **os.environ,
        **local_stack.environ(),
        "MESH_LANDING_ROOT": str(PROJECT_ROOT / "data/landing"),
    }
    done = run_command(["mesh", "materialize", "--all"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_every_table_is_published_in_the_bucket(
    materialized: str, stack_env: dict[str, str]
) -> None:
    settings = resolve_settings()
    expected = {
        key
        for key, table in load_mesh(PROJECT_ROOT).require_loaded().tables.items()
        if not table.partitioned
    }

    states = {key: table_state(key.uri(settings)) for key in expected}

    assert settings.lake_root.startswith("s3://")
    assert all(state is not None and state.rows > 0 for state in states.values()), states
    assert CURATED.uri(settings).startswith("s3://mesh-lake/lake/payments/curated/")


def test_a_published_table_reads_back_from_s3(materialized: str, stack_env: dict[str, str]) -> None:
    settings = resolve_settings()

    revenue = read_arrow(REVENUE.uri(settings), columns=["currency"])
    quarantined = table_state(CURATED.quarantine.uri(settings))

    assert revenue.num_rows > 0
    assert set(revenue.column("currency").to_pylist()) <= {"EUR", "SEK", "USD", "GBP", "NOK", "DKK"}
    assert quarantined is not None and quarantined.rows > 0


def test_runs_are_recorded_in_postgres(materialized: str, local_stack: LocalStack) -> None:
    instance = DagsterInstance.from_config(str(local_stack.dagster_home))
    try:
        runs = instance.get_runs()
        storage = instance.run_storage
    finally:
        instance.dispose()
    with sa.create_engine(local_stack.postgres.url).connect() as connection:
        rows = connection.execute(sa.text("SELECT count(*) FROM runs")).scalar_one()

    assert isinstance(storage, PostgresRunStorage)
    assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}
    assert rows == len(runs) >= 3  # one run per domain at least


def test_tables_lists_the_s3_locations(materialized: str, stack_env: dict[str, str]) -> None:
    done = run_command(["mesh", "tables", "--json"], stack_env)

    assert done.returncode == 0, done.stderr
    assert "s3://mesh-lake/lake/payments/raw/transactions" in done.stdout


def test_a_missing_bucket_is_a_clear_error_before_any_write(stack_env: dict[str, str]) -> None:
    env = {**stack_env, "MESH_LAKE_ROOT": "s3://no-such-bucket/lake"}

    done = run_command(["mesh", "materialize", "--domain", "fraud"], env)

    assert done.returncode == 2
    assert "lake root s3://no-such-bucket/lake is not writable" in done.stderr
    assert "fix:" in done.stderr
