"""What the kill harness asserts about a lake: table contents by version, and row accounting.

Contents are compared without the columns that differ between two runs of the same input
(ingestion time, batch id, run id), so a table after a kill can be matched against the table
before the run ("old") and after an un-killed run ("new").
"""

import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable
from pydantic import BaseModel, ConfigDict

from domains.payments.assets import transactions_landing
from platform_lib.lake.reader import table_exists
from platform_lib.settings import MeshSettings
from tests.reliability.kill_scenarios import CURATED, RAW, TABLES

RUN_SPECIFIC_COLUMNS = frozenset({"_ingested_at", "_batch_id", "run_id"})
"""Columns whose values differ between two runs over the same input."""
ABSENT = -1
"""The version of a table that does not exist (yet)."""
CREATED_EMPTY = "created empty"
ROW_KEY = ("_source_file", "_line_number")
"""Identifies a source record in every table of the run (lineage columns)."""


class TableContent(BaseModel):
    """A table's version and a digest of its rows (order and run-specific columns ignored)."""

    model_config = ConfigDict(frozen=True)

    version: int
    rows: int
    digest: str


class TableAfterKill(BaseModel):
    """How one table was found right after a kill."""

    model_config = ConfigDict(frozen=True)

    state: str
    """``old``, ``new``, ``created empty`` (absent before the run, now version 0 with no rows:
    the raw ingest creates a missing table empty, then inserts its rows in a second commit, so
    that concurrent first ingestions stay exactly-once), or ``partial: <why>`` (unreadable,
    another version, other content)."""
    uncommitted_files: int
    """Data files the run wrote that no version references (written, never committed)."""

    @property
    def partial(self) -> bool:
        """Whether the table is anything but its old or its new version."""
        return self.state not in ("old", "new", CREATED_EMPTY)


class Accounting(BaseModel):
    """Row accounting of a lake after a completed run."""

    model_config = ConfigDict(frozen=True)

    source_records: int
    raw_rows: int
    files_once: bool
    """Every landing file is in the raw table with all its records, under one content digest."""
    input_rows: int
    """Raw records that parsed: the curated publish's input."""
    published: int
    quarantined: int
    skipped_by_design: int
    """Input rows the scenario's consumer leaves out (the incremental one skips a record whose
    id an earlier file published): the un-killed run's figure, the same after any kill."""
    duplicates: int
    """Raw records twice (by file and line), published ids twice, quarantined records twice."""
    rows_lost: int
    """Source records missing from raw, and input rows neither published, quarantined nor
    skipped by design."""

    @property
    def holds(self) -> bool:
        """raw = source records, published + quarantined (+ skipped) = input, nothing twice."""
        return (
            self.raw_rows == self.source_records
            and self.files_once
            and self.published + self.quarantined + self.skipped_by_design == self.input_rows
            and self.duplicates == 0
            and self.rows_lost == 0
        )


def table_content(uri: str) -> TableContent:
    """The table's latest version and content digest (reads every row: a missing or truncated
    data file raises)."""
    if not table_exists(uri):
        return TableContent(version=ABSENT, rows=0, digest="")
    table = DeltaTable(uri)
    rows = table.to_pyarrow_table()
    kept = rows.drop_columns([c for c in rows.column_names if c in RUN_SPECIFIC_COLUMNS])
    return TableContent(version=table.version(), rows=rows.num_rows, digest=_digest(kept))


def lake_content(settings: MeshSettings) -> dict[str, TableContent]:
    """:func:`table_content` of every table the run writes, by short name."""
    return {name: table_content(key.uri(settings)) for name, key in TABLES.items()}


def judge_after_kill(
    settings: MeshSettings,
    old: dict[str, TableContent],
    new: dict[str, TableContent],
    files_before: dict[str, set[str]],
) -> dict[str, TableAfterKill]:
    """Each table right after a kill: exactly its old or its new version, or partial."""
    verdicts = {}
    for name, key in TABLES.items():
        uri = key.uri(settings)
        try:
            found = table_content(uri)
        except Exception as error:  # any read failure is the finding
            state = f"partial: unreadable ({type(error).__name__}: {error})"
        else:
            if found == old[name]:
                state = "old"
            elif found == new[name]:
                state = "new"
            elif old[name].version == ABSENT and (found.version, found.rows) == (0, 0):
                state = CREATED_EMPTY
            else:
                state = (
                    f"partial: version {found.version} with {found.rows} rows "
                    f"(old {old[name].version}/{old[name].rows}, new {new[name].version}/"
                    f"{new[name].rows})"
                )
        verdicts[name] = TableAfterKill(
            state=state, uncommitted_files=_uncommitted_files(uri, files_before[name])
        )
    return verdicts


def data_files(uri: str) -> set[str]:
    """The data files on disk under the table's folder (relative paths)."""
    folder = Path(uri)
    if not folder.is_dir():
        return set()
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*.parquet")
        if "_delta_log" not in p.parts
    }


def account(settings: MeshSettings, skipped_by_design: int = 0) -> Accounting:
    """Count the landing records, the raw rows and the curated + quarantine rows."""
    folder = settings.landing_root / transactions_landing.folder
    source: Counter[str] = Counter()
    for path in sorted(folder.glob(transactions_landing.pattern)):
        name = path.relative_to(settings.landing_root).as_posix()
        source[name] = len(transactions_landing.records(path.read_bytes(), path))
    raw = _read(RAW.uri(settings), [*ROW_KEY, "_source_sha256", "_parse_error"])
    raw_keys = _keys(raw)
    per_file = Counter(raw.column("_source_file").to_pylist())
    digests = set(zip(*_columns(raw, "_source_file", "_source_sha256"), strict=True))
    files_once = per_file == source and len(digests) == len(source)
    input_rows = raw.filter(raw.column("_parse_error").is_null()).num_rows
    ids = _columns(_read(CURATED.uri(settings), ["transaction_id"]), "transaction_id")[0]
    quarantined = _keys(_read(CURATED.quarantine.uri(settings), list(ROW_KEY)))
    accounted = len(ids) + len(quarantined) + skipped_by_design
    return Accounting(
        source_records=sum(source.values()),
        raw_rows=raw.num_rows,
        files_once=files_once,
        input_rows=input_rows,
        published=len(ids),
        quarantined=len(quarantined),
        skipped_by_design=skipped_by_design,
        duplicates=_repeats(raw_keys) + _repeats(ids) + _repeats(quarantined),
        rows_lost=max(sum(source.values()) - len(set(raw_keys)), 0)
        + max(input_rows - accounted, 0),
    )


def _repeats(values: Sequence[object]) -> int:
    return len(values) - len(set(values))


def _uncommitted_files(uri: str, before: set[str]) -> int:
    written = data_files(uri) - before
    if not written:
        return 0
    try:
        referenced = {Path(p).name for p in DeltaTable(uri).file_uris()}
    except Exception:  # an unreadable table references nothing
        referenced = set()
    return len({Path(p).name for p in written} - referenced)


def _read(uri: str, columns: list[str]) -> pa.Table:
    if not table_exists(uri):
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    return DeltaTable(uri).to_pyarrow_table(columns=columns)


def _columns(table: pa.Table, *names: str) -> list[list[object]]:
    return [table.column(n).to_pylist() for n in names]


def _keys(table: pa.Table) -> list[tuple[object, ...]]:
    return list(zip(*_columns(table, *ROW_KEY), strict=True))


def _digest(table: pa.Table) -> str:
    ordered = table.select(sorted(table.column_names))
    lines = sorted(repr(tuple(row.values())) for row in ordered.to_pylist())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
