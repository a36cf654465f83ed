"""Fuzzing source parsing: every record of a random landing file reaches raw, once.

Landing files are built from random bytes and near-valid pieces (quotes, ``""``, commas, CR, LF,
CRLF, byte order marks, NUL bytes, bytes that are not UTF-8, unicode, very long fields, deep JSON)
after a valid header (CSV). The records are checked against the modules' documented rules without
re-implementing their parser:

- **CSV** (``csv_records``): after the documented normalisation (a leading BOM dropped, CRLF read
  as LF, a final CR dropped, undecodable bytes shown as ``\\xNN``), the records' texts, placed at
  their line numbers, cover every non-empty physical line exactly once (the header's line aside)
  and no empty line outside them: none lost, none duplicated; a record spanning lines opens a
  quote on its first line; a parsed record's fields are what the ``csv`` module reads from its
  text, as many as the header's; an unparsed one has an error and null fields.
- **JSON Lines** (``jsonl_records``): one record per line that is not blank, its text the line;
  a parsed record's fields are what ``json`` reads from it.
- **raw ingestion** (``raw_ingest``): into a real Delta table in a temporary folder, the raw rows
  are exactly the parsed records (line numbers, texts, errors, fields), and ingesting the folder
  again adds nothing. A wrong CSV header stops the file with a ``MeshError`` and writes nothing.

CI budget: 1,000 parsed files of each kind, 60 ingested CSV files and 30 JSON Lines ones, and
30 wrong headers, derandomized;
``FUZZ_EXAMPLES=5000 .venv/bin/pytest -q tests/fuzz/test_source_parsing_fuzz.py`` runs more (see
:mod:`tests.fuzz.budget`).
"""

import csv
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from platform_lib.errors import MeshError
from platform_lib.lake.csv_records import SourceRecord, parse_csv
from platform_lib.lake.jsonl_records import parse_jsonl
from platform_lib.lake.raw_ingest import (
    CsvSource,
    JsonlSource,
    LandingSource,
    ingest_landing_folder,
)
from platform_lib.lake.reader import read_arrow, table_state
from tests.fuzz.budget import fuzz_settings

BOM = b"\xef\xbb\xbf"
COLUMNS = ("id", "name", "note")
HEADER = b"id,name,note"
CSV_PIECES = (
    b'"',
    b'""',
    b",",
    b"\n",
    b"\r\n",
    b"\r",
    b"\n\n",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xe2\x82\xac",
    BOM,
    b" ",
    b"a",
    b"1,2,3",
    b'1,"two, lines\nhere",3',
    b'x,"unclosed',
    "é,日本,ok".encode(),
)
LONG_FIELD = b"y" * 140_000
"""Longer than the ``csv`` module's field limit (131,072 characters)."""
JSON_PIECES = (
    b'{"id": 1, "name": "a"}',
    b'{"id": "x", "note": null, "name": true}',
    b'{"id": [1, {"b": 2}], "name": 1.50}',
    b'{"other": 1}',
    b"[1, 2]",
    b'"text"',
    b"{",
    b"}",
    b'{"id": "\\u00e9\\ud800"}',
    b'{"\\udc00": 1}',
    b'{"id": "\\ud83d\\ude00"}',
    b'{"id": NaN}',
    b"\n",
    b"\r\n",
    b"\r",
    b" ",
    b"\t",
    b"\x00",
    b"\xff",
    BOM,
)
DEEP_JSON = b'{"id": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A valid header, then a random body of near-valid pieces and random bytes."""
    bom = draw(st.sampled_from([b"", BOM]))
    header_end = draw(st.sampled_from([b"\n", b"\r\n"]))
    pieces = draw(st.lists(st.sampled_from(CSV_PIECES) | st.binary(max_size=12), max_size=40))
    if draw(st.integers(0, 19)) == 0:
        pieces.insert(draw(st.integers(0, len(pieces))), LONG_FIELD)
    return bom + HEADER + header_end + b"".join(pieces)


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    pieces = draw(st.lists(st.sampled_from(JSON_PIECES) | st.binary(max_size=12), max_size=40))
    if draw(st.integers(0, 19)) == 0:
        pieces.insert(draw(st.integers(0, len(pieces))), b"\n" + DEEP_JSON + b"\n")
    return draw(st.sampled_from([b"", BOM])) + b"".join(pieces)


def normalised_lines(data: bytes) -> list[str]:
    """The file's physical lines as ``csv_records`` documents them (BOM, CRLF, final CR)."""
    data = data.removeprefix(BOM).replace(b"\r\n", b"\n")
    data = data.removesuffix(b"\r")
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return [line.decode("utf-8", "backslashreplace") for line in lines]


def assert_csv_records_cover_the_file(data: bytes, records: tuple[SourceRecord, ...]) -> None:
    """Every non-empty line is in exactly one record (the header's in the header)."""
    lines = normalised_lines(data)
    header_line = next(i for i, line in enumerate(lines) if line)
    assert lines[header_line] == HEADER.decode()
    covered = {header_line}
    for record in records:
        start = record.line_number - 1
        count = record.raw_text.count("\n") + 1
        assert "\n".join(lines[start : start + count]) == record.raw_text, record
        span = set(range(start, start + count))
        assert not span & covered, f"line {record.line_number} is in two records"
        covered |= span
        if count > 1:
            assert lines[start].count('"') % 2 == 1, record
    lost = [i + 1 for i, line in enumerate(lines) if line and i not in covered]
    assert not lost, f"lines {lost} are in no record"
    assert [r.line_number for r in records] == sorted(r.line_number for r in records)


