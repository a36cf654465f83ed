"""P5: one daily partition of a 365-day table, written and checked, against a standalone table.

A table of ``--days`` days x ``--rows-per-day`` rows (booking id unique across the table, a
``date`` partition column, an amount range, a currency set) is written once, partitioned by day,
under ``benchmarks/results/data/partitioned-<days>x<rows>/``. Each case runs in its own spawned
process (one warm-up, then the median of ``--repeat`` runs; the process's peak RSS reported):

- ``partition``: ``publish(..., partition=PartitionWrite(day))`` of one day's rows into the
  365-day table: validation, the ``partition_day`` rule, uniqueness against the other 364 days
  (their ``id`` column is read), the day's quarantine replaced, the day replaced in one commit.
- ``standalone`` (the reference): ``publish(...)`` of the same rows, overwriting a table that
  holds only that day: the same contract, no other day to consult.

Target (issue): ``partition`` <= 2x ``standalone``. Results: ``results/partitions-<D>x<R>.json``.

Run: ``python benchmarks/bench_partitions.py --days 365 --rows-per-day 30000``.
"""

import argparse
import datetime as dt
import gc
import json
import multiprocessing
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
from bench_validation import code_version, machine_info
from deltalake import write_deltalake
from rich.console import Console
from rich.table import Table

from data import DATA_ROOT, RESULTS
from platform_lib.contracts.loader import load_contract_text
from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.lake.committer import WriteMode
from platform_lib.lake.partitions import PartitionWrite, daily
from platform_lib.lake.publish.request import PublishRequest
from platform_lib.lake.publish.whole import publish
from platform_lib.settings import MeshSettings

FIRST_DAY = dt.date(2025, 1, 1)
TARGET_RATIO = 2.0
KEY = TableKey.parse("bench/curated/bookings")
STANDALONE = TableKey.parse("bench/curated/bookings_day")
CONTRACT = """apiVersion: v3.1.0
kind: DataContract
id: bench.curated.bookings
version: 1.0.0
status: active
domain: bench
team: {name: bench}
servers:
  - {server: local, type: local, format: delta, path: bench/curated/bookings}
customProperties:
  - {property: layer, value: curated}
  - {property: access, value: public}
schema:
  - name: bookings
    physicalType: table
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true, unique: true}
      - {name: day, logicalType: date, physicalType: date, required: true}
      - name: amount
        logicalType: integer
        physicalType: int64
        required: true
        logicalTypeOptions: {minimum: 0, maximum: 1000000}
      - name: currency
        logicalType: string
        physicalType: string
        required: true
        quality:
          - id: currency_known
            metric: invalidValues
            arguments: {validValues: [EUR, SEK, USD]}
            mustBe: 0
"""


def contract() -> TableContract:
    """The benchmark table's contract (it must load without a finding)."""
    load = load_contract_text(CONTRACT, Path("bench.odcs.yaml"))
    assert load.contract is not None and not load.findings, load.findings
    return load.contract


def day_rows(day_index: int, rows: int) -> pa.Table:
    """Day ``day_index``'s rows: ids unique across days, amounts and currencies cycling."""
    base = day_index * rows
    frame = pl.DataFrame({"n": pl.int_range(base, base + rows, eager=True)}).select(
        ("bk_" + pl.col("n").cast(pl.String).str.zfill(10)).alias("id"),
        pl.lit(FIRST_DAY + dt.timedelta(days=day_index)).alias("day"),
        ((pl.col("n") * 7919) % 100_000).cast(pl.Int64).alias("amount"),
        pl.col("n").mod(3).replace_strict([0, 1, 2], ["EUR", "SEK", "USD"]).alias("currency"),
    )
    return frame.to_arrow()


def ensure_table(days: int, rows: int) -> Path:
    """The 365-day table, written once (partitioned by ``day``) and reused."""
    folder = DATA_ROOT / f"partitioned-{days}x{rows}"
    manifest = folder / "benchmark-manifest.json"
    wanted = {"days": days, "rows_per_day": rows, "version": 1}
    if manifest.exists() and json.loads(manifest.read_text()) == wanted:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    table = folder / "bench" / "curated" / "bookings"
    whole = pl.concat([pl.from_arrow(day_rows(d, rows)) for d in range(days)])  # type: ignore[misc]
    write_deltalake(str(table), whole.to_arrow(), partition_by=["day"])
    manifest.write_text(json.dumps(wanted))
    return folder


