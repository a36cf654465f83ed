"""P1: the validation engine against hand-written checks over the same Delta table.

Cases, each measured in a fresh process (so each has its own peak memory) as the median of
``--repeat`` runs after one untimed warm-up run, with ``gc.collect()`` before every run
(``measure.time_calls``):

- ``engine``: ``DeltaTable -> pyarrow dataset -> to_table()`` (``read``), then
  ``validate_batch`` with ``contract.odcs.yaml`` (``validate``); the sum is the engine's total.
- ``polars``: one hand-written ``pl.scan_delta(path).select([...])`` computing every check of the
  contract as an aggregate count. It is the reference: every ratio is against it.
- ``duckdb``: the same checks as one hand-written DuckDB query over the Arrow dataset.
- ``pandera``: the same checks as a ``pandera.polars.DataFrameSchema`` validated with
  ``lazy=True`` on the collected ``scan_delta`` frame (optional: the ``bench`` extra).
- ``datacontract``: ``datacontract test`` (datacontract-cli, in its own venv under
  ``results/venvs/datacontract``) on a Parquet copy of the table: the whole process timed, and
  the reading of its JSON report.
- ``scan``: a bare scan lower bound, ``count(*), sum(amount)`` through ``pl.scan_delta``.

The engine does more than the hand-written checks: it also splits the rows into valid (cast to
the contract's types) and quarantined ones and lists each row's broken rules. The ratios show
what that costs. The counts of every case are compared rule by rule (they must agree), on the
clean table and on a table with ~1% bad rows, which is measured and reported separately.
The issue's targets are printed last: the engine within 1.0x the hand-written polars select, and
at least 5x faster than datacontract-cli.

Run: ``python benchmarks/bench_validation.py --rows 10000000 --repeat 3`` (see ``run.py``).
"""

import argparse
import cProfile
import datetime as dt
import gc
import importlib.metadata
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import deltalake
import duckdb
import polars as pl
import pyarrow.parquet as pq
import report
import yaml
from measure import Summary, Timings, in_fresh_process, run_process, time_calls
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import data
from platform_lib.contracts.loader import load_contract
from platform_lib.contracts.model import TableContract
from platform_lib.operations.contract_test import run_contract_test
from platform_lib.quality.engine import validate_batch

CONTRACT = Path(__file__).resolve().parent / "contract.odcs.yaml"
BAD_SHARE = 0.01
AMOUNT_MAX = 1_000_000
TX_PATTERN = r"^tx_[0-9]{10}$"
ACCOUNT_PATTERN = r"^acc_[0-9]{7}$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
REFERENCE = "polars"
DUCKDB_COPY_WARNING = "Arrow output on a DB-API result"
"""DuckDB 2 warns (once per process) that ``execute(...).to_arrow_table()`` copies the rows."""

DATACONTRACT_VERSION = "1.2.8"
DATACONTRACT_REQUIREMENT = f"datacontract-cli[duckdb]=={DATACONTRACT_VERSION}"
"""datacontract-cli pins an older duckdb than ours, so it lives in a venv of its own."""
DATACONTRACT_VENV = data.RESULTS / "venvs" / "datacontract"
DATACONTRACT_EXE = DATACONTRACT_VENV / "bin" / "datacontract"
BUILD_VENV_MIN_ROWS = 1_000_000
"""Below this many rows (the quick run) a missing datacontract venv is not built, only reused."""
SUBPROCESS_CASES = ("datacontract",)
"""Cases timed as a child process: their peak RSS is the child's."""
TARGET_VS_POLARS = 1.0
"""The issue's target: the engine's median at most 1.0x the hand-written polars select's."""
TARGET_VS_DATACONTRACT = 5.0
"""The issue's target: the engine at least 5x faster than ``datacontract test``."""

Counts = dict[str, float]
"""Check name -> count of rows breaking it (or the row count, for ``rows``)."""
Details = dict[str, Any]
"""What else a run reports (datacontract-cli's verdict and check results), JSON-serialisable."""
Phases = dict[str, float]
"""Seconds of the parts of a run a case times itself (``read``, ``validate``); the whole run,
``total``, is timed around the case by ``measure.time_calls``."""


# -- the cases: one run each, returning the seconds of its phases and its counts ---------------


def run_engine(path: str, contract: TableContract) -> tuple[Phases, Counts, Details]:
    """Read the Delta table into Arrow, then validate it with the platform's engine."""
    start = time.perf_counter()
    batch = deltalake.DeltaTable(path).to_pyarrow_dataset().to_table()
    read = time.perf_counter()
    checked = validate_batch(batch, contract)
    end = time.perf_counter()
    result = checked.result
    counts: Counts = {"rows": float(result.rows_in), "rows_valid": float(result.rows_valid)}
    for rule in result.rules:
        if rule.kind == "metric" and rule.observed is not None:  # a share of rows_in, in percent
            counts[rule.rule_id] = float(round(rule.observed * result.rows_in / 100))
        elif rule.failed_rows is not None or rule.kind == "sql":
            counts[rule.rule_id] = float(rule.failed_rows or rule.observed or 0)
    return {"read": read - start, "validate": end - read}, counts, {}


