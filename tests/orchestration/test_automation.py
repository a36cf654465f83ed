"""Automation with the daemon: a new landing file reaches finance without a manual run.

One real ``dagster dev`` (webserver, daemon, a code server per domain) runs for the module over the
project's workspace, with its own instance, lake and landing folder in a temporary directory. The
test only moves files into the landing folder and watches: the landing sensor ingests them, the
automation condition sensors carry the update from payments to finance, across code locations.
"""

import csv
import shutil
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from platform_lib.errors import MeshError
from platform_lib.lake.reader import table_exists
from platform_lib.orchestration.automation import scan_landing
from platform_lib.settings import resolve_settings
from tests.conftest import BIN, sql
from tests.webserver import (
    STARTUP_TIMEOUT,
    Webserver,
    mesh_environment,
    serving,
)

DAILY_REVENUE = ["finance", "product", "daily_revenue"]
INTERVAL_SECONDS = 3
FLOW_TIMEOUT = 240.0
POLL_SECONDS = 2.0
TRANSACTIONS = "payments/transactions"
FIRST_DAY = "transactions_2026-11-01.csv"
NEW_DAY = "transactions_2026-11-02.csv"

SENSOR_QUERY = """
query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { status ticks(limit: 1) { status timestamp } } }
  }
}
"""

MATERIALIZATIONS_QUERY = """
query Materializations($path: [String!]!) {
  assetOrError(assetKey: {path: $path}) {
    ... on Asset { assetMaterializations(limit: 100) { runId timestamp } }
  }
}
"""

FAILED_RUNS_QUERY = """
{
  runsOrError(filter: {statuses: [FAILURE]}) {
    ... on Runs { results { runId endTime assetSelection { path } } }
  }
}
"""


