"""Looking a batch's values up in a Delta table through its file statistics."""

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import write_deltalake

from platform_lib.lake.key_lookup import values_already_held


def test_values_held_are_found_in_any_file_and_others_are_not(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    for start in (0, 100, 200):
        ids = [f"id_{n:04d}" for n in range(start, start + 100)]
        write_deltalake(uri, pa.table({"id": ids, "day": [start] * 100}), mode="append")

    found = values_already_held(uri, "id", pa.array(["id_0050", "id_0250", "id_9999", None]))

    assert sorted(found.to_pylist()) == ["id_0050", "id_0250"]


def test_rows_and_partitions_left_out_do_not_count(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    table = pa.table({"id": ["a", "b", "c"], "day": pa.array([1, 2, 3], pa.int64())})
    write_deltalake(uri, table, partition_by=["day"])

    skipped = values_already_held(uri, "id", pa.array(["a", "b"]), skip_partition=("day", 1))
    filtered = values_already_held(uri, "id", pa.array(["a", "b"]), rows=pc.field("day") != 2)

    assert skipped.to_pylist() == ["b"]
    assert filtered.to_pylist() == ["a"]


def test_long_string_statistics_are_not_trusted(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    long_id = "x" * 40 + "b"
    write_deltalake(uri, pa.table({"id": ["x" * 40 + "a", long_id]}))

    assert values_already_held(uri, "id", pa.array([long_id])).to_pylist() == [long_id]
