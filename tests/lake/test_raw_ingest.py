"""Raw ingestion keeps every record, is idempotent, and refuses bad landing files cleanly."""

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from platform_lib.errors import MeshError
from platform_lib.lake.committer import Committer, WriteMode
from platform_lib.lake.raw_ingest import (
    UPGRADE_METADATA,
    CsvSource,
    JsonlSource,
    ingest_landing_folder,
    upgrade_to_arrival_order,
)
from platform_lib.lake.reader import read_arrow, table_state

SOURCE = CsvSource(table="things", folder="d/things", columns=("id", "name"))


def land(landing: Path, name: str, content: bytes) -> None:
    folder = landing / "d" / "things"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)


def test_every_record_is_kept_with_its_envelope(tmp_path: Path) -> None:
    landing, uri = tmp_path / "landing", str(tmp_path / "raw")
    land(landing, "a.csv", b'id,name\r\n1,one\r\n2,"two\r\nlines"\r\n3\r\n\xff,x\r\n4,f\x00ur\r\n')

    result = ingest_landing_folder(SOURCE, landing, uri)

    table = read_arrow(uri).sort_by("_line_number")
    assert result.records == table.num_rows == 5
    assert result.unparseable == 3
    assert table["_line_number"].to_pylist() == [2, 3, 5, 6, 7]
    assert table["name"].to_pylist() == ["one", "two\nlines", None, None, None]
    assert table["_raw_record"].to_pylist()[2] == "3"
    assert table["_parse_error"].to_pylist()[:3] == [None, None, "expected 2 fields, found 1"]
    assert set(table["_source_file"].to_pylist()) == {"d/things/a.csv"}
    assert len(set(table["_batch_id"].to_pylist())) == 1


def test_reingesting_adds_nothing_and_new_files_are_appended(tmp_path: Path) -> None:
    landing, uri = tmp_path / "landing", str(tmp_path / "raw")
    land(landing, "a.csv", b"id,name\n1,one\n")
    ingest_landing_folder(SOURCE, landing, uri)

    again = ingest_landing_folder(SOURCE, landing, uri)
    land(landing, "b.csv", b"id,name\n2,two\n3,three\n")
    more = ingest_landing_folder(SOURCE, landing, uri)

    assert again.records == 0 and again.files_skipped == ("d/things/a.csv",)
    assert more.files_ingested == ("d/things/b.csv",)
    # Versions: the table's creation (empty), then one commit per ingestion that added records.
    assert table_state(uri) == table_state(uri).model_copy(update={"rows": 3, "version": 2})


def test_a_wrong_header_names_the_file_and_writes_nothing(tmp_path: Path) -> None:
    landing, uri = tmp_path / "landing", str(tmp_path / "raw")
    land(landing, "a.csv", b"id,name\n1,one\n")
    land(landing, "b.csv", b"id,nom\n2,deux\n")

    with pytest.raises(MeshError, match=r"b\.csv has header 'id,nom', expected 'id,name'"):
        ingest_landing_folder(SOURCE, landing, uri)
    assert table_state(uri) is None


def test_a_missing_landing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match=r"landing folder .* does not exist") as error:
        ingest_landing_folder(SOURCE, tmp_path / "nowhere", str(tmp_path / "raw"))
    assert "MESH_LANDING_ROOT" in error.value.fix


def test_an_empty_landing_folder_creates_an_empty_readable_table(tmp_path: Path) -> None:
    landing, uri = tmp_path / "landing", str(tmp_path / "raw")
    (landing / "d" / "things").mkdir(parents=True)

    ingest_landing_folder(SOURCE, landing, uri)

    assert read_arrow(uri).schema == SOURCE.arrow_schema()


JSONL = JsonlSource(table="things", folder="d/things", columns=("id", "name"))


