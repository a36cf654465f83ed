"""Re-running every asset with the same inputs yields the same table contents.

The whole demo mesh is materialised twice over the same landing files. Every Delta table of the
lake (raw, curated, products and their quarantines) must hold the same rows after the second run
as after the first; only the columns that name a run (its id, batch id and ingestion time) may
differ, and raw tables keep theirs from the first run (nothing is ingested twice).
"""

import datetime as dt
from pathlib import Path

import pyarrow as pa

from platform_lib.conventions import TableKey
from platform_lib.lake.partitions import PartitionWrite, daily
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.reader import read_arrow
from platform_lib.mesh.graph import load_mesh
from platform_lib.mesh.run import materialize_mesh
from platform_lib.settings import resolve_settings
from tests.concurrent_writer import BOOKINGS
from tests.conftest import PROJECT_ROOT, MeshEnv, contract_for, instance_for, publish_request

RUN_COLUMNS = {"run_id", "_batch_id", "_ingested_at"}
CURATED = "payments/curated/transactions"
BOOKINGS_KEY = TableKey.parse("shop/curated/bookings")


def lake_contents(lake: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table under ``lake``: its rows (run columns left out) in a canonical order."""
    contents = {}
    for log in sorted(lake.rglob("_delta_log")):
        table = read_arrow(str(log.parent))
        kept = table.select([c for c in table.column_names if c not in RUN_COLUMNS])
        rows = (tuple(row.values()) for row in kept.to_pylist())
        contents[log.parent.relative_to(lake).as_posix()] = sorted(rows, key=repr)
    return contents


def test_materialising_the_mesh_again_changes_no_table(mesh_env: MeshEnv) -> None:
    mesh = load_mesh(PROJECT_ROOT).require_loaded()
    instance = instance_for(mesh_env)

    first = materialize_mesh(mesh, list(mesh.tables), instance)
    before = lake_contents(mesh_env.lake)
    raw_before = read_arrow(str(mesh_env.lake / "payments" / "raw" / "transactions"))
    second = materialize_mesh(mesh, list(mesh.tables), instance)
    after = lake_contents(mesh_env.lake)
    raw_after = read_arrow(str(mesh_env.lake / "payments" / "raw" / "transactions"))

    assert first.succeeded and second.succeeded, (first, second)
    assert {r.run_id for r in first.assets}.isdisjoint({r.run_id for r in second.assets})
    assert set(after) == set(before)
    for name in (CURATED, f"{CURATED}__quarantine", "finance/product/daily_revenue"):
        assert before[name], f"{name} is empty: the comparison would prove little"
    for name, rows in before.items():
        assert after[name] == rows, f"{name} changed when re-run with the same inputs"
    assert raw_after.equals(raw_before) and isinstance(raw_after, pa.Table)


def test_publishing_a_day_again_changes_neither_the_table_nor_its_quarantine(
    tmp_path: Path,
) -> None:
    settings = resolve_settings({"MESH_LAKE_ROOT": str(tmp_path / "lake")})
    contract = contract_for(tmp_path, str(BOOKINGS_KEY), BOOKINGS)
    day = dt.date(2026, 3, 2)
    batch = pa.table(
        {
            "id": [f"b{i % 18}" for i in range(20)],  # b0 and b1 twice: the unique rule
            "at": pa.array([day] * 19 + [day - dt.timedelta(days=1)], pa.date32()),
            "amount": pa.array([None if i % 7 == 3 else i for i in range(20)], pa.int64()),
        }
    )

    def publish_day(run_id: str) -> dict[str, list[tuple[object, ...]]]:
        outcome = publish(
            publish_request(
                BOOKINGS_KEY,
                contract,
                settings,
                run_id=run_id,
                partition=PartitionWrite(daily("at", start="2026-03-01"), day, "date"),
            ),
            batch,
        )
        assert outcome.committed, outcome.validation
        return lake_contents(tmp_path / "lake")

    first = publish_day("run-1")
    second = publish_day("run-2")

    assert first[f"{BOOKINGS_KEY}__quarantine"] and first[str(BOOKINGS_KEY)]
    assert second == first
