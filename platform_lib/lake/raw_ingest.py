"""The raw layer: landing files (CSV or JSON Lines) become an append-only Delta table, every record
kept.

A raw table holds the source's columns as text, exactly as they arrived, plus envelope columns:

- ``_ingested_at`` (UTC), ``_batch_id``: when and in which ingestion the record arrived;
- ``_source_file``, ``_source_sha256``, ``_line_number``: where it came from;
- ``_raw_record``: the record's original text; ``_parse_error``: why it could not be parsed
  (its source columns are then null), or null;
- ``_arrival_seq``: the record's place in the order of arrival, a number that only grows: an
  ingestion's records come after every record of the ingestions before it, and within one
  ingestion its files come in name order, each file's records in line order. Numbers are unique in
  the table even when ingestions run at the same time (a gap is possible; order is what counts).
  "First" means first to arrive: the record with the lowest ``_arrival_seq``, whatever the names
  of the files.

A raw table written before ``_arrival_seq`` existed is upgraded by its next ingestion, in one
commit of its own: its records are numbered in ``(_ingested_at, _source_file, _line_number)``
order, which is the order they arrived in (earlier versions stay readable through Delta's
history).

Re-ingesting a file already ingested (same name and content) adds nothing, even when two
ingestions of the same folder run at the same time: records are inserted by their key
(:data:`RECORD_KEY`) in one Delta MERGE, which a concurrent commit of the same records makes fail
and retry. A file whose header is not the declared one stops the whole ingestion before anything
is written.
"""

import datetime as dt
import hashlib
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from platform_lib.conventions import ARRIVAL_SEQUENCE
from platform_lib.errors import MeshError
from platform_lib.lake.committer import Committer, WriteConflict, WriteMode, WriteResult
from platform_lib.lake.csv_records import SourceRecord, parse_csv
from platform_lib.lake.jsonl_records import parse_jsonl
from platform_lib.lake.reader import open_dataset, read_arrow, table_exists

