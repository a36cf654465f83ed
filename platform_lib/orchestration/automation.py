"""Automation: with the Dagster daemon running, new data flows through the mesh unattended.

Two pieces, both generated for every domain by ``domain_definitions``:

- **Landing sensors**, one per landing source (``<domain>_<table>_landing``): each tick lists the
  landing folder (name, size and modification time of every file matching the source's pattern)
  and requests a run of the raw asset when a file appeared or changed since the last tick. The
  cursor holds the fingerprint of every file seen, so a file is announced once; raw ingestion is
  idempotent by file name and content anyway.
- **Automation conditions** on every curated and product table, evaluated by one automation
  condition sensor per domain (``<domain>_automation``). The asset daemon evaluates the whole
  workspace's asset graph, so a table reacts to a producer's materialisation in another code
  location. A daily-partitioned table materialises its latest day only (``eager`` looks at the
  latest time window); older days are run with ``mesh materialize --partition``.

A failing blocking check stops the flow: the platform's publish then commits nothing and the run
fails, so there is no new materialisation for consumers to react to, and the condition holds a
consumer back while an upstream table's latest run has failed. Dagster's own
``all_deps_blocking_checks_passed`` is not used: a row-level rule of severity ``error`` is a
blocking check whose failure (rows quarantined, the rest published) is reported as a warning, and
that condition ignores severity, so it would stop consumers on every quarantined row.

Both sensors are RUNNING by default and tick every ``MESH_AUTOMATION_INTERVAL_SECONDS`` (10);
turning them off in the UI (Automation page) pauses the flow.
"""

import hashlib
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from dagster import (
    AssetSelection,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)
from pydantic import BaseModel, ConfigDict

from platform_lib.conventions import TableKey
from platform_lib.lake.raw_ingest import LandingSource
from platform_lib.orchestration.keys import to_asset_key
from platform_lib.settings import MeshSettings, resolve_settings

LANDING_DIGEST_TAG = "mesh/landing_digest"


class LandingFile(BaseModel):
    """What a landing sensor notes about one file: enough to see that it is new or changed."""

    model_config = ConfigDict(frozen=True)

    name: str
    size: int
    modified_ns: int

    @property
    def fingerprint(self) -> str:
        """A short digest of the name, size and modification time."""
        text = f"{self.name}\0{self.size}\0{self.modified_ns}"
        return hashlib.sha256(text.encode()).hexdigest()[:20]


class LandingScan(BaseModel):
    """The files of one landing folder at one moment, and which of them are new since a cursor."""

    model_config = ConfigDict(frozen=True)

    folder: Path
    exists: bool
    files: tuple[LandingFile, ...]
    new_files: tuple[LandingFile, ...]

    @property
    def cursor(self) -> str:
        """The cursor to store: the fingerprints of every file present now."""
        return json.dumps(sorted(f.fingerprint for f in self.files))

    @property
    def digest(self) -> str:
        """One digest of the folder's state, used as the run key."""
        return hashlib.sha256(self.cursor.encode()).hexdigest()[:20]


def scan_landing(folder: Path, pattern: str, cursor: str | None) -> LandingScan:
    """List ``folder``'s files matching ``pattern`` and those not in ``cursor`` (a previous scan's).

    A missing folder is an empty scan with ``exists`` False (the sensor says so and waits); an
    unreadable cursor counts every file as new, which is safe: ingestion skips known files.
    """
    if not folder.is_dir():
        return LandingScan(folder=folder, exists=False, files=(), new_files=())
    files = []
    for path in sorted(folder.glob(pattern)):
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed while listing
            continue
        if path.is_file():
            files.append(
                LandingFile(name=path.name, size=stat.st_size, modified_ns=stat.st_mtime_ns)
            )
    seen = _seen_fingerprints(cursor)
    new_files = tuple(f for f in files if f.fingerprint not in seen)
    return LandingScan(folder=folder, exists=True, files=tuple(files), new_files=new_files)


def _seen_fingerprints(cursor: str | None) -> set[str]:
    if not cursor:
        return set()
    try:
        loaded = json.loads(cursor)
    except ValueError:
        return set()
    return {str(item) for item in loaded} if isinstance(loaded, list) else set()


def landing_sensor(
    source: LandingSource, key: TableKey, *, interval_seconds: int
) -> SensorDefinition:
    """The sensor requesting a run of the raw table ``key`` when ``source``'s folder has new files.

    The folder is resolved at each tick from the settings (``MESH_LANDING_ROOT``), as runs do.
    """

    @sensor(
        name=f"{key.domain}_{key.table}_landing",
        description=f"Ingests new files of the landing folder {source.folder}/{source.pattern} "
        f"into {key}.",
        asset_selection=[to_asset_key(key)],
        minimum_interval_seconds=interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
    )
    def _landing(context: SensorEvaluationContext) -> SensorResult | SkipReason:
        folder = resolve_settings().landing_root / source.folder
        scan = scan_landing(folder, source.pattern, context.cursor)
        if not scan.exists:
            return SkipReason(
                f"landing folder {folder} does not exist yet; create it or set MESH_LANDING_ROOT"
            )
        if not scan.new_files:
            return SensorResult(skip_reason=f"no new file in {folder}", cursor=scan.cursor)
        names = ", ".join(f.name for f in scan.new_files[:5])
        more = len(scan.new_files) - 5
        context.log.info(f"new in {folder}: {names}{f' and {more} more' if more > 0 else ''}")
        return SensorResult(
            run_requests=[
                RunRequest(
                    run_key=scan.digest,
                    asset_selection=[to_asset_key(key)],
                    tags={LANDING_DIGEST_TAG: scan.digest},
                )
            ],
            cursor=scan.cursor,
        )

    return _landing


@cache
def consumer_condition() -> AutomationCondition:
    """The automation condition of every curated and product table.

    Eager (materialise when a dependency was updated, once none is missing or running), held back
    while a dependency's latest run has failed, e.g. stopped by a blocking check.
    """
    return (
        AutomationCondition.eager()
        & ~AutomationCondition.any_deps_match(AutomationCondition.execution_failed()).with_label(
            "any_deps_failed"
        )
    ).with_label("mesh_eager")


def automation_sensor(
    domain: str, keys: Sequence[TableKey], *, interval_seconds: int
) -> AutomationConditionSensorDefinition:
    """The sensor evaluating the automation conditions of ``domain``'s tables ``keys``."""
    return AutomationConditionSensorDefinition(
        f"{domain}_automation",
        target=AssetSelection.assets(*(to_asset_key(key) for key in keys)),
        description=f"Materialises {domain}'s tables when the tables they read are updated.",
        default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=interval_seconds,
    )


def domain_sensors(
    domain: str,
    *,
    sources: Sequence[tuple[LandingSource, TableKey]],
    tables: Sequence[TableKey],
    settings: MeshSettings,
) -> list[SensorDefinition]:
    """Every automation sensor of one domain: a landing sensor per source, and one automation
    condition sensor over its tables (none when it has no table)."""
    interval = settings.automation_interval_seconds
    sensors: list[SensorDefinition] = [
        landing_sensor(source, key, interval_seconds=interval) for source, key in sources
    ]
    if tables:
        sensors.append(automation_sensor(domain, tables, interval_seconds=interval))
    return sensors
