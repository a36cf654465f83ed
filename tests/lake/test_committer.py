"""The Delta committer against real tables on disk, read back by deltalake, polars and DuckDB."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.committer import Committer, WriteMode
from platform_lib.lake.reader import read_arrow, table_state
from platform_lib.lake.write_scope import writing_for
from platform_lib.settings import MeshSettings
from tests.conftest import sql

DAY1, DAY2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


def rows(days: list[dt.date], amounts: list[int]) -> pa.Table:
    return pa.table({"day": pa.array(days, pa.date32()), "amount": pa.array(amounts, pa.int64())})


def test_overwrite_then_append_versions_and_rows(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    committer = Committer(uri)
    first = committer.write_table(rows([DAY1], [1]), mode=WriteMode.OVERWRITE)
    second = committer.write_table(rows([DAY1, DAY2], [2, 3]), mode=WriteMode.APPEND)
    third = committer.write_table(rows([DAY2], [4]), mode=WriteMode.OVERWRITE)

    assert (first.version, second.version, third.version) == (0, 1, 2)
    assert second.rows_written == 2
    assert read_arrow(uri)["amount"].to_pylist() == [4]
    assert DeltaTable(uri, version=1).to_pyarrow_table().num_rows == 3


def test_replace_partitions_touches_only_the_batch_days(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    committer = Committer(uri)
    committer.write_table(rows([DAY1, DAY2], [1, 2]), mode=WriteMode.APPEND, partition_by=["day"])

    committer.write_table(
        rows([DAY2, DAY2], [20, 21]), mode=WriteMode.REPLACE_PARTITIONS, partition_by=["day"]
    )

    table = pl.read_delta(uri).sort("amount")
    assert table["amount"].to_list() == [1, 20, 21]


def test_replace_partitions_refuses_a_non_date_partition_column(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    naive = pa.table({"ts": pa.array([dt.datetime(2026, 11, 1, 12)], pa.timestamp("us"))})

    with pytest.raises(MeshError, match="must be a date column"):
        Committer(uri).write_table(naive, mode=WriteMode.REPLACE_PARTITIONS, partition_by=["ts"])
    assert table_state(uri) is None


def test_append_with_another_schema_fails_clearly_and_keeps_the_table(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    committer = Committer(uri)
    committer.write_table(rows([DAY1], [1]), mode=WriteMode.OVERWRITE)

    with pytest.raises(MeshError, match="do not match the table's schema"):
        committer.write_table(pa.table({"other": ["x"]}), mode=WriteMode.APPEND)
    assert table_state(uri) == table_state(uri).model_copy(update={"version": 0, "rows": 1})


def test_tables_are_readable_offline_by_deltalake_polars_and_duckdb(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    Committer(uri).write_table(rows([DAY1, DAY2], [5, 7]), mode=WriteMode.OVERWRITE)

    dataset = DeltaTable(uri).to_pyarrow_dataset()
    total = sql("SELECT sum(amount) FROM dataset", dataset=dataset)[0][0]

    assert total == 12
    assert pl.scan_delta(uri).select(pl.col("amount").sum()).collect().item() == 12
    assert DeltaTable(uri).to_pyarrow_table().num_rows == 2


def test_a_stream_commits_once_at_its_end(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    batches = rows([DAY1, DAY2, DAY2], [1, 2, 3]).to_batches(max_chunksize=1)

    result = Committer(uri).write_table(
        pa.RecordBatchReader.from_batches(batches[0].schema, batches), mode=WriteMode.OVERWRITE
    )

    assert (result.version, result.rows_written) == (0, 3)
    assert sorted(read_arrow(uri)["amount"].to_pylist()) == [1, 2, 3]


def test_a_streams_own_error_reaches_the_caller_and_nothing_is_committed(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    committer = Committer(uri)
    committer.write_table(rows([DAY1], [1]), mode=WriteMode.OVERWRITE)

    class SourceBroke(Exception):
        pass

    def failing() -> Iterator[pa.RecordBatch]:
        yield from rows([DAY2], [2]).to_batches()
        raise SourceBroke("the source went away")

    schema = rows([], []).schema
    with pytest.raises(SourceBroke, match="went away") as raised:
        committer.write_table(
            pa.RecordBatchReader.from_batches(schema, failing()), mode=WriteMode.APPEND
        )

    assert isinstance(raised.value.__cause__, DeltaError)  # deltalake's wrapping, kept as cause
    assert table_state(uri) == table_state(uri).model_copy(update={"version": 0, "rows": 1})


def test_a_stream_replaces_partitions_only_by_a_predicate(tmp_path: Path) -> None:
    committer = Committer(str(tmp_path / "t"))
    reader = rows([DAY1], [1]).to_reader()

    with pytest.raises(MeshError, match="needs the predicate"):
        committer.write_table(reader, mode=WriteMode.REPLACE_PARTITIONS, partition_by=["day"])
    with pytest.raises(MeshError, match="mode is append"):
        committer.write_table(reader, mode=WriteMode.APPEND, predicate="day = '2026-11-01'")
    assert table_state(committer.uri) is None


def test_deletes_and_restores_are_new_versions(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    committer = Committer(uri)
    committer.write_table(rows([DAY1, DAY2], [1, 2]), mode=WriteMode.OVERWRITE)

    deleted = committer.delete_rows("amount = 1")
    restored = committer.restore_version(0, commit_metadata={"mesh.run_id": "undo"})

    assert deleted == 1 and restored == 2
    assert sorted(read_arrow(uri)["amount"].to_pylist()) == [1, 2]
    assert DeltaTable(uri).history(1)[0]["mesh.run_id"] == "undo"


def test_a_committer_outside_the_running_domains_prefix_is_refused(tmp_path: Path) -> None:
    settings = MeshSettings(
        project_root=tmp_path,
        lake_root=str(tmp_path / "lake"),
        landing_root=tmp_path / "landing",
        dagster_home=tmp_path / "dagster",
    )
    other = TableKey.parse("finance/product/revenue")

    with writing_for("payments"), pytest.raises(MeshError, match="may write only under"):
        Committer.for_table(other, settings)
    with writing_for("finance"):
        Committer.for_table(other, settings).write_table(
            rows([DAY1], [1]), mode=WriteMode.OVERWRITE
        )
    assert table_state(other.uri(settings)) is not None