def timed(run: Callable[[], None], repeat: int) -> list[float]:
    """One warm-up, then ``repeat`` timed calls of ``run``."""
    run()
    seconds = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return seconds


def run_case(case: str, lake: str, days: int, rows: int, repeat: int, out: object) -> None:
    """In a spawned process: time ``case`` and put (seconds, rows published, table rows, peak
    RSS MiB) on the queue ``out``."""
    rules = contract()
    day_index = days // 2
    batch = day_rows(day_index, rows)
    day = FIRST_DAY + dt.timedelta(days=day_index)
    settings = MeshSettings(
        project_root=Path(lake).parent,
        lake_root=lake,
        landing_root=Path(lake).parent / "landing",
        dagster_home=Path(lake).parent / "dagster",
    )
    write = (
        PartitionWrite(daily("day", start=FIRST_DAY), day, "date") if case == "partition" else None
    )
    outcomes = []

    def once() -> None:
        outcomes.append(
            publish(
                PublishRequest(
                    KEY if write is not None else STANDALONE, contract=rules,
                    mode=WriteMode.OVERWRITE, settings=settings, run_id="bench", partition=write,
                ),
                batch,
            )
        )  # fmt: skip

    seconds = timed(once, repeat)
    last = outcomes[-1]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put((seconds, last.validation.rows_valid, last.table_rows, peak))  # type: ignore[attr-defined]


def measure(case: str, lake: Path, days: int, rows: int, repeat: int) -> tuple[Any, ...]:
    """Run ``case`` in a fresh spawned process and return what it measured."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=run_case, args=(case, str(lake), days, rows, repeat, queue))
    process.start()
    measured = queue.get()
    process.join()
    return tuple(measured)


def main(days: int = 365, rows_per_day: int = 30_000, repeat: int = 3) -> Path:
    """Measure both cases, print the table, write the JSON results."""
    console = Console()
    source = ensure_table(days, rows_per_day)
    with tempfile.TemporaryDirectory(prefix="mesh-bench-partitions-") as scratch:
        lake = Path(scratch) / "lake"
        shutil.copytree(source, lake)
        measured = {
            case: measure(case, lake, days, rows_per_day, repeat)
            for case in ("standalone", "partition")
        }
    results = {case: m[0] for case, m in measured.items()}
    published = {case: m[1] for case, m in measured.items()}
    peaks = {case: m[3] for case, m in measured.items()}
    table_rows = measured["partition"][2]
    reference = statistics.median(results["standalone"])
    ratio = statistics.median(results["partition"]) / reference
    table = Table(title=f"P5: one day of a {days}-day table ({rows_per_day:,} rows a day)")
    for column in ("case", "median", "min", "max", "x standalone", "rows published", "peak RSS"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for case, seconds in results.items():
        table.add_row(
            case,
            f"{statistics.median(seconds):.3f} s",
            f"{min(seconds):.3f} s",
            f"{max(seconds):.3f} s",
            f"{statistics.median(seconds) / reference:.2f}",
            f"{published[case]:,}",
            f"{peaks[case]:,.0f} MiB",
        )
    console.print(table)
    ok = published["partition"] == published["standalone"] == rows_per_day
    ok = ok and table_rows == days * rows_per_day
    verdict = "[green]met[/]" if ratio <= TARGET_RATIO else "[bold red]missed[/]"
    console.print(
        f"target: partition <= {TARGET_RATIO:.1f}x standalone: {verdict} ({ratio:.2f}x); "
        f"every row published and the table still holds {table_rows:,} rows: "
        f"{'yes' if ok else '[bold red]NO[/]'}"
    )
    out = RESULTS / f"partitions-{days}x{rows_per_day}.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "P5 daily partition",
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "days": days,
                "rows_per_day": rows_per_day,
                "repeat": repeat,
                "seconds": results,
                "medians": {case: statistics.median(s) for case, s in results.items()},
                "rss_peak_mib": peaks,
                "ratio": ratio,
                "target_ratio": TARGET_RATIO,
                "target_met": ratio <= TARGET_RATIO,
                "verified": ok,
                "machine": machine_info(),
                "code": code_version(),
            },
            indent=2,
        )
        + "\n"
    )
    console.print(f"wrote {out}")
    return out


def cli() -> None:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rows-per-day", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    main(days=args.days, rows_per_day=args.rows_per_day, repeat=args.repeat)


if __name__ == "__main__":
    cli()