def assert_writable(record: SourceRecord) -> None:
    """Every text of ``record`` is UTF-8 text, as the raw table's string columns need."""
    for text in (record.raw_text, record.error, *(record.fields or ())):
        if text is not None:
            text.encode("utf-8")


def assert_csv_fields(record: SourceRecord) -> None:
    """A parsed record holds what the ``csv`` module reads from its text; else an error."""
    if record.error is None:
        assert record.fields is not None
        assert len(record.fields) == len(COLUMNS)
        assert tuple(next(csv.reader([record.raw_text], strict=True))) == record.fields
    else:
        assert record.fields is None and record.error


def assert_jsonl_records(data: bytes, records: tuple[SourceRecord, ...]) -> None:
    """One record per line that is not blank, its text the line; fields as ``json`` reads them."""
    lines = data.removeprefix(BOM).split(b"\n")
    expected = [
        (number, line.removesuffix(b"\r").decode("utf-8", "backslashreplace"))
        for number, line in enumerate(lines, 1)
        if line.removesuffix(b"\r").strip()
    ]
    assert [(r.line_number, r.raw_text) for r in records] == expected
    for record in records:
        assert_writable(record)
        if record.error is not None:
            assert record.fields is None and record.error
            continue
        document = json.loads(record.raw_text)
        assert isinstance(document, dict) and set(document) <= set(COLUMNS)
        assert record.fields is not None
        for column, value in zip(COLUMNS, record.fields, strict=True):
            assert (value is None) == (document.get(column) is None)
            if isinstance(document.get(column), str):
                assert value == document[column]


@fuzz_settings(1_000)
@given(data=csv_files())
def test_csv_records_cover_every_line_once(data: bytes) -> None:
    parsed = parse_csv(data)
    assert parsed.header == COLUMNS
    assert_csv_records_cover_the_file(data, parsed.records)
    for record in parsed.records:
        assert_csv_fields(record)
        assert_writable(record)


@fuzz_settings(1_000)
@given(data=jsonl_files())
def test_jsonl_records_are_every_line_that_is_not_blank(data: bytes) -> None:
    assert_jsonl_records(data, parse_jsonl(data, COLUMNS))


_folders = itertools.count()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz_lake")


def _ingest_twice(
    lake: Path, source: LandingSource, name: str, data: bytes
) -> tuple[tuple[SourceRecord, ...], list[dict[str, object]]]:
    """Land ``data`` as ``name``, ingest it twice; the records and the raw rows (line order)."""
    root = lake / f"case{next(_folders)}"
    landing, uri = root / "landing", str(root / "raw")
    folder = landing / source.folder
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)

    first = ingest_landing_folder(source, landing, uri)
    state = table_state(uri)
    again = ingest_landing_folder(source, landing, uri)

    records = source.records(data, folder / name)
    assert again.records == 0
    assert table_state(uri) == state
    if records:  # a file without records leaves no row to recognise it by: read again, adds 0
        assert again.files_ingested == ()
        assert again.files_skipped == (f"{source.folder}/{name}",)
    rows = read_arrow(uri).sort_by("_line_number").to_pylist()
    assert first.records == len(records) == len(rows)
    assert first.unparseable == sum(r.error is not None for r in records)
    return records, rows


def _assert_rows_are_records(
    rows: list[dict[str, object]], records: tuple[SourceRecord, ...]
) -> None:
    for row, record in zip(rows, records, strict=True):
        assert row["_line_number"] == record.line_number
        assert row["_raw_record"] == record.raw_text
        assert row["_parse_error"] == record.error
        fields = record.fields or (None,) * len(COLUMNS)
        assert tuple(row[c] for c in COLUMNS) == fields


@fuzz_settings(60)
@given(data=csv_files())
def test_every_csv_record_reaches_raw_once(lake: Path, data: bytes) -> None:
    source = CsvSource(table="things", folder="d/things", columns=COLUMNS)
    records, rows = _ingest_twice(lake, source, "f.csv", data)
    assert_csv_records_cover_the_file(data, records)
    _assert_rows_are_records(rows, records)


@fuzz_settings(30)
@given(data=jsonl_files())
def test_every_jsonl_record_reaches_raw_once(lake: Path, data: bytes) -> None:
    source = JsonlSource(table="things", folder="d/things", columns=COLUMNS)
    records, rows = _ingest_twice(lake, source, "f.jsonl", data)
    assert_jsonl_records(data, records)
    _assert_rows_are_records(rows, records)


@fuzz_settings(30)
@given(
    header=st.sampled_from([b"id,name", b"id,name,note,extra", b"name,id,note", b'"id,name,note'])
    | st.binary(max_size=20).filter(lambda h: h.strip(b"\r\n \xef\xbb\xbf") != HEADER),
    body=csv_files(),
)
def test_a_csv_file_with_a_wrong_header_is_refused_and_nothing_is_written(
    lake: Path, header: bytes, body: bytes
) -> None:
    root = lake / f"case{next(_folders)}"
    folder = root / "landing" / "d" / "things"
    folder.mkdir(parents=True)
    content = header + b"\n" + body
    (folder / "f.csv").write_bytes(content)
    source = CsvSource(table="things", folder="d/things", columns=COLUMNS)
    parsed = parse_csv(content)
    if parsed.header == COLUMNS or (parsed.header is None and not parsed.records):
        return  # random bytes that still read as the right header (or as nothing at all)
    with pytest.raises(MeshError, match=r"f\.csv has header .*, expected 'id,name,note'"):
        ingest_landing_folder(source, root / "landing", str(root / "raw"))
    assert table_state(str(root / "raw")) is None
