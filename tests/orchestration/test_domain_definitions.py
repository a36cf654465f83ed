"""A domain built with platform_lib, run by Dagster for real: conventions, reads, modes, errors."""

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from dagster import AssetExecutionContext, DagsterInstance, Definitions
from duckdb import DuckDBPyConnection, DuckDBPyRelation

from platform_lib import (
    CsvSource,
    Layer,
    MeshError,
    TableKey,
    TableSpec,
    WriteMode,
    domain_definitions,
    reads,
    table,
)
from platform_lib.contracts.registry import load_registry
from platform_lib.lake.reader import read_arrow, table_exists
from platform_lib.orchestration.keys import to_asset_key
from tests.conftest import RAW_ENVELOPE, MeshEnv, write_contract

EVENTS = CsvSource(table="events", folder="shop/events", columns=("day", "n"))


@table(
    Layer.CURATED,
    reads={"raw": reads("shop/raw/events", columns=["day", "n"])},
    mode=WriteMode.REPLACE_PARTITIONS,
    partition_by=["day"],
)
def daily(raw: pa.Table, context: AssetExecutionContext) -> pa.Table:
    """Events per day, one partition per day."""
    context.log.info("computing %s rows", raw.num_rows)
    days = [dt.date.fromisoformat(d) for d in raw["day"].to_pylist()]
    counts = [int(n) if n.isdigit() else None for n in raw["n"].to_pylist()]
    return pa.table({"day": pa.array(days, pa.date32()), "n": pa.array(counts, pa.int64())})


def shop(folder: Path, curated: TableSpec = daily) -> Definitions:
    write_contract(
        folder,
        "shop/raw/events",
        """schema:
  - name: events
    properties:
      - {name: day, logicalType: string, physicalType: string}
      - {name: n, logicalType: string, physicalType: string}
"""
        + RAW_ENVELOPE,
    )
    write_contract(
        folder,
        "shop/curated/daily",
        """schema:
  - name: daily
    properties:
      - {name: day, logicalType: date, physicalType: date, required: true, partitioned: true}
      - {name: n, logicalType: integer, physicalType: int64, required: true}
""",
    )
    registry = load_registry(folder / "contracts")
    return domain_definitions("shop", sources=[EVENTS], tables=[curated], contracts=registry)


def run(defs: Definitions) -> bool:
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False
    ).success


def land(env: MeshEnv, name: str, body: str) -> None:
    folder = env.landing / "shop" / "events"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("day,n\n" + body)


def test_partition_replace_rewrites_only_the_days_of_the_batch(mesh_env: MeshEnv) -> None:
    key = TableKey.parse("shop/curated/daily")
    land(mesh_env, "a.csv", "2026-11-01,1\n2026-11-02,2\n2026-11-02,x\n")
    assert run(shop(mesh_env.root))

    land(mesh_env, "b.csv", "2026-11-02,5\n")
    assert run(shop(mesh_env.root))

    table = read_arrow(key.uri(mesh_env.settings)).sort_by(
        [("day", "ascending"), ("n", "ascending")]
    )
    quarantine = read_arrow(key.quarantine.uri(mesh_env.settings))
    assert table["n"].to_pylist() == [1, 2, 5]
    assert quarantine["violated_rules"].to_pylist() == [["n_required"]]


