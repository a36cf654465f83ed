"""P1: the validation engine against hand-written checks over the same Delta table.

Cases, each measured in a fresh process (so each has its own peak memory) as the median of
``--repeat`` runs after one untimed warm-up run, with ``gc.collect()`` before every run:

- ``engine``: ``DeltaTable -> pyarrow dataset -> to_table()`` (``read``), then
  ``validate_batch`` with ``contract.odcs.yaml`` (``validate``); the sum is the engine's total.
- ``polars``: one hand-written ``pl.scan_delta(path).select([...])`` computing every check of the
  contract as an aggregate count. It is the reference: every ratio is against it.
- ``duckdb``: the same checks as one hand-written DuckDB query over the Arrow dataset.
- ``scan``: a bare scan lower bound, ``count(*), sum(amount)`` through ``pl.scan_delta``.

The engine does more than the hand-written checks: it also splits the rows into valid (cast to
the contract's types) and quarantined ones and lists each row's broken rules. The ratios show
what that costs. The counts of every case are compared rule by rule (they must agree), on the
clean table and on a table with ~1% bad rows, which is measured and reported separately.

Run: ``python benchmarks/bench_validation.py --rows 10000000 --repeat 3`` (see ``run.py``).
"""

import argparse
import cProfile
import datetime as dt
import gc
import importlib.metadata
import json
import multiprocessing
import os
import platform
import pstats
import statistics
import subprocess
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import deltalake
import duckdb
import polars as pl
from rich.console import Console
from rich.table import Table

import data
from platform_lib.contracts.loader import load_contract
from platform_lib.contracts.model import TableContract
from platform_lib.quality.contract_test import run_contract_test
from platform_lib.quality.engine import validate_batch

CONTRACT = Path(__file__).resolve().parent / "contract.odcs.yaml"
BAD_SHARE = 0.01
AMOUNT_MAX = 1_000_000
TX_PATTERN = r"^tx_[0-9]{10}$"
ACCOUNT_PATTERN = r"^acc_[0-9]{7}$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
LIBRARIES = ("polars", "duckdb", "pyarrow", "deltalake", "dagster", "pydantic")
REFERENCE = "polars"
NOISY_SHARE = 0.05
"""A case is flagged when other processes used more than this share of the CPUs meanwhile."""
DUCKDB_COPY_WARNING = "Arrow output on a DB-API result"
"""DuckDB 2 warns (once per process) that ``execute(...).to_arrow_table()`` copies the rows."""

Counts = dict[str, float]
"""Check name -> count of rows breaking it (or the row count, for ``rows``)."""


# -- the cases: one run each, returning phase timings (seconds) and counts ---------------------


def run_engine(path: str, contract: TableContract) -> tuple[dict[str, float], Counts]:
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
    phases = {"total": end - start, "read": read - start, "validate": end - read}
    return phases, counts


def run_mesh_test(path: str, contract: TableContract) -> tuple[dict[str, float], Counts]:
    """``mesh test``'s path: the published table checked against its contract, read lazily."""
    start = time.perf_counter()
    report = run_contract_test(contract, path)
    end = time.perf_counter()
    result = report.result
    counts: Counts = {"rows": float(result.rows_in), "rows_valid": float(result.rows_valid)}
    for rule in result.rules:
        if rule.kind == "metric" and rule.observed is not None:
            counts[rule.rule_id] = float(round(rule.observed * result.rows_in / 100))
        elif rule.failed_rows is not None or rule.kind == "sql":
            counts[rule.rule_id] = float(rule.failed_rows or rule.observed or 0)
    return {"total": end - start}, counts


def _future() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


def run_polars(path: str, contract: TableContract) -> tuple[dict[str, float], Counts]:
    """Every check of the contract as one hand-written polars select over ``scan_delta``."""
    del contract  # the checks are written out by hand
    start = time.perf_counter()
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
    end = time.perf_counter()
    return {"total": end - start}, {k: float(v) for k, v in frame.row(0, named=True).items()}


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


def run_duckdb(path: str, contract: TableContract) -> tuple[dict[str, float], Counts]:
    """Every check of the contract as one hand-written DuckDB query over the Arrow dataset."""
    del contract  # the checks are written out by hand
    start = time.perf_counter()
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
    end = time.perf_counter()
    assert row is not None
    return {"total": end - start}, {n: float(v) for n, v in zip(names, row, strict=True)}


