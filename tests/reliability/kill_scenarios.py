"""The materialisation the kill harness interrupts: the demo's payments raw ingest, then the
curated publish of ``payments/curated/transactions`` (the domain's own query and contract), each
scenario taking another write path of the platform.

A scenario starts from a lake where the first landing files are already materialised and a new
one has arrived (or from an empty lake), so "old" and "new" table versions both have content.
The steps are the ones the Dagster assets run (``ingest_landing_folder``, the domain function
over the raw table in DuckDB, ``publish_rows`` over its Arrow reader), called directly so that a
child process starts in well under a second (no Dagster import).
"""

import datetime as dt
import shutil
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict

from domains.payments.assets import transactions, transactions_landing
from platform_lib.contracts.registry import project_registry
from platform_lib.conventions import TableKey
from platform_lib.lake.committer import WriteMode
from platform_lib.lake.duckdb_inputs import register_input
from platform_lib.lake.partitions import PartitionWrite, daily
from platform_lib.lake.publish import publish_rows
from platform_lib.lake.publish.outcome import WritePath
from platform_lib.lake.publish.request import PublishRequest
from platform_lib.lake.raw_ingest import ingest_landing_folder
from platform_lib.lake.reader import open_dataset, table_exists
from platform_lib.quality.stream import DEFAULT_BATCH_ROWS
from platform_lib.settings import MeshSettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_LANDING = PROJECT_ROOT / "data" / "landing" / transactions_landing.folder
RAW = TableKey.parse("payments/raw/transactions")
CURATED = TableKey.parse("payments/curated/transactions")
TABLES: dict[str, TableKey] = {
    "raw": RAW,
    "curated": CURATED,
    "quarantine": CURATED.quarantine,
}
"""The tables a run writes, by the short name the harness reports."""


class Scenario(StrEnum):
    """Which write path of the platform a run takes."""

    OVERWRITE = "overwrite"
    """The demo: the whole raw table published whole; the quarantine overwritten with it."""
    INCREMENTAL = "incremental"
    """Append the raw records whose id is not published yet; the quarantine is merged."""
    FIRST = "first"
    """INCREMENTAL into an empty lake: every table (quarantine included) created by the run."""
    STREAM = "stream"
    """OVERWRITE through ``publish_stream`` in small batches (quarantine committed mid-stream)."""
    DAILY = "daily"
    """One UTC day of ``created_at`` published again after late records arrived: the day's rows
    and the day's quarantine rows replaced (partition predicate), the other days untouched."""


@dataclass(frozen=True)
class _Plan:
    mode: WriteMode
    files_before: int
    """Landing files already materialised when the run starts."""
    stream_threshold_rows: int = 1_000_000
    batch_rows: int = DEFAULT_BATCH_ROWS
    day: dt.date | None = None
    """For a daily-partitioned publish: the day written (the raw records of that UTC day)."""


_PLANS = {
    Scenario.OVERWRITE: _Plan(WriteMode.OVERWRITE, files_before=2),
    Scenario.INCREMENTAL: _Plan(WriteMode.APPEND, files_before=2),
    Scenario.FIRST: _Plan(WriteMode.APPEND, files_before=0),
    Scenario.STREAM: _Plan(
        WriteMode.OVERWRITE, files_before=2, stream_threshold_rows=1_000, batch_rows=1_000
    ),
    Scenario.DAILY: _Plan(WriteMode.OVERWRITE, files_before=2, day=dt.date(2026, 11, 2)),
}
_DAILY = daily("created_at", start="2026-10-01")


class RunReport(BaseModel):
    """What one materialisation did."""

    model_config = ConfigDict(frozen=True)

    files_ingested: int
    rows_in: int
    """Rows handed to the curated publish."""
    committed: bool
    path: WritePath
    reconciled_rows: int


def settings_for(workdir: Path) -> MeshSettings:
    """The lake and landing zone of one harness run, under ``workdir``."""
    return MeshSettings(
        project_root=PROJECT_ROOT,
        lake_root=str(workdir / "lake"),
        landing_root=workdir / "landing",
        dagster_home=workdir / "dagster",
    )