def run_mesh_test(path: str, contract: TableContract) -> tuple[Phases, Counts, Details]:
    """``mesh test``'s path: the published table checked against its contract, read lazily."""
    result = run_contract_test(contract, path).result
    counts: Counts = {"rows": float(result.rows_in), "rows_valid": float(result.rows_valid)}
    for rule in result.rules:
        if rule.kind == "metric" and rule.observed is not None:
            counts[rule.rule_id] = float(round(rule.observed * result.rows_in / 100))
        elif rule.failed_rows is not None or rule.kind == "sql":
            counts[rule.rule_id] = float(rule.failed_rows or rule.observed or 0)
    return {}, counts, {}


def _future() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


def run_polars(path: str, contract: TableContract) -> tuple[Phases, Counts, Details]:
    """Every check of the contract as one hand-written polars select over ``scan_delta``."""
    del contract  # the checks are written out by hand
    tx, account, amount = pl.col("transaction_id"), pl.col("account_id"), pl.col("amount")
    currency, merchant, created = pl.col("currency"), pl.col("merchant"), pl.col("created_at")
    status, country = pl.col("status"), pl.col("country")
    frame = (
        pl.scan_delta(path)
        .select(
            pl.len().alias("rows"),
            tx.null_count().alias("transaction_id_required"),
            (tx.count() - tx.drop_nulls().n_unique()).alias("transaction_id_unique"),
            (~tx.str.contains(TX_PATTERN)).sum().alias("transaction_id_pattern"),
            account.null_count().alias("account_id_required"),
            (~account.str.contains(ACCOUNT_PATTERN)).sum().alias("account_id_pattern"),
            amount.null_count().alias("amount_required"),
            ((amount <= 0) | (amount > AMOUNT_MAX)).sum().alias("amount_range"),
            currency.null_count().alias("currency_required"),
            (~currency.is_in(data.CURRENCIES)).sum().alias("currency_known"),
            merchant.null_count().alias("merchant_mostly_present"),
            created.null_count().alias("created_at_required"),
            (created > _future()).sum().alias("no_future_transactions"),
            status.null_count().alias("status_required"),
            (~status.is_in(data.STATUSES)).sum().alias("status_known"),
            country.null_count().alias("country_required"),
            (~country.str.contains(COUNTRY_PATTERN)).sum().alias("country_pattern"),
            (~country.is_in(data.COUNTRIES)).sum().alias("country_served"),
        )
        .collect()
    )
    return {}, {k: float(v) for k, v in frame.row(0, named=True).items()}, {}


DUCKDB_CHECKS = """
SELECT
    count(*) AS "rows",
    count(*) FILTER (WHERE transaction_id IS NULL) AS transaction_id_required,
    count(transaction_id) - count(DISTINCT transaction_id) AS transaction_id_unique,
    count(*) FILTER (WHERE NOT regexp_full_match(transaction_id, $tx_pattern))
        AS transaction_id_pattern,
    count(*) FILTER (WHERE account_id IS NULL) AS account_id_required,
    count(*) FILTER (WHERE NOT regexp_full_match(account_id, $account_pattern))
        AS account_id_pattern,
    count(*) FILTER (WHERE amount IS NULL) AS amount_required,
    count(*) FILTER (WHERE amount <= 0 OR amount > $amount_max) AS amount_range,
    count(*) FILTER (WHERE currency IS NULL) AS currency_required,
    count(*) FILTER (WHERE NOT list_contains($currencies, currency)) AS currency_known,
    count(*) FILTER (WHERE merchant IS NULL) AS merchant_mostly_present,
    count(*) FILTER (WHERE created_at IS NULL) AS created_at_required,
    count(*) FILTER (WHERE created_at > now() + INTERVAL 1 DAY) AS no_future_transactions,
    count(*) FILTER (WHERE status IS NULL) AS status_required,
    count(*) FILTER (WHERE NOT list_contains($statuses, status)) AS status_known,
    count(*) FILTER (WHERE country IS NULL) AS country_required,
    count(*) FILTER (WHERE NOT regexp_full_match(country, $country_pattern)) AS country_pattern,
    count(*) FILTER (WHERE NOT list_contains($countries, country)) AS country_served
FROM transactions
"""
"""The contract's checks as one DuckDB query; every value is bound, nothing formatted in."""


