"""First wins means first to arrive: rows carrying ``_arrival_seq`` are judged in arrival order,
whatever order the table's function returned them in, on every publish path."""

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.partitions import PartitionWrite, daily
from platform_lib.lake.publish import publish_rows
from platform_lib.lake.publish.stream import publish_stream
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.reader import read_arrow, table_state
from tests.conftest import MeshEnv, contract_for, publish_request

KEY = TableKey.parse("shop/curated/bookings")
BOOKINGS = """schema:
  - name: bookings
    physicalType: table
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true, unique: true}
      - {name: day, logicalType: date, physicalType: date, required: true}
      - {name: source, logicalType: string, physicalType: string}
"""
DAY_1, DAY_2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def bookings(rows: list[tuple[str, dt.date, str, int]]) -> pa.Table:
    """Rows of (id, day, source file, arrival number), in the order given."""
    return pa.table(
        {
            "id": [r[0] for r in rows],
            "day": pa.array([r[1] for r in rows], pa.date32()),
            "source": [r[2] for r in rows],
            "_arrival_seq": pa.array([r[3] for r in rows], pa.int64()),
        }
    )


def by_id(env: MeshEnv, key: TableKey) -> dict[str, str]:
    return {row["id"]: row["source"] for row in read_arrow(key.uri(env.settings)).to_pylist()}


def quarantined(env: MeshEnv, key: TableKey) -> list[tuple[str, str, list[str]]]:
    uri = key.quarantine.uri(env.settings)
    if table_state(uri) is None:
        return []
    rows = read_arrow(uri).sort_by("_arrival_seq").to_pylist()
    return [(r["id"], r["source"], r["violated_rules"]) for r in rows]


# A later file whose name sorts first (a-late.csv), returned before the records that arrived first.
LATE_FIRST = [
    ("x", DAY_1, "a-late.csv", 7),
    ("y", DAY_1, "a-late.csv", 8),
    ("x", DAY_1, "b.csv", 1),
    ("z", DAY_1, "b.csv", 2),
]


def test_the_first_to_arrive_wins_in_a_batch_held_whole(mesh_env: MeshEnv, tmp_path: Path) -> None:
    contract = contract_for(tmp_path, str(KEY), BOOKINGS)

    outcome = publish(publish_request(KEY, contract, mesh_env.settings), bookings(LATE_FIRST))

    assert outcome.committed
    assert by_id(mesh_env, KEY) == {"x": "b.csv", "y": "a-late.csv", "z": "b.csv"}
    assert quarantined(mesh_env, KEY) == [("x", "a-late.csv", ["id_unique"])]


def test_the_first_to_arrive_wins_in_a_stream_ordered_batch_by_batch(
    mesh_env: MeshEnv, tmp_path: Path
) -> None:
    contract = contract_for(tmp_path, str(KEY), BOOKINGS)
    # In order across batches, the first batch out of order within itself.
    batches = [
        bookings([("x", DAY_1, "a-late.csv", 2), ("x", DAY_1, "b.csv", 1)]),
        bookings([("z", DAY_1, "b.csv", 3), ("y", DAY_1, "a-late.csv", 4)]),
    ]

    outcome = publish_stream(
        publish_request(KEY, contract, mesh_env.settings),
        pa.RecordBatchReader.from_batches(batches[0].schema, [b.to_batches()[0] for b in batches]),
        batch_rows=2,
    )

    assert outcome.committed
    assert by_id(mesh_env, KEY) == {"x": "b.csv", "y": "a-late.csv", "z": "b.csv"}
    assert quarantined(mesh_env, KEY) == [("x", "a-late.csv", ["id_unique"])]


def test_a_stream_out_of_arrival_order_across_batches_is_refused_and_commits_nothing(
    mesh_env: MeshEnv, tmp_path: Path
) -> None:
    contract = contract_for(tmp_path, str(KEY), BOOKINGS)
    rows = bookings(LATE_FIRST)

    with pytest.raises(MeshError, match="not in arrival order") as error:
        publish_stream(
            publish_request(KEY, contract, mesh_env.settings),
            pa.RecordBatchReader.from_batches(rows.schema, rows.to_batches(max_chunksize=2)),
            batch_rows=2,
        )

    assert "ORDER BY _arrival_seq" in error.value.fix
    assert table_state(KEY.uri(mesh_env.settings)) is None
    assert table_state(KEY.quarantine.uri(mesh_env.settings)) is None


def test_a_table_too_large_to_publish_whole_is_put_in_arrival_order_before_it_streams(
    mesh_env: MeshEnv, tmp_path: Path
) -> None:
    contract = contract_for(tmp_path, str(KEY), BOOKINGS)

    outcome = publish_rows(
        publish_request(KEY, contract, mesh_env.settings),
        bookings(LATE_FIRST),
        stream_threshold_rows=1,
        batch_rows=1,
    )

    assert outcome.committed and outcome.batches == 4
    assert by_id(mesh_env, KEY) == {"x": "b.csv", "y": "a-late.csv", "z": "b.csv"}


def test_a_later_arrival_on_another_day_never_displaces_a_published_row(
    mesh_env: MeshEnv, tmp_path: Path
) -> None:
    contract = contract_for(tmp_path, str(KEY), BOOKINGS)
    settings = mesh_env.settings
    partition = daily("day", start="2026-03-01")
    first = [("x", DAY_1, "b.csv", 1), ("z", DAY_1, "b.csv", 2)]
    late = [
        ("x", DAY_2, "a-late.csv", 3),
        ("v", DAY_2, "a-late.csv", 4),
        ("w", DAY_2, "a-late.csv", 5),
        ("x", DAY_1, "a-late.csv", 6),
    ]
    raw = bookings(first)

    def materialise(day: dt.date, run: str) -> None:
        rows = raw.filter(pc.equal(raw["day"], pa.scalar(day, pa.date32())))
        write = PartitionWrite(partition, day, "date")
        request = publish_request(KEY, contract, settings, run_id=run, partition=write)
        assert publish(request, rows).committed

    materialise(DAY_1, "r1")
    raw = pa.concat_tables([raw, bookings(late)]).sort_by("source")  # the late file sorts first
    for n, day in enumerate([DAY_2, DAY_1, DAY_2]):  # every day again, in any order
        materialise(day, f"r{n + 2}")

    assert by_id(mesh_env, KEY) == {
        "x": "b.csv",
        "z": "b.csv",
        "v": "a-late.csv",
        "w": "a-late.csv",
    }
    assert sorted(quarantined(mesh_env, KEY)) == [
        ("x", "a-late.csv", ["id_unique"]),
        ("x", "a-late.csv", ["id_unique"]),
    ]
