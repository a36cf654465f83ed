"""The ``mesh`` command line as a user runs it: real subprocesses, real lake, real instance."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import MeshEnv, run_command

DEMO_KEYS = {
    "payments/raw/transactions",
    "payments/curated/transactions",
    "fraud/product/account_risk",
    "finance/product/daily_revenue",
}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_command(args, env)


def assert_user_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    """Exit 2, one error line and one fix line, no traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: ")
    assert "fix: " in result.stderr
    for text in expected:
        assert text in result.stderr


def test_materialize_all_then_tables_json(mesh_env: MeshEnv) -> None:
    materialized = run(["mesh", "materialize", "--all"], mesh_env.environ())
    listed = run(["mesh", "tables", "--json"], mesh_env.environ())

    assert materialized.returncode == 0, materialized.stdout + materialized.stderr
    assert "payments/curated/transactions" in materialized.stdout
    tables = {t["key"]: t for t in json.loads(listed.stdout)}
    assert set(tables) >= DEMO_KEYS
    raw = tables["payments/raw/transactions"]
    assert raw["rows"] == mesh_env.source_records
    assert raw["uri"] == str(mesh_env.lake / "payments" / "raw" / "transactions")
    # Version 0 creates the raw table empty, version 1 inserts the records (insert_new_rows)
    assert (raw["domain"], raw["layer"], raw["table"], raw["version"]) == (
        "payments",
        "raw",
        "transactions",
        1,
    )


def test_dagster_cli_materializes_a_domain_into_the_same_instance(mesh_env: MeshEnv) -> None:
    result = run(
        [
            "dagster",
            "asset",
            "materialize",
            "-m",
            "domains.payments.definitions",
            "--select",
            "payments/raw/transactions",
        ],
        mesh_env.environ(),
    )
    listed = run(["mesh", "tables", "--json"], mesh_env.environ())

    assert result.returncode == 0, result.stderr[-2000:]
    rows = {t["key"]: t["rows"] for t in json.loads(listed.stdout)}
    assert rows["payments/raw/transactions"] == mesh_env.source_records
    assert rows["payments/curated/transactions"] is None


def test_unknown_domain(mesh_env: MeshEnv) -> None:
    result = run(["mesh", "materialize", "--domain", "no_such_domain"], mesh_env.environ())

    assert_user_error(result, "unknown domain 'no_such_domain'", "payments, fraud, finance")


def test_nothing_selected(mesh_env: MeshEnv) -> None:
    assert_user_error(run(["mesh", "materialize"], mesh_env.environ()), "--all")


@pytest.mark.skipif(os.geteuid() == 0 and sys.platform != "linux", reason="needs a read-only dir")
def test_unwritable_lake_root(mesh_env: MeshEnv) -> None:
    blocker = mesh_env.root / "a-file"
    blocker.write_text("not a folder")
    env = {**mesh_env.environ(), "MESH_LAKE_ROOT": str(blocker / "lake")}

    result = run(["mesh", "materialize", "--all"], env)

    assert_user_error(result, f"lake root {blocker / 'lake'} is not writable", "MESH_LAKE_ROOT")


def test_missing_landing_folder_fails_the_table_and_skips_consumers(mesh_env: MeshEnv) -> None:
    env = {**mesh_env.environ(), "MESH_LANDING_ROOT": str(mesh_env.root / "nowhere")}

    result = run(["mesh", "materialize", "--all"], env)

    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "landing folder" in result.stdout and "does not exist" in result.stdout
    assert "skipped" in result.stdout
    assert not (mesh_env.lake / "payments" / "raw" / "transactions").exists()


def test_wrong_header_fails_with_the_file_name_and_writes_nothing(mesh_env: MeshEnv) -> None:
    bad = mesh_env.landing / "payments" / "transactions" / "transactions_2026-11-09.csv"
    bad.write_text("id,amount\n1,2\n")

    result = run(["mesh", "materialize", "--domain", "payments"], mesh_env.environ())

    assert result.returncode == 1
    assert "transactions_2026-11-09.csv has header 'id,amount'" in result.stdout
    assert not (mesh_env.lake / "payments" / "raw" / "transactions").exists()