def run_scan(path: str, contract: TableContract) -> tuple[dict[str, float], Counts]:
    """The lower bound: ``count(*), sum(amount)`` through ``pl.scan_delta``."""
    del contract
    start = time.perf_counter()
    frame = pl.scan_delta(path).select(pl.len().alias("rows"), pl.col("amount").sum()).collect()
    end = time.perf_counter()
    return {"total": end - start}, {"rows": float(frame.item(0, "rows"))}


Case = Callable[[str, TableContract], tuple[dict[str, float], Counts]]
CASES: dict[str, tuple[Case, str]] = {
    "engine": (run_engine, "engine: Delta -> Arrow, validate_batch"),
    "mesh_test": (run_mesh_test, "engine: mesh test of the published table"),
    "polars": (run_polars, "polars: one scan_delta select (by hand)"),
    "duckdb": (run_duckdb, "duckdb: one query over the dataset (by hand)"),
    "scan": (run_scan, "bare scan: count(*), sum(amount)"),
}


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Measurement:
    """One case on one table: every timed run per phase, its counts, and its memory."""

    case: str
    table: str
    runs: dict[str, list[float]]
    counts: Counts
    rss_start_mib: float
    """Resident memory of the measuring process once imports and the contract are loaded."""
    rss_peak_mib: float
    """Peak resident memory of the measuring process (warm-up and timed runs included)."""
    timed_seconds: float
    """Wall time of the timed runs together."""
    other_cpu_seconds: float
    """CPU time other processes used meanwhile: near 0 on a quiet machine."""
    medians: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.medians = {phase: statistics.median(times) for phase, times in self.runs.items()}


def _memory_mib(key: str) -> float:
    """``VmRSS`` or ``VmHWM`` (peak) of this process from ``/proc/self/status``, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _busy_cpu_seconds() -> float:
    """CPU time spent by every process on the machine since boot (from ``/proc/stat``)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def measure(case: str, path: str, table: str, repeat: int) -> Measurement:
    """Run ``case`` once untimed, then ``repeat`` times timed, with a ``gc.collect()`` before each.

    Meant to run in a fresh process: the peak memory it reports is the process's own.
    """
    warnings.filterwarnings("ignore", message=DUCKDB_COPY_WARNING)
    contract = load_contract(CONTRACT).contract
    assert contract is not None, "benchmarks/contract.odcs.yaml does not load"
    run = CASES[case][0]
    rss_start = _memory_mib("VmRSS")
    gc.collect()
    _, counts = run(path, contract)  # warm-up: caches, lazy imports, page cache
    runs: dict[str, list[float]] = {}
    busy, own, wall = _busy_cpu_seconds(), _own_cpu_seconds(), time.perf_counter()
    for _ in range(repeat):
        gc.collect()
        phases, counts = run(path, contract)
        for phase, seconds in phases.items():
            runs.setdefault(phase, []).append(seconds)
    other = (_busy_cpu_seconds() - busy) - (_own_cpu_seconds() - own)
    return Measurement(
        case=case,
        table=table,
        runs=runs,
        counts=counts,
        rss_start_mib=rss_start,
        rss_peak_mib=_memory_mib("VmHWM"),
        timed_seconds=time.perf_counter() - wall,
        other_cpu_seconds=max(other, 0.0),
    )


def _quiet() -> None:
    """Send the measuring process's stdout (DuckDB's progress bars) to /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def measure_isolated(case: str, path: Path, table: str, repeat: int) -> Measurement:
    """``measure`` in a freshly spawned process (its own memory peak, no state from other cases)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_quiet) as pool:
        return pool.submit(measure, case, str(path), table, repeat).result()


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


# -- reporting -------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """CPU, memory, Python and library versions of this machine."""
    cpu_model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu_model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    meminfo = (
        Path("/proc/meminfo").read_text().splitlines() if Path("/proc/meminfo").exists() else []
    )
    mem_kib = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal")), 0)
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kib / 1024**2, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": {name: importlib.metadata.version(name) for name in LIBRARIES},
    }


