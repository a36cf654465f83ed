"""`mesh replay`: a table recomputed through Dagster after a fix publishes each row exactly once."""

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from dagster import DagsterInstance

from platform_lib.contracts.registry import project_registry
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.committer import Committer, WriteMode
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.reader import read_arrow
from platform_lib.mesh.graph import load_mesh
from platform_lib.mesh.run import materialize_mesh
from platform_lib.operations.quarantine import quarantine_report
from platform_lib.operations.replay import REPLAY_TAG, replay_table
from platform_lib.settings import resolve_settings
from tests.conftest import (
    PROJECT_ROOT,
    MeshEnv,
    daily_project,
    publish_request,
    run_command,
    scratch_project,
    write_contract,
)

SHOP = '''
import pyarrow as pa

from platform_lib import Layer, domain_definitions, table


@table(Layer.CURATED)
def orders() -> pa.Table:
    """Twenty orders: two refunds (negative amounts) and one without an id."""
    ids = [f"o{n:02d}" for n in range(1, 20)] + [None]
    amounts = [n for n in range(1, 18)] + [-5, -7, 3]
    return pa.table({"order_id": ids, "amount": amounts})


defs = domain_definitions("shop", tables=[orders])
'''
BOOKS = '''
from duckdb import DuckDBPyConnection, DuckDBPyRelation

from platform_lib import Layer, domain_definitions, reads, table


@table(Layer.PRODUCT, reads={"orders": reads("shop/curated/orders")})
def totals(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
    """How many orders and their total."""
    return duckdb.sql("SELECT count(*)::BIGINT AS orders, sum(amount)::BIGINT AS total FROM orders")


defs = domain_definitions("books", tables=[totals])
'''
ORDERS = """schema:
  - name: orders
    physicalType: table
    properties:
      - {{name: order_id, logicalType: string, physicalType: string, required: true, unique: true}}
      - name: amount
        logicalType: integer
        physicalType: int64
        logicalTypeOptions: {{{bound}}}
"""
STRICT = ORDERS.format(bound="exclusiveMinimum: 0")
FIXED = ORDERS.format(bound="minimum: -100")
TOTALS = """schema:
  - name: totals
    physicalType: table
    properties:
      - {name: orders, logicalType: integer, physicalType: int64}
      - {name: total, logicalType: integer, physicalType: int64}
"""
ORDERS_KEY = "shop/curated/orders"
TOTALS_KEY = "books/product/totals"


def two_domain_project(root: Path) -> dict[str, str]:
    """A scratch project: shop's orders (strict contract) read by books' totals."""
    return scratch_project(
        root,
        "replaymesh",
        {"shop": SHOP, "books": BOOKS},
        {ORDERS_KEY: STRICT, TOTALS_KEY: TOTALS},
    )