@table(Layer.CURATED, reads={"raw": reads("shop/raw/events")})
def firsts(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
    """One row per day, ordered by file name: the wrong order, which the platform corrects."""
    return duckdb.sql("SELECT day, n, _source_file, _arrival_seq FROM raw ORDER BY _source_file")


def test_a_relation_is_judged_in_arrival_order_whatever_its_order_by(mesh_env: MeshEnv) -> None:
    key = TableKey.parse("shop/curated/firsts")
    write_contract(
        mesh_env.root,
        str(key),
        """schema:
  - name: firsts
    properties:
      - {name: day, logicalType: string, physicalType: string, required: true, unique: true}
      - {name: n, logicalType: string, physicalType: string}
""",
    )
    defs = shop(mesh_env.root, firsts)
    land(mesh_env, "b.csv", "2026-11-01,first\n")
    assert run(defs)

    land(mesh_env, "a-late.csv", "2026-11-01,late\n2026-11-02,new\n2026-11-03,new\n")
    assert run(defs)

    published = read_arrow(key.uri(mesh_env.settings)).sort_by("day")
    quarantine = read_arrow(key.quarantine.uri(mesh_env.settings))
    assert published["n"].to_pylist() == ["first", "new", "new"]
    assert quarantine.select(["n", "violated_rules"]).to_pylist() == [
        {"n": "late", "violated_rules": ["day_unique"]}
    ]


def test_a_raw_contract_from_before_arrival_seq_gets_the_line_to_add(mesh_env: MeshEnv) -> None:
    shop(mesh_env.root)  # writes the contracts
    path = mesh_env.root / "contracts" / "shop" / "raw" / "events.odcs.yaml"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for line in lines if "_arrival_seq" not in line))
    registry = load_registry(mesh_env.root / "contracts")

    with pytest.raises(MeshError, match="the raw contract lists columns") as error:
        domain_definitions("shop", sources=[EVENTS], tables=[daily], contracts=registry)

    assert str(path) in error.value.message
    assert error.value.fix == (
        "add the missing column(s) in their place: "
        "- {name: _arrival_seq, logicalType: integer, physicalType: int64}"
    )


def test_an_undeclared_parameter_is_refused_when_the_domain_is_declared() -> None:
    def sneaky(other: pa.Table) -> pa.Table:
        return other

    with pytest.raises(MeshError, match="parameter\\(s\\) other are not declared reads"):
        table(Layer.PRODUCT)(sneaky)


def test_raw_tables_cannot_be_declared_by_a_domain() -> None:
    with pytest.raises(MeshError, match="raw layer"):
        table(Layer.RAW, name="events")(lambda: pa.table({}))


def test_a_table_declared_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="declares the table shop/curated/daily twice"):
        domain_definitions("shop", tables=[daily, daily], contracts=load_registry(tmp_path))


def test_a_table_without_a_contract_is_refused_with_the_path_to_write(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="shop/curated/daily has no data contract") as error:
        domain_definitions("shop", tables=[daily], contracts=load_registry(tmp_path))
    assert "contracts/shop/curated/daily.odcs.yaml" in error.value.fix


def test_an_invalid_domain_name_is_refused() -> None:
    with pytest.raises(MeshError, match="not a valid name"):
        domain_definitions("Shop-Team")


def test_a_table_whose_contract_is_broken_is_defined_but_never_materialised(
    mesh_env: MeshEnv,
) -> None:
    shop(mesh_env.root)
    contract = mesh_env.root / "contracts" / "shop" / "curated" / "daily.odcs.yaml"
    contract.write_bytes(contract.read_bytes().replace(b"status:", b"stat\xffus:"))
    land(mesh_env, "a.csv", "2026-11-01,1\n")
    key = TableKey.parse("shop/curated/daily")
    raw = TableKey.parse("shop/raw/events")

    defs = domain_definitions(
        "shop",
        sources=[EVENTS],
        tables=[daily],
        contracts=load_registry(mesh_env.root / "contracts"),
    )
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False
    )

    graph = defs.resolve_asset_graph()
    node = graph.get(to_asset_key(key))
    assert node.parent_keys == {to_asset_key(raw)}
    assert not node.check_keys and node.automation_condition is None
    assert graph.get(to_asset_key(raw)).check_keys
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    assert failure.step_key == "shop__curated__daily"
    description = failure.step_failure_data.user_failure_data.description
    assert description == (
        f"{key}: its contract cannot be used: {contract}:5: [yaml-syntax] the file is not UTF-8 "
        "text (byte 0xff cannot be decoded) (fix: save the file as UTF-8)"
    )
    assert table_exists(raw.uri(mesh_env.settings))
    assert not table_exists(key.uri(mesh_env.settings))
    assert [s.name for s in defs.sensors] == ["shop_events_landing", "shop_alerts"]