def code_version() -> dict[str, Any]:
    """The commit measured, and whether ``platform_lib`` had uncommitted changes."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "HEAD"),
        "platform_lib_changed": bool(git("status", "--porcelain", "--", "platform_lib")),
    }


def table_size_mib(path: Path) -> float:
    """Size of the table's Parquet files, in MiB."""
    return sum(f.stat().st_size for f in path.rglob("*.parquet")) / 1024**2


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.2f} s"


def timing_table(title: str, measurements: dict[str, Measurement]) -> Table:
    """Medians of every case and phase, with the ratio against the hand-written polars select."""
    reference = measurements[REFERENCE].medians["total"]
    table = Table(title=title)
    for column in ("case", "median", "min", "max", f"x {REFERENCE}", "peak RSS"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for case, measurement in measurements.items():
        label = CASES[case][1]
        for phase, median in measurement.medians.items():
            runs = measurement.runs[phase]
            is_total = phase == "total"
            name = label if is_total else f"  {phase}"
            peak = f"{measurement.rss_peak_mib:,.0f} MiB" if is_total else ""
            table.add_row(
                name,
                _fmt_seconds(median),
                _fmt_seconds(min(runs)),
                _fmt_seconds(max(runs)),
                f"{median / reference:.2f}",
                peak,
                style=None if is_total else "dim",
            )
    return table


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


def main(rows: int = 10_000_000, repeat: int = 3, *, seed: int = data.DEFAULT_SEED) -> Path:
    """Measure every case on a clean and a ~1% bad table; print tables, write JSON.

    Args:
        rows: Rows of the generated table.
        repeat: Timed runs per case (after one warm-up run).
        seed: Seed of the generated data.

    Returns:
        The JSON results file, ``benchmarks/results/validation-<rows>.json``.
    """
    console = Console(width=max(Console().width, 112))
    started = time.perf_counter()
    clean = data.ensure_delta(rows, seed=seed)
    bad = data.ensure_delta(rows, seed=seed, bad_share=BAD_SHARE)
    console.print(
        f"[bold]P1 validation[/]: {rows:,} rows x 8 columns ({table_size_mib(clean):,.0f} MiB "
        f"Delta), median of {repeat} after a warm-up, each case in its own process"
    )
    results: dict[str, dict[str, Measurement]] = {"clean": {}, "bad": {}}
    for case in CASES:
        results["clean"][case] = measure_isolated(case, clean, "clean", repeat)
    for case in ("engine", "polars", "duckdb"):
        results["bad"][case] = measure_isolated(case, bad, "bad", repeat)

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
            if m.other_cpu_seconds > NOISY_SHARE * m.timed_seconds * (os.cpu_count() or 1):
                console.print(
                    f"[yellow]noisy[/]: other processes used {m.other_cpu_seconds:.1f} CPU s "
                    f"during the {m.timed_seconds:.1f} s of {case} on the {table} table"
                )
    for table, names in problems.items():
        if names:
            console.print(f"[bold red]counts differ on the {table} table:[/] {', '.join(names)}")

    out = data.RESULTS / f"validation-{rows}.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "P1 validation",
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "rows": rows,
                "repeat": repeat,
                "seed": seed,
                "bad_share": BAD_SHARE,
                "reference": REFERENCE,
                "table_mib": round(table_size_mib(clean), 1),
                "machine": machine_info(),
                "code": code_version(),
                "cases": {case: label for case, (_, label) in CASES.items()},
                "results": {
                    table: {
                        case: {
                            **asdict(m),
                            "ratios": {
                                phase: median / by_case[REFERENCE].medians["total"]
                                for phase, median in m.medians.items()
                            },
                        }
                        for case, m in by_case.items()
                    }
                    for table, by_case in results.items()
                },
                "checks": checks,
                "counts_agree": not any(problems.values()),
                "wall_seconds": round(time.perf_counter() - started, 1),
            },
            indent=2,
        )
        + "\n"
    )
    console.print(f"wrote {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    return out


def cli() -> None:
    """Parse the command line and run the benchmark (or profile the engine once)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the table")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case")
    parser.add_argument("--seed", type=int, default=data.DEFAULT_SEED)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead: cProfile one validate_batch on the clean table and print the top calls",
    )
    args = parser.parse_args()
    if args.profile:
        profile_engine(data.ensure_delta(args.rows, seed=args.seed))
    else:
        main(args.rows, args.repeat, seed=args.seed)


if __name__ == "__main__":
    cli()