def test_replay_after_a_contract_fix_publishes_repaired_rows_once(tmp_path: Path) -> None:
    env = two_domain_project(tmp_path)
    lake = tmp_path / "lake"
    first = run_command(["mesh", "materialize", "-s", "shop/*,books/*"], env, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    write_contract(tmp_path, ORDERS_KEY, FIXED)  # the fix: refunds are valid orders

    replayed = run_command(["mesh", "replay", ORDERS_KEY, "--json"], env, cwd=tmp_path)
    again = run_command(["mesh", "replay", ORDERS_KEY, "--downstream", "--json"], env, cwd=tmp_path)

    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    report = json.loads(replayed.stdout)
    assert report["before"]["rows_published"] == 17
    assert report["before"]["quarantined_by_rule"] == {"amount_range": 2, "order_id_required": 1}
    assert report["after"]["rows_published"] == 19
    assert report["after"]["quarantined_by_rule"] == {"order_id_required": 1}
    assert report["stale_consumers"] == [TOTALS_KEY] and report["rematerialized"] == []
    assert report["succeeded"] is True and len(report["run_ids"]) == 1
    run = DagsterInstance.from_config(env["DAGSTER_HOME"]).get_run_by_id(report["run_ids"][0])
    assert run is not None and run.tags[REPLAY_TAG] == "true"
    assert again.returncode == 0, again.stdout + again.stderr
    second = json.loads(again.stdout)
    assert second["rematerialized"] == [TOTALS_KEY] and second["stale_consumers"] == []
    assert [r["key"] for r in second["runs"]] == [ORDERS_KEY, TOTALS_KEY]
    orders = read_arrow(str(lake / "shop" / "curated" / "orders"))
    ids = orders["order_id"].to_pylist()
    assert len(ids) == len(set(ids)) == 19
    totals = read_arrow(str(lake / "books" / "product" / "totals")).to_pylist()
    assert totals == [{"orders": 19, "total": sum(range(1, 18)) - 12}]


def test_a_daily_table_replays_each_day_from_since_in_its_own_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = daily_project(tmp_path)
    for name in ("MESH_LAKE_ROOT", "DAGSTER_HOME"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    mesh = load_mesh(tmp_path).require_loaded()
    key = TableKey.parse("shop/curated/bookings")
    instance = DagsterInstance.from_config(env["DAGSTER_HOME"])
    days = ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert materialize_mesh(mesh, [key], instance, partitions=days).succeeded

    since = replay_table(mesh, str(key), instance, since=dt.date(2026, 3, 2))
    every_day = replay_table(mesh, str(key), instance)

    assert since.days == days[1:] and every_day.days == days
    assert since.succeeded and len(since.run_ids) == 2 and len(every_day.run_ids) == 3
    replayed_days = {
        run.tags["dagster/partition"]
        for run in (instance.get_run_by_id(run_id) for run_id in since.run_ids)
        if run is not None and run.tags.get(REPLAY_TAG) == "true"
    }
    assert replayed_days == set(days[1:])
    for report in (since, every_day):
        assert report.after.rows_published == report.before.rows_published == 6
        assert report.after.quarantined_by_rule == {"partition_day": 3}
    with pytest.raises(MeshError, match="no day to replay from 2026-04-01"):
        replay_table(mesh, str(key), instance, since=dt.date(2026, 4, 1))


def test_raw_tables_since_on_a_whole_table_and_append_tables_are_refused(
    mesh_env: MeshEnv,
) -> None:
    mesh = load_mesh(PROJECT_ROOT).require_loaded()
    curated = TableKey.parse("payments/curated/transactions")
    instance = DagsterInstance.ephemeral()
    rows = pa.table(
        {
            "transaction_id": ["tx_000001"],
            "account_id": ["acc_1"],
            "amount": ["1.00"],
            "currency": ["EUR"],
            "merchant": ["shop"],
            "created_at": ["2026-03-01T10:00:00+00:00"],
            "status": ["settled"],
        }
    )
    publish(
        publish_request(
            curated,
            project_registry(PROJECT_ROOT).require(curated),
            mesh_env.settings,
            mode=WriteMode.APPEND,
            run_id="run_a",
        ),
        rows,
    )

    with pytest.raises(MeshError, match="raw table"):
        replay_table(mesh, "payments/raw/transactions", instance)
    with pytest.raises(MeshError, match="--since applies to daily-partitioned tables"):
        replay_table(mesh, str(curated), instance, since=dt.date(2026, 3, 1))
    with pytest.raises(MeshError, match="append mode"):
        replay_table(mesh, str(curated), instance)
    assert instance.get_runs() == []


DAILY_PAYOUTS = '''
import datetime as dt
from decimal import Decimal

import pyarrow as pa

from platform_lib import Layer, daily, domain_definitions, table


@table(Layer.PRODUCT, partition=daily("day", start="2026-03-01"))
def payouts(partition_date: dt.date) -> pa.Table:
    """Four payouts a day, typed; one with a negative amount (quarantined)."""
    paid_at = dt.datetime.combine(partition_date, dt.time(9, 30), tzinfo=dt.timezone.utc)
    return pa.table(
        {
            "id": [f"{partition_date}-{n}" for n in range(4)],
            "day": [partition_date] * 4,
            "amount": pa.array(
                [Decimal("10.50"), Decimal("-0.05"), Decimal("3.00"), Decimal("7.25")],
                pa.decimal128(38, 2),
            ),
            "paid_at": [paid_at] * 4,
            "n": pa.array([1, 2, 3, 4], pa.int64()),
        }
    )


defs = domain_definitions("bank", tables=[payouts])
'''
PAYOUTS = """schema:
  - name: payouts
    physicalType: table
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true, unique: true}
      - {name: day, logicalType: date, physicalType: date, required: true}
      - name: amount
        logicalType: number
        physicalType: "decimal(18,2)"
        logicalTypeOptions: {minimum: 0}
      - {name: paid_at, logicalType: timestamp, physicalType: timestamp_tz}
      - {name: n, logicalType: integer, physicalType: int64}
"""
PAYOUT_VALUES = {"day": pa.date32(), "amount": pa.decimal128(38, 2), "n": pa.int64()}


def test_a_product_quarantine_is_text_and_a_typed_one_of_an_earlier_version_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = scratch_project(
        tmp_path, "payoutmesh", {"bank": DAILY_PAYOUTS}, {"bank/product/payouts": PAYOUTS}
    )
    for name in ("MESH_LAKE_ROOT", "DAGSTER_HOME"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    mesh = load_mesh(tmp_path).require_loaded()
    key = TableKey.parse("bank/product/payouts")
    instance = DagsterInstance.from_config(env["DAGSTER_HOME"])
    days = ["2026-03-01", "2026-03-02"]
    assert materialize_mesh(mesh, [key], instance, partitions=days).succeeded
    uri = key.quarantine.uri(resolve_settings())
    kept = read_arrow(uri).sort_by("partition_key")
    assert {name: str(kept.schema.field(name).type) for name in ("id", *PAYOUT_VALUES)} == {
        "id": "string", "day": "string", "amount": "string", "n": "string",
    }  # fmt: skip
    assert kept.select(["amount", "paid_at"]).to_pylist() == [
        {"amount": "-0.05", "paid_at": "2026-03-01T09:30:00.000000+00:00"},
        {"amount": "-0.05", "paid_at": "2026-03-02T09:30:00.000000+00:00"},
    ]
    sample = quarantine_report(mesh, str(key), limit=1).samples[0]
    day = sample.partition_key
    assert sample.values == {
        "id": f"{day}-1", "day": day, "amount": "-0.05",
        "paid_at": f"{day}T09:30:00.000000+00:00", "n": "2",
    }  # fmt: skip
    # the quarantine as an earlier version wrote it: the payouts' own types
    typed = kept
    for name, arrow_type in {**PAYOUT_VALUES, "paid_at": pa.timestamp("us", tz="UTC")}.items():
        index = typed.schema.get_field_index(name)
        typed = typed.set_column(index, name, pc.cast(kept[name], arrow_type))
    Committer(uri).write_table(typed, mode=WriteMode.OVERWRITE)

    report = replay_table(mesh, str(key), instance)

    assert report.succeeded and report.days == days
    assert report.after.quarantined_by_rule == {"amount_range": 2}
    after = read_arrow(uri).sort_by("partition_key")
    assert after.schema.field("amount").type == pa.string()
    assert after.select(["amount", "row_hash"]).equals(kept.select(["amount", "row_hash"]))