def landing_files() -> list[Path]:
    """The demo's payments landing files, in name order."""
    return sorted(DEMO_LANDING.glob(transactions_landing.pattern))


def prepare_start(scenario: Scenario, workdir: Path) -> None:
    """Build the lake a scenario starts from in ``workdir``: its first landing files
    materialised, then every landing file present (the rest are the run's new input)."""
    settings = settings_for(workdir)
    folder = settings.landing_root / transactions_landing.folder
    folder.mkdir(parents=True)
    files = landing_files()
    before = _PLANS[scenario].files_before
    for path in files[:before]:
        shutil.copy2(path, folder / path.name)
    if before:
        materialise(scenario, settings, run_id="start")
    for path in files[before:]:
        shutil.copy2(path, folder / path.name)


def materialise(scenario: Scenario, settings: MeshSettings, *, run_id: str) -> RunReport:
    """Ingest the landing folder into the raw table, then publish the curated table from it."""
    files = ingest_raw(settings)
    return publish_curated(scenario, settings, run_id=run_id, files_ingested=files)


def ingest_raw(settings: MeshSettings) -> int:
    """Append the landing files not yet ingested to the raw table; return how many."""
    ingested = ingest_landing_folder(transactions_landing, settings.landing_root, RAW.uri(settings))
    return len(ingested.files_ingested)


def publish_curated(
    scenario: Scenario, settings: MeshSettings, *, run_id: str, files_ingested: int = 0
) -> RunReport:
    """Write-audit-publish the curated table from the raw table, as the asset does."""
    plan = _PLANS[scenario]
    contract = project_registry(PROJECT_ROOT).require(CURATED)
    with duckdb.connect() as connection:
        register_input(connection, "raw_table", open_dataset(RAW.uri(settings)))
        _raw_view(connection, settings, incremental=plan.mode is WriteMode.APPEND, day=plan.day)
        relation = transactions.compute(duckdb=connection)
        assert isinstance(relation, duckdb.DuckDBPyRelation)
        outcome = publish_rows(
            PublishRequest(
                CURATED,
                contract=contract,
                mode=plan.mode,
                settings=settings,
                run_id=run_id,
                partition=PartitionWrite(_DAILY, plan.day, "timestamp_tz") if plan.day else None,
            ),
            relation.to_arrow_reader(plan.batch_rows),
            stream_threshold_rows=plan.stream_threshold_rows,
            batch_rows=plan.batch_rows,
        )
    return RunReport(
        files_ingested=files_ingested,
        rows_in=outcome.validation.rows_in,
        committed=outcome.committed,
        path=outcome.path,
        reconciled_rows=outcome.reconciled_rows,
    )


def _raw_view(
    connection: duckdb.DuckDBPyConnection,
    settings: MeshSettings,
    *,
    incremental: bool,
    day: dt.date | None,
) -> None:
    """The view ``raw`` the domain function reads: the raw table, or for an incremental run its
    records whose transaction id the curated table does not hold yet (rejected records come
    again: the quarantine's row hash keeps each once; a later record repeating a published id
    is skipped, by design of this consumer); for a daily publish the records of that UTC day."""
    curated = CURATED.uri(settings)
    if incremental and table_exists(curated):
        register_input(connection, "published", open_dataset(curated), ("transaction_id",))
        connection.execute(
            "CREATE OR REPLACE TEMP VIEW raw AS SELECT r.* FROM raw_table AS r "
            "ANTI JOIN published AS p ON trim(r.transaction_id) = p.transaction_id"
        )
    elif day is not None:
        on_day = f"DATE '{day.isoformat()}'"  # a date of this module (a view takes no parameter)
        connection.execute(
            "CREATE OR REPLACE TEMP VIEW raw AS SELECT * FROM raw_table "  # noqa: S608 - ISO date
            f"WHERE CAST(TRY_CAST(trim(created_at) AS TIMESTAMPTZ) AS DATE) = {on_day}"
        )
    else:
        connection.execute("CREATE OR REPLACE TEMP VIEW raw AS SELECT * FROM raw_table")