def run_duckdb(path: str, contract: TableContract) -> tuple[Phases, Counts, Details]:
    """Every check of the contract as one hand-written DuckDB query over the Arrow dataset."""
    del contract  # the checks are written out by hand
    dataset = deltalake.DeltaTable(path).to_pyarrow_dataset()
    parameters = {
        "tx_pattern": TX_PATTERN,
        "account_pattern": ACCOUNT_PATTERN,
        "country_pattern": COUNTRY_PATTERN,
        "amount_max": AMOUNT_MAX,
        "currencies": list(data.CURRENCIES),
        "statuses": list(data.STATUSES),
        "countries": list(data.COUNTRIES),
    }
    with duckdb.connect(":memory:") as connection:
        connection.execute("SET enable_progress_bar = false")
        connection.register("transactions", dataset)
        cursor = connection.execute(DUCKDB_CHECKS, parameters)
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
    assert row is not None
    return {}, {n: float(v) for n, v in zip(names, row, strict=True)}, {}


def pandera_schema(future: dt.datetime) -> tuple[Any, dict[tuple[str, int], str]]:
    """The hand-written polars checks as a pandera (polars backend) schema.

    Returns the schema and, per ``(column, check number)``, the name of the check (the
    ``failure_cases`` of a ``SchemaErrors`` name a column's checks by position).
    What pandera cannot express as the contract does:

    - a tolerance: ``merchant_mostly_present`` allows 5% nulls and ``country_served`` 1% unknown
      countries; both are row checks here, so pandera counts the rows as the hand-written checks
      do, but fails the frame where the contract only warns;
    - ``has_rows`` (``rowCount > 0``) is a frame-level check, which reports no count: ``rows`` is
      the height of the frame pandera validated;
    - the contract's SQL rule is written as a row check on ``created_at``.

    The dtypes (the contract's implicit type rules) are checked at schema level, with no row count.
    """
    import pandera.polars as pa  # the bench extra: imported only where the case runs

    def present(data: Any) -> pl.LazyFrame:  # a row check that, unlike ``nullable``, is counted
        return data.lazyframe.select(pl.col(data.key).is_not_null())

    # column: (dtype, nullable, unique, [(check name, check), ...])
    columns: dict[str, tuple[Any, bool, bool, list[tuple[str, Any]]]] = {
        "transaction_id": (
            pl.String,
            False,
            True,
            [("transaction_id_pattern", pa.Check.str_matches(TX_PATTERN))],
        ),
        "account_id": (
            pl.String,
            False,
            False,
            [("account_id_pattern", pa.Check.str_matches(ACCOUNT_PATTERN))],
        ),
        "amount": (
            pl.Decimal(18, 2),
            False,
            False,
            [("amount_range", pa.Check.in_range(0, AMOUNT_MAX, include_min=False))],
        ),
        "currency": (
            pl.String,
            False,
            False,
            [("currency_known", pa.Check.isin(data.CURRENCIES))],
        ),
        "merchant": (
            pl.String,
            True,
            False,
            [("merchant_mostly_present", pa.Check(present, ignore_na=False))],
        ),
        "created_at": (
            pl.Datetime("us", "UTC"),
            False,
            False,
            [("no_future_transactions", pa.Check.le(future))],
        ),
        "status": (pl.String, False, False, [("status_known", pa.Check.isin(data.STATUSES))]),
        "country": (
            pl.String,
            False,
            False,
            [
                ("country_pattern", pa.Check.str_matches(COUNTRY_PATTERN)),
                ("country_served", pa.Check.isin(data.COUNTRIES)),
            ],
        ),
    }
    schema = pa.DataFrameSchema(
        {
            name: pa.Column(dtype, nullable=nullable, unique=unique, checks=[c for _, c in checks])
            for name, (dtype, nullable, unique, checks) in columns.items()
        },
        checks=[pa.Check(lambda data: data.lazyframe.select(pl.len() > 0), name="has_rows")],
    )
    names = {
        (column, number): name
        for column, (_, _, _, checks) in columns.items()
        for number, (name, _) in enumerate(checks)
    }
    for column, (_, nullable, unique, _) in columns.items():
        if not nullable:
            names[(column, -1)] = f"{column}_required"
        if unique:
            names[(column, -2)] = f"{column}_unique"
    return schema, names


PANDERA_BUILTIN = {"not_nullable": -1, "field_uniqueness": -2}
"""pandera's column-level checks in ``failure_cases`` (no check number), as ``pandera_schema``
numbers them."""