class Mesh:
    """The running ``dagster dev`` (its webserver's GraphQL) and the folders it works on."""

    def __init__(self, server: Webserver, root: Path) -> None:
        self.server = server
        self.landing = root / "landing" / TRANSACTIONS
        self.held_back = root / "held_back"
        self.lake = Path(server.env["MESH_LAKE_ROOT"])

    def deliver(self, name: str) -> None:
        """A landing file arrives (written elsewhere, then moved in, as a transfer tool does)."""
        shutil.move(self.held_back / name, self.landing / name)

    def last_tick(self, location: str, sensor: str) -> float | None:
        selector = {
            "repositoryLocationName": location,
            "repositoryName": "__repository__",
            "sensorName": sensor,
        }
        found = self.server.graphql(SENSOR_QUERY, selector=selector)["sensorOrError"]
        assert found["__typename"] == "Sensor", found
        assert found["sensorState"]["status"] == "RUNNING", found
        ticks = found["sensorState"]["ticks"]
        return float(ticks[0]["timestamp"]) if ticks else None

    def materializations(self, path: list[str]) -> list[dict[str, Any]]:
        asset = self.server.graphql(MATERIALIZATIONS_QUERY, path=path)["assetOrError"]
        return list(asset.get("assetMaterializations") or [])

    def table(self, key: str) -> pa.Table | None:
        uri = str(self.lake / key)
        return DeltaTable(uri).to_pyarrow_table() if table_exists(uri) else None

    def wait_for(self, what: str, condition: Any, timeout: float = FLOW_TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(POLL_SECONDS)
        pytest.fail(f"{what} within {timeout:.0f}s; dagster dev output:\n{self.server.output()}")


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """``dagster dev`` over the workspace; only the first day's file has landed."""
    root = tmp_path_factory.mktemp("automation")
    env = mesh_environment(root)
    env["MESH_AUTOMATION_INTERVAL_SECONDS"] = str(INTERVAL_SECONDS)
    landing = root / "landing" / TRANSACTIONS
    held_back = root / "held_back"
    held_back.mkdir()
    for path in landing.iterdir():
        if path.name != FIRST_DAY:
            shutil.move(path, held_back / path.name)
    command = [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1"]
    with serving(command, env, root / "dagster-dev.log") as (_, server):
        running = Mesh(server, root)
        running.wait_for("the webserver did not answer", _answers(server), STARTUP_TIMEOUT)
        yield running


def _answers(server: Webserver) -> Any:
    def answers() -> bool:
        try:
            server.graphql("{ version }")
        except OSError:
            return False
        return True

    return answers


def _days(table: pa.Table | None) -> set[date]:
    return set() if table is None else set(table.column("day").to_pylist())


def test_a_new_landing_file_reaches_finance_without_a_manual_run(mesh: Mesh) -> None:
    # The daemon must have evaluated both domains once: an update is what they react to.
    for location in ("payments", "finance"):
        mesh.wait_for(
            f"{location}_automation did not tick",
            lambda location=location: mesh.last_tick(location, f"{location}_automation"),
        )
    started = time.monotonic()

    mesh.deliver(NEW_DAY)

    revenue = mesh.wait_for(
        "finance/product/daily_revenue did not get the new day",
        lambda: (
            date(2026, 11, 2) in _days(table := mesh.table("finance/product/daily_revenue"))
            and table
        ),
    )
    elapsed = time.monotonic() - started
    curated = mesh.table("payments/curated/transactions")
    assert curated is not None
    expected = sql(
        "SELECT CAST(timezone('UTC', created_at) AS DATE) AS day, currency, count(*) "
        "FROM curated WHERE status IN ('settled', 'refunded') GROUP BY ALL ORDER BY ALL",
        curated=curated,
    )
    published = sql("SELECT day, currency, transactions FROM revenue ORDER BY ALL", revenue=revenue)
    assert published == expected
    assert {date(2026, 11, 1), date(2026, 11, 2)} <= _days(revenue)
    assert mesh.materializations(DAILY_REVENUE), "no materialisation event recorded"
    print(f"new landing file -> daily_revenue in {elapsed:.0f}s")


def test_a_blocked_curated_publish_stops_the_flow_to_finance(mesh: Mesh) -> None:
    # Runs after the flow above: payments' curated table and finance's revenue exist.
    before = mesh.materializations(DAILY_REVENUE)
    assert before
    curated_version = DeltaTable(str(mesh.lake / "payments/curated/transactions")).version()
    bad = mesh.held_back / "transactions_2026-11-09.csv"
    with bad.open("w", newline="") as sink:
        writer = csv.writer(sink)
        writer.writerow(
            ["transaction_id", "account_id", "amount", "currency", "merchant", "created_at",
             "status"]
        )  # fmt: skip
        for n in range(4000):  # every row breaks currency_known: far over the 10% threshold
            writer.writerow(
                [f"tx_9{n:06d}", "acc_0001", "5.00", "XXX", "Shop", "2026-11-09T10:00:00Z",
                 "settled"]
            )  # fmt: skip

    mesh.deliver(bad.name)

    def curated_failed() -> float | None:
        runs = mesh.server.graphql(FAILED_RUNS_QUERY)["runsOrError"]["results"]
        ends = [
            float(run["endTime"])
            for run in runs
            if ["payments", "curated", "transactions"]
            in [key["path"] for key in run["assetSelection"] or []]
            and run["endTime"]
        ]
        return max(ends, default=None)

    failed_at = mesh.wait_for("payments/curated/transactions was not stopped", curated_failed)
    # Finance's sensor evaluates several times after the failure and requests nothing.
    mesh.wait_for(
        "finance_automation did not tick after the failure",
        lambda: (
            (mesh.last_tick("finance", "finance_automation") or 0)
            > failed_at + 3 * INTERVAL_SECONDS
        ),
        timeout=120,
    )

    assert mesh.materializations(DAILY_REVENUE) == before
    assert DeltaTable(str(mesh.lake / "payments/curated/transactions")).version() == (
        curated_version
    )
    assert date(2026, 11, 9) not in _days(mesh.table("finance/product/daily_revenue"))


def test_landing_scan_announces_each_file_once(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    first = scan_landing(tmp_path, "*.csv", None)
    (tmp_path / "b.csv").write_text("x\n2\n")
    (tmp_path / "ignored.txt").write_text("not a source file")
    second = scan_landing(tmp_path, "*.csv", first.cursor)
    again = scan_landing(tmp_path, "*.csv", second.cursor)
    (tmp_path / "a.csv").write_text("x\n1\n3\n")  # rewritten: a new size
    changed = scan_landing(tmp_path, "*.csv", again.cursor)

    assert [f.name for f in first.new_files] == ["a.csv"]
    assert [f.name for f in second.new_files] == ["b.csv"]
    assert again.new_files == () and again.digest == second.digest
    assert [f.name for f in changed.new_files] == ["a.csv"]
    assert not scan_landing(tmp_path / "missing", "*.csv", None).exists
    assert scan_landing(tmp_path, "*.csv", "not json").new_files == changed.files


def test_a_bad_interval_setting_names_the_variable_and_the_fix() -> None:
    with pytest.raises(MeshError) as raised:
        resolve_settings({"MESH_AUTOMATION_INTERVAL_SECONDS": "ten"})

    assert "MESH_AUTOMATION_INTERVAL_SECONDS" in raised.value.message
    assert "whole number" in raised.value.fix
    assert (
        resolve_settings({"MESH_AUTOMATION_INTERVAL_SECONDS": "7"}).automation_interval_seconds == 7
    )
