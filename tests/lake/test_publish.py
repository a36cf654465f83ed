"""Write-audit-publish: valid rows published, rejected rows kept, blocked batches commit nothing."""

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.lake.committer import Committer, WriteMode
from platform_lib.lake.publish.quarantine import reconcile, row_hashes
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.reader import read_arrow, table_state
from tests.conftest import MeshEnv, contract_for, publish_request

KEY = TableKey.parse("shop/curated/orders")
ORDERS = """schema:
  - name: orders
    physicalType: table
    quality:
      - {id: has_rows, metric: rowCount, mustBeGreaterThan: 0, severity: error}
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true}
      - {name: n, logicalType: integer, physicalType: int64}
"""


@pytest.fixture
def contract(tmp_path: Path) -> TableContract:
    return contract_for(tmp_path, str(KEY), ORDERS)


def orders(ids: list[str | None], n: list[str] | None = None) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "n": pa.array(n or ["1"] * len(ids), pa.string()),
            "_line_number": pa.array(range(1, len(ids) + 1), pa.int64()),
        }
    )


def quarantined_runs(env: MeshEnv) -> list[str]:
    uri = KEY.quarantine.uri(env.settings)
    return read_arrow(uri)["run_id"].to_pylist() if table_state(uri) else []


def test_valid_rows_are_published_typed_and_rejects_are_quarantined(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    settings = mesh_env.settings

    outcome = publish(
        publish_request(KEY, contract, settings),
        orders(["a", None, "c", "d"], ["1", "2", "x", "4"]),
    )

    published = read_arrow(KEY.uri(settings))
    quarantine = read_arrow(KEY.quarantine.uri(settings)).sort_by("_line_number")
    assert outcome.committed and outcome.table_rows == 2
    assert published.to_pylist() == [{"id": "a", "n": 1}, {"id": "d", "n": 4}]
    assert quarantine["_line_number"].to_pylist() == [2, 3]
    assert quarantine["n"].to_pylist() == ["2", "x"]
    assert quarantine["violated_rules"].to_pylist() == [["id_required"], ["n_type"]]
    assert quarantine["run_id"].to_pylist() == ["run-1", "run-1"]
    assert DeltaTable(KEY.uri(settings)).history(1)[0]["mesh.run_id"] == "run-1"


@pytest.mark.parametrize("mode", [WriteMode.OVERWRITE, WriteMode.APPEND])
def test_a_blocked_batch_commits_nothing_and_keeps_the_previous_version(
    mesh_env: MeshEnv, contract: TableContract, mode: WriteMode
) -> None:
    settings = mesh_env.settings
    publish(publish_request(KEY, contract, settings, mode=mode), orders(["a"]))
    before = table_state(KEY.uri(settings))

    outcome = publish(
        publish_request(KEY, contract, settings, mode=mode, run_id="run-2"),
        orders([None, None]),
    )

    assert not outcome.committed and outcome.validation.blocked
    assert table_state(KEY.uri(settings)) == before
    assert "run-2" not in quarantined_runs(mesh_env)


def test_appending_the_same_rejects_again_adds_nothing_to_the_quarantine(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    settings = mesh_env.settings

    for run in ("run-1", "run-2"):
        publish(
            publish_request(KEY, contract, settings, mode=WriteMode.APPEND, run_id=run),
            orders(["a", None]),
        )

    assert table_state(KEY.uri(settings)).rows == 2
    assert quarantined_runs(mesh_env) == ["run-1"]


def test_repeating_a_run_keeps_one_copy_of_the_quarantine(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    settings = mesh_env.settings
    batch = orders(["a", None])

    for run in ("run-1", "run-2"):
        publish(publish_request(KEY, contract, settings, run_id=run), batch)

    assert table_state(KEY.uri(settings)).rows == 1
    assert table_state(KEY.quarantine.uri(settings)).rows == 1


def test_quarantine_rows_of_an_interrupted_run_are_reconciled(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    settings = mesh_env.settings
    publish(publish_request(KEY, contract, settings, mode=WriteMode.APPEND), orders(["a", None]))
    # A crash between the two commits: the quarantine of run-2 landed, its publish did not.
    crashed = orders([None]).append_column("violated_rules", pa.array([["id_required"]]))
    crashed = crashed.append_column("run_id", pa.array(["run-2"]))
    crashed = crashed.append_column("row_hash", row_hashes(crashed.drop_columns(["run_id"])))
    Committer(KEY.quarantine.uri(settings)).write_table(
        crashed,
        mode=WriteMode.APPEND,
        commit_metadata={"mesh.run_id": "run-2"},
    )

    removed = reconcile(KEY, settings)

    assert removed == 1
    assert read_arrow(KEY.quarantine.uri(settings))["run_id"].to_pylist() == ["run-1"]
    assert reconcile(KEY, settings) == 0


def test_a_run_without_rejected_rows_keeps_the_quarantine_of_the_runs_before(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    """Found while building the kill harness: a clean append run did not commit to the
    quarantine, so the next run took the earlier run's quarantine rows for an interrupted run's
    and deleted them."""
    settings = mesh_env.settings
    runs: list[tuple[str, list[str | None]]] = [
        ("run-1", ["a", None]),
        ("run-2", ["b"]),
        ("run-3", ["c"]),
    ]
    for run, ids in runs:
        outcome = publish(
            publish_request(KEY, contract, settings, mode=WriteMode.APPEND, run_id=run),
            orders(ids),
        )
        assert outcome.committed
        assert outcome.reconciled_rows == 0

    assert quarantined_runs(mesh_env) == ["run-1"]
    assert sorted(read_arrow(KEY.uri(settings))["id"].to_pylist()) == ["a", "b", "c"]