def run_pandera(path: str, contract: TableContract) -> tuple[Phases, Counts, Details]:
    """The same checks as ``run_polars`` as a pandera schema, ``validate(frame, lazy=True)``.

    pandera validates a ``LazyFrame`` at schema level only (its data checks need the rows), so
    the ``scan_delta`` frame is collected first: ``read``, then ``validate``. Failing rows are
    counted from the ``failure_cases`` of the ``SchemaErrors`` it raises.
    """
    del contract  # the checks are written out by hand
    import pandera.polars as pa

    start = time.perf_counter()
    schema, names = pandera_schema(_future())
    frame = pl.scan_delta(path).collect()
    read = time.perf_counter()
    failures: pl.DataFrame | None = None
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases
    end = time.perf_counter()
    counts: Counts = {"rows": float(frame.height)} | {name: 0.0 for name in names.values()}
    unmapped: list[str] = []
    if failures is not None:
        grouped = failures.group_by("column", "check", "check_number").agg(
            pl.len().alias("rows"), pl.col("failure_case").n_unique().alias("values")
        )
        for column, check, number, failed, values in grouped.iter_rows():
            key = (column, PANDERA_BUILTIN.get(check, -3 if number is None else number))
            if key not in names:
                unmapped.append(f"{column}: {check}")
            elif check == "field_uniqueness":  # every row of a repeated value: count the repeats
                counts[names[key]] = float(failed - values)
            else:
                counts[names[key]] = float(failed)
    phases = {"read": read - start, "validate": end - read}
    return phases, counts, {"unmapped_failures": unmapped} if unmapped else {}


DATACONTRACT_RULES = {
    ("field_invalid_values", "currency"): "currency_known",
    ("field_invalid_values", "status"): "status_known",
    ("field_invalid_values", "country"): "country_served",
    ("field_null_values", "merchant"): "merchant_mostly_present",
    ("model_quality_sql", None): "no_future_transactions",
}
"""datacontract-cli's checks of the contract's quality rules -> the rules' ids."""
DATACONTRACT_SUFFIX = {
    "field_required": "required",
    "field_unique": "unique",
    "field_regex": "pattern",
    "field_minimum": "range",
    "field_maximum": "range",
    "field_not_equal": "range",
}
"""datacontract-cli's checks of a column's properties -> our ``<column>_<suffix>`` checks.
``exclusiveMinimum: 0`` becomes two checks (``>= 0`` and ``!= 0``); with ``maximum`` the three
count disjoint rows, which add up to ``amount_range``."""


def datacontract_counts(test_report: dict[str, Any]) -> tuple[Counts, Details]:
    """Counts per check from ``datacontract test --output-format json``, and its verdict.

    Raises when it ran no check on the data: a check in error (the contract or the data could
    not be read; it still exits 1 and writes the report), or no row count.
    """
    checks = test_report.get("checks") or []
    errors = [f"{c.get('name')}: {c.get('reason')}" for c in checks if c.get("result") == "error"]
    if errors or test_report.get("result") == "error":
        raise RuntimeError(f"datacontract test could not run its checks: {'; '.join(errors)}")
    counts: Counts = {}
    unmapped: list[str] = []
    for check in checks:
        diagnostics = check.get("diagnostics") or {}
        value, kind, column = diagnostics.get("value"), check.get("type"), check.get("field")
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue  # presence checks; type checks, which it does not run on Parquet
        if kind == "row_count":
            name = "rows"
        elif (kind, column) in DATACONTRACT_RULES:
            name = DATACONTRACT_RULES[(kind, column)]
        elif kind in DATACONTRACT_SUFFIX and column:
            name = f"{column}_{DATACONTRACT_SUFFIX[kind]}"
        else:
            unmapped.append(str(check.get("key")))
            continue
        if kind == "field_unique":  # ``value`` counts repeated values; count repeated rows
            value = diagnostics.get("failed_rows", value) - value
        counts[name] = counts.get(name, 0.0) + float(value)
    results: dict[str, int] = {}
    for check in checks:
        results[check.get("result", "?")] = results.get(check.get("result", "?"), 0) + 1
    details: Details = {
        "version": test_report.get("datacontractCliVersion"),
        "result": test_report.get("result"),
        "checks": len(checks),
        "results": results,
    }
    if unmapped:
        details["unmapped_checks"] = unmapped
    if "rows" not in counts:
        raise RuntimeError(f"datacontract test counted no rows ({len(checks)} checks)")
    return counts, details


def datacontract_contract(delta: Path) -> Path:
    """Where the contract of the Parquet copy of the Delta table ``delta`` is written."""
    return delta.with_name(f"{delta.name}.datacontract.odcs.yaml")


def run_datacontract(path: str, contract: TableContract) -> tuple[Phases, Counts, Details]:
    """``datacontract test`` on the Parquet copy of the table: the whole process, then its report.

    Exit 0 (passed or warnings) or 1 (failed checks) with a JSON report is a run; anything else
    raises.
    """
    del contract  # datacontract-cli reads its own copy of contract.odcs.yaml
    contract_file = datacontract_contract(Path(path))
    with tempfile.TemporaryDirectory(prefix="datacontract-") as folder:
        output = Path(folder) / "report.json"
        command = [str(DATACONTRACT_EXE), "test", str(contract_file)]
        command += ["--output", str(output), "--output-format", "json"]
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
        if done.returncode not in (0, 1) or not output.exists():
            said = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
            raise RuntimeError(f"datacontract test exited {done.returncode}: {' | '.join(said)}")
        test_report = json.loads(output.read_text())
    counts, details = datacontract_counts(test_report)
    details["exit_code"] = done.returncode
    return {}, counts, details