def test_jsonl_lines_are_kept_parsed_or_with_their_error(tmp_path: Path) -> None:
    landing, uri = tmp_path / "landing", str(tmp_path / "raw")
    land(
        landing,
        "a.jsonl",
        b'{"id": 1, "name": "one"}\r\n\n{"id": 2}\n[1, 2]\n{"id": 3, "x": 1}\n{oops\n'
        b'{"id": "\xff"}\n',
    )

    result = ingest_landing_folder(JSONL, landing, uri)

    rows = read_arrow(uri).sort_by("_line_number").to_pylist()
    assert result.records == 6 and result.unparseable == 4
    assert [(r["id"], r["name"]) for r in rows[:2]] == [("1", "one"), ("2", None)]
    assert [r["_line_number"] for r in rows] == [1, 3, 4, 5, 6, 7]
    errors = [r["_parse_error"] for r in rows[2:]]
    assert errors[0] == "expected a JSON object, found list"
    assert errors[1] == "unexpected field(s) x"
    assert errors[2].startswith("invalid JSON")
    assert errors[3].startswith("undecodable bytes")


def test_arrival_seq_follows_ingestions_then_file_names_then_lines(tmp_path: Path) -> None:
    landing, uri = tmp_path / "landing", str(tmp_path / "raw")
    land(landing, "m.csv", b"id,name\n1,one\n2,two\n")
    land(landing, "b.csv", b"id,name\n3,three\n")
    first = ingest_landing_folder(SOURCE, landing, uri)
    land(landing, "a-late.csv", b"id,name\n1,late\n4,four\n")

    second = ingest_landing_folder(SOURCE, landing, uri)

    table = read_arrow(uri).sort_by("_arrival_seq")
    arrival = list(zip(table["_source_file"].to_pylist(), table["name"].to_pylist(), strict=True))
    assert arrival == [
        ("d/things/b.csv", "three"),
        ("d/things/m.csv", "one"),
        ("d/things/m.csv", "two"),
        ("d/things/a-late.csv", "late"),
        ("d/things/a-late.csv", "four"),
    ]
    assert table["_arrival_seq"].to_pylist() == [1, 2, 3, 4, 5]
    assert table.schema.field("_arrival_seq") == pa.field("_arrival_seq", pa.int64(), False)
    assert first.rows["_arrival_seq"].to_pylist() == [1, 2, 3]
    assert second.rows["_arrival_seq"].to_pylist() == [4, 5]


def test_a_raw_table_from_before_arrival_seq_is_upgraded_in_one_commit(tmp_path: Path) -> None:
    landing, uri = tmp_path / "landing", str(tmp_path / "raw")
    old_schema = SOURCE.arrow_schema().remove(SOURCE.arrow_schema().get_field_index("_arrival_seq"))
    earlier, later = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    old_rows = [  # written by two ingestions: z.csv first, then a.csv
        ("2", "a-two", later, "d/things/a.csv", 3),
        ("1", "z-one", earlier, "d/things/z.csv", 2),
        ("3", "a-one", later, "d/things/a.csv", 2),
    ]
    Committer(uri).write_table(
        pa.table(
            {
                "id": [r[0] for r in old_rows],
                "name": [r[1] for r in old_rows],
                "_ingested_at": [r[2] for r in old_rows],
                "_batch_id": ["old"] * 3,
                "_source_file": [r[3] for r in old_rows],
                "_source_sha256": ["0" * 64] * 3,
                "_line_number": [r[4] for r in old_rows],
                "_raw_record": ["x"] * 3,
                "_parse_error": [None] * 3,
            },
            schema=old_schema,
        ),
        mode=WriteMode.APPEND,
    )
    land(landing, "b.csv", b"id,name\n4,b-one\n")

    ingest_landing_folder(SOURCE, landing, uri)

    table = read_arrow(uri).sort_by("_arrival_seq")
    assert table.schema == SOURCE.arrow_schema()
    assert table["name"].to_pylist() == ["z-one", "a-one", "a-two", "b-one"]
    assert table["_arrival_seq"].to_pylist() == [1, 2, 3, 4]
    history = DeltaTable(uri).history()
    assert [entry.get(UPGRADE_METADATA) for entry in history[:2]] == [None, "_arrival_seq"]
    assert DeltaTable(uri, version=history[1]["version"]).to_pyarrow_table().num_rows == 3


def test_an_upgraded_table_is_not_upgraded_again(tmp_path: Path) -> None:
    landing, uri = tmp_path / "landing", str(tmp_path / "raw")
    land(landing, "a.csv", b"id,name\n1,one\n")
    ingest_landing_folder(SOURCE, landing, uri)

    assert upgrade_to_arrival_order(Committer(uri)) is False
    assert upgrade_to_arrival_order(Committer(str(tmp_path / "missing"))) is False