ENVELOPE_SCHEMA = pa.schema(
    [
        pa.field("_ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("_batch_id", pa.string(), nullable=False),
        pa.field("_source_file", pa.string(), nullable=False),
        pa.field("_source_sha256", pa.string(), nullable=False),
        pa.field("_line_number", pa.int64(), nullable=False),
        pa.field("_raw_record", pa.string(), nullable=False),
        pa.field("_parse_error", pa.string()),
        pa.field(ARRIVAL_SEQUENCE, pa.int64(), nullable=False),
    ]
)
RECORD_KEY = ("_source_file", "_source_sha256", "_line_number")
"""What identifies a raw record: a record is in the raw table at most once."""
BATCH_ID_METADATA = "mesh.batch_id"
UPGRADE_METADATA = "mesh.upgrade"
"""Commit metadata naming the upgrade a commit made to an older raw table."""
ARRIVAL_ORDER_BEFORE_UPGRADE = ("_ingested_at", "_source_file", "_line_number")
"""The order records of a table written before ``_arrival_seq`` arrived in."""


class LandingSource(BaseModel, ABC):
    """A landing folder of source files feeding one raw table."""

    model_config = ConfigDict(frozen=True)

    table: str = Field(description="Name of the raw table, e.g. 'transactions'.")
    folder: str = Field(description="Folder under the landing root, e.g. 'payments/transactions'.")
    columns: tuple[str, ...] = Field(min_length=1, description="The fields of every record.")
    pattern: str = Field(description="Glob of the files to ingest.")
    description: str = ""

    def arrow_schema(self) -> pa.Schema:
        """The raw table's schema: source columns as text, then the envelope."""
        return pa.schema([pa.field(c, pa.string()) for c in self.columns] + list(ENVELOPE_SCHEMA))

    @abstractmethod
    def records(self, content: bytes, path: Path) -> tuple[SourceRecord, ...]:
        """Every record of one file; raises MeshError when the file as a whole is wrong."""


class CsvSource(LandingSource):
    """CSV files with a header line that must be exactly ``columns``."""

    pattern: str = "*.csv"

    def records(self, content: bytes, path: Path) -> tuple[SourceRecord, ...]:
        """Every record after the header; a wrong header stops the ingestion."""
        parsed = parse_csv(content)
        if (parsed.header is not None or parsed.records) and parsed.header != self.columns:
            found = ",".join(parsed.header) if parsed.header is not None else "an unreadable line"
            raise MeshError(
                f"landing file {path} has header {found!r}, expected {','.join(self.columns)!r}",
                fix="fix the file's first line (or declare the source's columns to match); "
                "nothing was ingested",
            )
        return parsed.records


class JsonlSource(LandingSource):
    """JSON Lines files: one object per line with (some of) the declared ``columns`` as fields."""

    pattern: str = "*.jsonl"

    def records(self, content: bytes, path: Path) -> tuple[SourceRecord, ...]:
        """Every non-empty line; a line that is not a declared object is kept with its error."""
        del path
        return parse_jsonl(content, self.columns)


@dataclass(frozen=True)
class IngestResult:
    """What one ingestion added to a raw table."""

    batch_id: str
    files_ingested: tuple[str, ...]
    files_skipped: tuple[str, ...]
    """Files already in the raw table (same name and content), so not ingested again."""
    records: int
    unparseable: int
    write: WriteResult | None
    rows: pa.Table
    """The rows appended (empty when nothing was new)."""


def ingest_landing_folder(
    source: LandingSource, landing_root: Path, table_uri: str
) -> IngestResult:
    """Append every not-yet-ingested file of ``source`` to the raw table at ``table_uri``.

    Raises:
        MeshError: The landing folder is missing or unreadable, a file is wrong as a whole
            (a CSV file's header), or ``table_uri`` is outside the running domain's prefix.
            Nothing is written in that case.
    """
    committer = Committer(table_uri)
    folder = landing_root / source.folder
    files = _landing_files(folder, source.pattern)
    upgrade_to_arrival_order(committer)
    already = _ingested_files(table_uri)
    batch_id = uuid.uuid4().hex
    ingested_at = dt.datetime.now(dt.UTC)
    batches: list[pa.Table] = []
    new_files: list[str] = []
    skipped: list[str] = []
    for path in files:
        name = path.relative_to(landing_root).as_posix()
        content = _read_bytes(path)
        digest = hashlib.sha256(content).hexdigest()
        if (name, digest) in already:
            skipped.append(name)
            continue
        records = source.records(content, path)
        batches.append(_records_table(records, source, name, digest, batch_id, ingested_at))
        new_files.append(name)
    if not batches and table_exists(table_uri):
        return IngestResult(
            batch_id=batch_id,
            files_ingested=(),
            files_skipped=tuple(skipped),
            records=0,
            unparseable=0,
            write=None,
            rows=source.arrow_schema().empty_table(),
        )
    rows = pa.concat_tables(batches) if batches else source.arrow_schema().empty_table()
    write = committer.insert_new_rows(
        rows,
        key_columns=RECORD_KEY,
        scope=("_source_file", new_files),
        commit_metadata={BATCH_ID_METADATA: batch_id},
        sequence=ARRIVAL_SEQUENCE,
    )
    return IngestResult(
        batch_id=batch_id,
        files_ingested=tuple(new_files),
        files_skipped=tuple(skipped),
        records=write.rows_written,
        unparseable=rows.num_rows - rows.column("_parse_error").null_count,
        write=write,
        rows=_numbered(rows, write.first_number or 1),
    )


def upgrade_to_arrival_order(committer: Committer) -> bool:
    """Give a raw table written before ``_arrival_seq`` existed its arrival sequence, in one
    commit: its records numbered in :data:`ARRIVAL_ORDER_BEFORE_UPGRADE` order. Return whether
    this call upgraded it (False: no table, or already upgraded, by this or a concurrent run).

    Raises:
        WriteConflict: Another writer changed the table meanwhile without upgrading it.
    """
    uri = committer.uri
    if not table_exists(uri) or ARRIVAL_SEQUENCE in open_dataset(uri).schema.names:
        return False
    rows = read_arrow(uri).sort_by([(name, "ascending") for name in ARRIVAL_ORDER_BEFORE_UPGRADE])
    field = ENVELOPE_SCHEMA.field(ARRIVAL_SEQUENCE)
    upgraded = rows.append_column(field, pa.array(range(1, rows.num_rows + 1), pa.int64()))
    try:
        committer.write_table(
            upgraded, mode=WriteMode.OVERWRITE, commit_metadata={UPGRADE_METADATA: field.name}
        )
    except WriteConflict:
        if ARRIVAL_SEQUENCE in open_dataset(uri).schema.names:
            return False  # a concurrent ingestion upgraded it first
        raise
    return True


def _landing_files(folder: Path, pattern: str) -> list[Path]:
    if not folder.is_dir():
        raise MeshError(
            f"landing folder {folder} does not exist or is not a folder",
            fix="create it and put the source files there, or point MESH_LANDING_ROOT elsewhere",
        )
    try:
        return sorted(p for p in folder.glob(pattern) if p.is_file())
    except OSError as error:
        raise MeshError(
            f"landing folder {folder} cannot be read: {error.strerror}",
            fix="give the process read permission on the folder",
        ) from error


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise MeshError(
            f"landing file {path} cannot be read: {error.strerror}",
            fix="give the process read permission on the file",
        ) from error


def _ingested_files(table_uri: str) -> set[tuple[str, str]]:
    if not table_exists(table_uri):
        return set()
    seen = read_arrow(table_uri, columns=["_source_file", "_source_sha256"])
    pairs = pc.unique(
        pc.binary_join_element_wise(seen["_source_file"], seen["_source_sha256"], "\x00")
    )
    return {tuple(p.split("\x00", 1)) for p in pairs.to_pylist()}


def _records_table(
    records: tuple[SourceRecord, ...],
    source: LandingSource,
    name: str,
    digest: str,
    batch_id: str,
    ingested_at: dt.datetime,
) -> pa.Table:
    count = len(records)
    columns: dict[str, list[str | None]] = {c: [] for c in source.columns}
    for record in records:
        for index, column in enumerate(source.columns):
            columns[column].append(record.fields[index] if record.fields is not None else None)
    envelope = {
        "_ingested_at": [ingested_at] * count,
        "_batch_id": [batch_id] * count,
        "_source_file": [name] * count,
        "_source_sha256": [digest] * count,
        "_line_number": [r.line_number for r in records],
        "_raw_record": [r.raw_text for r in records],
        "_parse_error": [r.error for r in records],
        ARRIVAL_SEQUENCE: [0] * count,  # numbered by the commit (see ingest_landing_folder)
    }
    return pa.table({**columns, **envelope}, schema=source.arrow_schema())


def _numbered(rows: pa.Table, first: int) -> pa.Table:
    """``rows`` with the arrival numbers their commit gave them (``first``, ``first + 1``, ...)."""
    index = rows.schema.get_field_index(ARRIVAL_SEQUENCE)
    numbers = pa.array(range(first, first + rows.num_rows), pa.int64())
    return rows.set_column(index, rows.schema.field(index), numbers)