def run_scan(path: str, contract: TableContract) -> tuple[Phases, Counts, Details]:
    """The lower bound: ``count(*), sum(amount)`` through ``pl.scan_delta``."""
    del contract
    frame = pl.scan_delta(path).select(pl.len().alias("rows"), pl.col("amount").sum()).collect()
    return {}, {"rows": float(frame.item(0, "rows"))}, {}


Case = Callable[[str, TableContract], tuple[Phases, Counts, Details]]
CASES: dict[str, tuple[Case, str]] = {
    "engine": (run_engine, "engine: Delta -> Arrow, validate_batch"),
    "mesh_test": (run_mesh_test, "engine: mesh test of the published table"),
    "polars": (run_polars, "polars: one scan_delta select (by hand)"),
    "duckdb": (run_duckdb, "duckdb: one query over the dataset (by hand)"),
    "pandera": (run_pandera, "pandera (polars): read, validate(lazy=True)"),
    "datacontract": (run_datacontract, "datacontract-cli test, Parquet (process)"),
    "scan": (run_scan, "bare scan: count(*), sum(amount)"),
}
OPTIONAL_CASES = ("pandera", "datacontract")
"""Cases that need an outside tool: skipped with a note when it is not there, never a crash."""


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Measurement:
    """One case on one table: its timed runs, the phases it times itself, its counts."""

    case: str
    table: str
    timings: Timings
    """The whole case, each run; the peak RSS is the measuring process's (warm-up included) or,
    for a case timed as a child process (``SUBPROCESS_CASES``), the largest child's."""
    phases: dict[str, list[float]]
    """Seconds of each phase the case times itself (``Phases``), each timed run."""
    counts: Counts
    details: Details
    """What the last run reported besides counts (datacontract-cli's verdict)."""
    rss_start_mib: float
    """Resident memory of the measuring process once imports and the contract are loaded."""

    def summaries(self) -> dict[str, Summary]:
        """The whole case (``total``), then each of its phases."""
        phases = {phase: Summary.of(seconds) for phase, seconds in self.phases.items()}
        return {"total": self.timings.wall, **phases}


def measure_case(case: str, path: str, table: str, repeat: int) -> Measurement:
    """Run ``case`` once untimed, then ``repeat`` times timed (``measure.time_calls``).

    Meant to run in a fresh process: the peak memory it reports is the process's own.
    """
    warnings.filterwarnings("ignore", message=DUCKDB_COPY_WARNING)
    contract = load_contract(CONTRACT).contract
    assert contract is not None, "benchmarks/contract.odcs.yaml does not load"
    run = CASES[case][0]
    calls = time_calls(
        lambda: run(path, contract),
        repeat,
        peak_of="children" if case in SUBPROCESS_CASES else "self",
    )
    phases: dict[str, list[float]] = {}
    for run_phases, _, _ in calls.values:
        for phase, seconds in run_phases.items():
            phases.setdefault(phase, []).append(seconds)
    _, counts, details = calls.values[-1]
    return Measurement(
        case=case,
        table=table,
        timings=calls.timings,
        phases=phases,
        counts=counts,
        details=details,
        rss_start_mib=calls.rss_ready_mib,
    )


def profile_engine(path: Path, top: int = 25) -> None:
    """Print the ``top`` calls by cumulative time of one ``validate_batch`` (after a warm-up)."""
    contract = load_contract(CONTRACT).contract
    assert contract is not None
    batch = deltalake.DeltaTable(str(path)).to_pyarrow_dataset().to_table()
    validate_batch(batch, contract)
    gc.collect()
    profiler = cProfile.Profile()
    profiler.runcall(validate_batch, batch, contract)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


# -- outside tools: pandera in our venv (the bench extra), datacontract-cli in its own --------


def pandera_version() -> tuple[str | None, str]:
    """pandera's version when its polars backend imports, else None; and a note."""
    try:
        import pandera.polars  # noqa: F401
    except ImportError as error:
        return None, (
            f"pandera (polars) is not installed ({error}): `make bench-setup`, or "
            "`.venv/bin/uv pip install -e '.[dev,bench]'`"
        )
    version = importlib.metadata.version("pandera")
    return version, f"pandera {version}"


def _last_lines(error: BaseException, count: int = 2) -> str:
    """The last lines a failed command printed (or the error itself)."""
    said = ""
    if isinstance(error, subprocess.CalledProcessError | subprocess.TimeoutExpired):
        output = error.stderr or error.output or ""
        said = output.decode() if isinstance(output, bytes) else output
    lines = [line for line in said.splitlines() if line.strip()]
    return (" | ".join(lines[-count:]) or str(error))[:300]


