"""An append table run by Dagster for real: a run over inputs it already appended adds nothing."""

from pathlib import Path

import pyarrow as pa
from dagster import AssetKey, DagsterInstance, Definitions
from deltalake import DeltaTable

from platform_lib import CsvSource, Layer, TableKey, WriteMode, domain_definitions, reads, table
from platform_lib.contracts.registry import load_registry
from platform_lib.lake.publish.append_inputs import INPUT_VERSIONS_METADATA
from platform_lib.lake.reader import read_arrow
from tests.conftest import RAW_ENVELOPE, MeshEnv, write_contract

READINGS = CsvSource(table="readings", folder="meter/readings", columns=("meter", "kwh"))
LOG = TableKey.parse("meter/curated/log")


@table(
    Layer.CURATED,
    reads={"raw": reads("meter/raw/readings", columns=["meter", "kwh", "_ingested_at"])},
    mode=WriteMode.APPEND,
)
def log(raw: pa.Table) -> pa.Table:
    """The readings of the latest ingestion, added to the log."""
    if raw.num_rows == 0:
        return pa.table({"meter": pa.array([], pa.string()), "kwh": pa.array([], pa.string())})
    latest = max(raw["_ingested_at"].to_pylist())
    rows = [row for row in raw.to_pylist() if row["_ingested_at"] == latest]
    return pa.table(
        {
            "meter": pa.array([row["meter"] for row in rows], pa.string()),
            "kwh": pa.array([row["kwh"] for row in rows], pa.string()),
        }
    )


def meter(folder: Path) -> Definitions:
    write_contract(
        folder,
        "meter/raw/readings",
        """schema:
  - name: readings
    properties:
      - {name: meter, logicalType: string, physicalType: string}
      - {name: kwh, logicalType: string, physicalType: string}
"""
        + RAW_ENVELOPE,
    )
    write_contract(
        folder,
        "meter/curated/log",
        """schema:
  - name: log
    properties:
      - {name: meter, logicalType: string, physicalType: string, required: true}
      - {name: kwh, logicalType: integer, physicalType: int64, required: true}
""",
    )
    registry = load_registry(folder / "contracts")
    return domain_definitions("meter", sources=[READINGS], tables=[log], contracts=registry)


def run(defs: Definitions, instance: DagsterInstance) -> None:
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(instance=instance).success


def land(env: MeshEnv, name: str, body: str) -> None:
    folder = env.landing / "meter" / "readings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("meter,kwh\n" + body)


def versions(env: MeshEnv) -> tuple[int, int]:
    """The versions of the log and of its quarantine."""
    return (
        DeltaTable(LOG.uri(env.settings)).version(),
        DeltaTable(LOG.quarantine.uri(env.settings)).version(),
    )


def test_a_rerun_over_inputs_already_appended_adds_nothing(mesh_env: MeshEnv) -> None:
    defs, instance = meter(mesh_env.root), DagsterInstance.ephemeral()
    land(mesh_env, "a.csv", "m1,10\nm2,20\nm3,x\n")
    run(defs, instance)
    before = versions(mesh_env)

    run(defs, instance)

    assert versions(mesh_env) == before
    assert read_arrow(LOG.uri(mesh_env.settings)).num_rows == 2
    assert read_arrow(LOG.quarantine.uri(mesh_env.settings)).num_rows == 1
    event = instance.get_latest_materialization_event(AssetKey(["meter", "curated", "log"]))
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    assert metadata["mesh/already_appended_at"].value == before[0]
    assert metadata["mesh/delta_version"].value == before[0]
    assert str(metadata["mesh/note"].value).startswith(
        "already appended from these inputs (meter/raw/readings@1)"
    )


def test_a_run_after_an_input_changed_appends(mesh_env: MeshEnv) -> None:
    defs, instance = meter(mesh_env.root), DagsterInstance.ephemeral()
    land(mesh_env, "a.csv", "m1,10\nm2,20\n")
    run(defs, instance)
    land(mesh_env, "b.csv", "m1,11\n")

    run(defs, instance)
    run(defs, instance)

    assert sorted(read_arrow(LOG.uri(mesh_env.settings))["kwh"].to_pylist()) == [10, 11, 20]
    commit = DeltaTable(LOG.uri(mesh_env.settings)).history(1)[0]
    assert commit[INPUT_VERSIONS_METADATA] == "meter/raw/readings@2"