def _datacontract_startup() -> tuple[str | None, float]:
    """``datacontract --version``: what it prints (None if it does not run) and its wall time."""
    if not DATACONTRACT_EXE.exists():
        return None, 0.0
    try:
        done = run_process([str(DATACONTRACT_EXE), "--version"], cwd=Path.cwd(), env=os.environ)
    except RuntimeError:  # it does not start
        return None, 0.0
    lines = done.stdout.strip().splitlines()
    return (lines[-1] if done.returncode == 0 and lines else None), done.sample.seconds


def datacontract_cli(*, build: bool) -> tuple[dict[str, Any] | None, str]:
    """datacontract-cli in ``results/venvs/datacontract``, reused, or built when ``build``.

    The venv is made with this interpreter (``python -m venv``, so it has pip) and
    ``pip install datacontract-cli[duckdb]==<pinned>``; a failed or partial build is removed.

    Returns:
        ``{"version", "startup_seconds"}`` (``datacontract --version``'s wall time, once), or None
        when it is not there, and a note saying which.
    """
    version, startup = _datacontract_startup()
    if version != DATACONTRACT_VERSION:
        if not build:
            where = DATACONTRACT_VENV.relative_to(data.RESULTS.parent.parent)
            return None, (
                f"datacontract-cli is not in {where}, and a run under {BUILD_VENV_MIN_ROWS:,} "
                "rows does not build it (--build-venv does)"
            )
        shutil.rmtree(DATACONTRACT_VENV, ignore_errors=True)  # another version, or half built
        DATACONTRACT_VENV.parent.mkdir(parents=True, exist_ok=True)
        pip = [str(DATACONTRACT_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        pip += ["--disable-pip-version-check", "--retries", "2", "--timeout", "30"]
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", str(DATACONTRACT_VENV)],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
            subprocess.run(
                [*pip, DATACONTRACT_REQUIREMENT],
                check=True,
                capture_output=True,
                text=True,
                timeout=1200,
            )
        except (OSError, subprocess.SubprocessError) as error:
            shutil.rmtree(DATACONTRACT_VENV, ignore_errors=True)
            said = _last_lines(error)
            return None, f"could not build a venv with {DATACONTRACT_REQUIREMENT}: {said}"
        version, startup = _datacontract_startup()
        if version != DATACONTRACT_VERSION:
            return None, f"the venv built, but `datacontract --version` says {version!r}"
    return {"version": version, "startup_seconds": round(startup, 3)}, (
        f"datacontract-cli {version} (its venv: {DATACONTRACT_VENV})"
    )


def prepare_datacontract(delta: Path) -> Path:
    """A Parquet copy of the Delta table beside it, and the contract pointing datacontract-cli
    at it (``contract.odcs.yaml`` with one ``local`` server, ``format: parquet``).

    The copy is one file, rewritten when the Delta table was regenerated after it. Returns the
    Parquet file.
    """
    parquet = delta.with_name(f"{delta.name}.parquet")
    manifest = delta / data.MANIFEST
    if not parquet.exists() or parquet.stat().st_mtime < manifest.stat().st_mtime:
        partial = parquet.with_name(f"{parquet.name}.partial")
        pq.write_table(deltalake.DeltaTable(str(delta)).to_pyarrow_dataset().to_table(), partial)
        partial.replace(parquet)
    # The same rules, word for word; only the server differs. contract.odcs.yaml has no unquoted
    # date for ``safe_load`` to turn into a ``date``, and ``created_at`` is already
    # ``timestamp_tz`` (datacontract-cli's SQL breaks on ``TIMESTAMP WITH TIME ZONE``).
    document = yaml.safe_load(CONTRACT.read_text())
    document["servers"] = [
        {"server": "local", "type": "local", "format": "parquet", "path": str(parquet)}
    ]
    datacontract_contract(delta).write_text(yaml.safe_dump(document, sort_keys=False))
    return parquet


# -- reporting -------------------------------------------------------------------------------


def table_size_mib(path: Path) -> float:
    """Size of the table's Parquet files, in MiB."""
    return sum(f.stat().st_size for f in path.rglob("*.parquet")) / 1024**2


def timing_table(title: str, measurements: dict[str, Measurement]) -> Table:
    """Medians of every case and phase, with the ratio against the hand-written polars select."""
    rows: list[report.Row] = []
    for case, measurement in measurements.items():
        for phase, wall in measurement.summaries().items():
            if phase == "total":
                peak = report.mib_text(measurement.timings.rss_peak_mib)
                rows.append(report.Row(CASES[case][1], wall, (peak,)))
            else:
                rows.append(report.Row(f"  {phase}", wall, ("",), phase=True))
    return report.timing_table(
        title,
        rows,
        reference=REFERENCE,
        reference_wall=measurements[REFERENCE].timings.wall,
        columns=("peak RSS",),
    )


def agreement(measurements: dict[str, Measurement]) -> dict[str, dict[str, float | None]]:
    """Per check, the count each case found (None where a case does not compute it)."""
    names: list[str] = []
    for measurement in measurements.values():
        names += [n for n in measurement.counts if n not in names]
    return {
        name: {case: m.counts.get(name) for case, m in measurements.items() if case != "scan"}
        for name in names
    }


def agreement_table(title: str, checks: dict[str, dict[str, float | None]]) -> Table:
    """Counts per check and case; a check whose computed counts differ is marked."""
    cases = list(next(iter(checks.values())))
    table = Table(title=title)
    table.add_column("check")
    for case in cases:
        table.add_column(case, justify="right")
    table.add_column("agree")
    for name, by_case in checks.items():
        found = {v for v in by_case.values() if v is not None}
        cells = ["-" if v is None else f"{v:,.0f}" for v in by_case.values()]
        table.add_row(name, *cells, "yes" if len(found) <= 1 else "[bold red]NO[/]")
    return table


def _disagreements(checks: dict[str, dict[str, float | None]]) -> list[str]:
    return [n for n, by in checks.items() if len({v for v in by.values() if v is not None}) > 1]


def targets(
    results: dict[str, dict[str, Measurement]], skipped: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """The issue's targets on the clean table: engine / polars and datacontract-cli / engine."""
    clean = results["clean"]
    engine = clean["engine"].timings.wall.median
    polars = clean[REFERENCE].timings.wall.median
    bad = results["bad"]
    found: dict[str, dict[str, Any]] = {
        "engine_vs_polars": {
            "target": f"engine <= {TARGET_VS_POLARS:.1f}x the hand-written polars select",
            "engine_seconds": engine,
            "polars_seconds": polars,
            "ratio": engine / polars,
            "ratio_bad_rows": bad["engine"].timings.wall.ratio_to(bad[REFERENCE].timings.wall),
            "met": engine / polars <= TARGET_VS_POLARS,
        }
    }
    target = f"engine >= {TARGET_VS_DATACONTRACT:.0f}x faster than datacontract-cli test"
    if "datacontract" in clean:
        other = clean["datacontract"].timings.wall.median
        found["engine_vs_datacontract"] = {
            "target": target,
            "engine_seconds": engine,
            "datacontract_seconds": other,
            "speedup": other / engine,
            "met": other / engine >= TARGET_VS_DATACONTRACT,
        }
    else:
        found["engine_vs_datacontract"] = {
            "target": target,
            "met": None,
            "note": skipped.get("datacontract", "not measured"),
        }
    return found


def print_targets(console: Console, found: dict[str, dict[str, Any]]) -> None:
    """One line per target: met / missed (or not measured) with its figures."""
    verdict, seconds = report.verdict, report.seconds_text
    polars = found["engine_vs_polars"]
    console.print(
        f"target {polars['target']}: {verdict(polars['met'])}, {polars['ratio']:.2f}x "
        f"(engine {seconds(polars['engine_seconds'])}, polars "
        f"{seconds(polars['polars_seconds'])}, clean table; "
        f"{polars['ratio_bad_rows']:.2f}x with ~{BAD_SHARE:.0%} bad rows)"
    )
    other = found["engine_vs_datacontract"]
    if other["met"] is None:
        console.print(f"target {other['target']}: {verdict(None)}: {escape(other['note'])}")
    else:
        console.print(
            f"target {other['target']}: {verdict(other['met'])}, {other['speedup']:.1f}x "
            f"(datacontract-cli {seconds(other['datacontract_seconds'])}, engine "
            f"{seconds(other['engine_seconds'])}, clean table)"
        )


def main(
    rows: int = 10_000_000,
    repeat: int = 3,
    *,
    seed: int = data.DEFAULT_SEED,
    build_venv: bool | None = None,
) -> Path:
    """Measure every case on a clean and a ~1% bad table; print tables, write JSON.

    Args:
        rows: Rows of the generated table.
        repeat: Timed runs per case (after one warm-up run).
        seed: Seed of the generated data.
        build_venv: Build datacontract-cli's venv when it is missing; by default only from
            ``BUILD_VENV_MIN_ROWS`` rows (a quick run reuses it, or skips the case).

    Returns:
        The JSON results file, ``benchmarks/results/validation-<rows>.json``.
    """
    console = report.wide_console()
    started = time.perf_counter()
    clean = data.ensure_delta(rows, seed=seed)
    bad = data.ensure_delta(rows, seed=seed, bad_share=BAD_SHARE)
    console.print(
        f"[bold]P1 validation[/]: {rows:,} rows x 8 columns ({table_size_mib(clean):,.0f} MiB "
        f"Delta), median of {repeat} after a warm-up, each case in its own process"
    )
    skipped: dict[str, str] = {}
    pandera, note = pandera_version()
    if pandera is None:
        skipped["pandera"] = note
    build = rows >= BUILD_VENV_MIN_ROWS if build_venv is None else build_venv
    datacontract, note = datacontract_cli(build=build)
    if datacontract is None:
        skipped["datacontract"] = note
    else:  # the Parquet copies (written once) and their contracts
        datacontract["parquet_mib"] = {
            table: round(prepare_datacontract(path).stat().st_size / 1024**2, 1)
            for table, path in (("clean", clean), ("bad", bad))
        }
    for case, why in skipped.items():
        console.print(f"[yellow]skipped[/] {case}: {escape(why)}")

    results: dict[str, dict[str, Measurement]] = {"clean": {}, "bad": {}}
    plan = [(case, "clean") for case in CASES]
    plan += [(case, "bad") for case in ("engine", "polars", "duckdb", *OPTIONAL_CASES)]
    for case, table in plan:
        if case in skipped:
            continue
        path = str(clean if table == "clean" else bad)
        if case not in OPTIONAL_CASES:
            results[table][case] = in_fresh_process(measure_case, case, path, table, repeat)
            continue
        try:
            results[table][case] = in_fresh_process(measure_case, case, path, table, repeat)
        except Exception as error:  # an outside tool failing skips its case, never the run
            skipped[case] = f"failed on the {table} table: {type(error).__name__}: {error}"
            console.print(f"[yellow]skipped[/] {case}: {escape(skipped[case])}")
            for by_case in results.values():
                by_case.pop(case, None)

    console.print(timing_table(f"Clean table, {rows:,} rows", results["clean"]))
    engine_bad = results["bad"]["engine"].counts
    console.print(
        timing_table(
            f"~{BAD_SHARE:.0%} bad rows, {rows:,} rows: engine splits "
            f"{engine_bad['rows_valid']:,.0f} valid + "
            f"{engine_bad['rows'] - engine_bad['rows_valid']:,.0f} quarantined",
            results["bad"],
        )
    )
    checks = {table: agreement(by_case) for table, by_case in results.items()}
    console.print(agreement_table(f"Counts per check, ~{BAD_SHARE:.0%} bad rows", checks["bad"]))
    problems = {table: _disagreements(c) for table, c in checks.items()}
    for table, by_case in results.items():
        for case, m in by_case.items():
            report.print_noisy(console, f"{case} on the {table} table", m.timings)
    for table, names in problems.items():
        if names:
            console.print(f"[bold red]counts differ on the {table} table:[/] {', '.join(names)}")
    for table, by_case in results.items():
        if "datacontract" in by_case:
            said = by_case["datacontract"].details
            tally = ", ".join(f"{n} {result}" for result, n in said.get("results", {}).items())
            console.print(
                f"datacontract-cli {said.get('version')} on the {table} table: "
                f"{said.get('checks')} checks ({tally}), result {said.get('result')}, "
                f"exit {said.get('exit_code')}"
            )
    if datacontract is not None:
        console.print(
            "  (its timings include the process: `datacontract --version` alone took "
            f"{report.seconds_text(datacontract['startup_seconds'])}; "
            "types are not checked on Parquet)"
        )
    found = targets(results, skipped)
    print_targets(console, found)

    reference = {table: by_case[REFERENCE].timings.wall for table, by_case in results.items()}
    return report.write_results(
        console,
        f"validation-{rows}.json",
        "P1 validation",
        {
            "rows": rows,
            "repeat": repeat,
            "seed": seed,
            "bad_share": BAD_SHARE,
            "reference": REFERENCE,
            "table_mib": round(table_size_mib(clean), 1),
            "cases": {case: label for case, (_, label) in CASES.items()},
            "tools": {"pandera": pandera, "datacontract-cli": datacontract},
            "skipped": skipped,
            "targets": found,
            "results": {
                table: {
                    case: {
                        **asdict(m),
                        "ratios": {
                            phase: wall.ratio_to(reference[table])
                            for phase, wall in m.summaries().items()
                        },
                    }
                    for case, m in by_case.items()
                }
                for table, by_case in results.items()
            },
            "checks": checks,
            "counts_agree": not any(problems.values()),
        },
        started=started,
    )


def cli() -> None:
    """Parse the command line and run the benchmark (or profile the engine once)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data.add_table_arguments(parser, rows=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case")
    parser.add_argument(
        "--build-venv",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="build datacontract-cli's venv if missing (default: only from "
        f"{BUILD_VENV_MIN_ROWS:,} rows; a quick run skips the case instead)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead: cProfile one validate_batch on the clean table and print the top calls",
    )
    args = parser.parse_args()
    if args.profile:
        profile_engine(data.ensure_delta(args.rows, seed=args.seed))
    else:
        main(args.rows, args.repeat, seed=args.seed, build_venv=args.build_venv)


if __name__ == "__main__":
    cli()
