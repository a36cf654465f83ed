"""P5: one daily partition of a 365-day table, written and checked, against a standalone table.

A table of ``--days`` days x ``--rows-per-day`` rows (booking id unique across the table, a
``date`` partition column, an amount range, a currency set) is written once, partitioned by day,
under ``benchmarks/results/data/partitioned-<days>x<rows>/``. Each case runs in its own spawned
process (``measure.time_calls``: one warm-up, then the median of ``--repeat`` runs; the
process's peak RSS reported):

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
import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import report
from deltalake import write_deltalake
from measure import Timings, in_fresh_process, time_calls

from data import DATA_ROOT
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


CASES = ("standalone", "partition")
"""The reference first."""


@dataclass
class Measurement:
    """One case: its timed runs, and what its last run published."""

    timings: Timings
    rows_published: int
    table_rows: int | None
    """The table's rows after the commit (from the Delta log)."""


def measure_case(case: str, lake: str, days: int, rows: int, repeat: int) -> Measurement:
    """Time ``case``; meant to run in a fresh process (its peak RSS is the process's)."""
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

    def once() -> tuple[int, int | None]:
        outcome = publish(
            PublishRequest(
                KEY if write is not None else STANDALONE, contract=rules,
                mode=WriteMode.OVERWRITE, settings=settings, run_id="bench", partition=write,
            ),
            batch,
        )  # fmt: skip
        return outcome.validation.rows_valid, outcome.table_rows

    calls = time_calls(once, repeat)
    published, table_rows = calls.values[-1]
    return Measurement(timings=calls.timings, rows_published=published, table_rows=table_rows)


def main(days: int = 365, rows_per_day: int = 30_000, repeat: int = 3) -> Path:
    """Measure both cases, print the table, write the JSON results."""
    console = report.wide_console()
    started = time.perf_counter()
    source = ensure_table(days, rows_per_day)
    with tempfile.TemporaryDirectory(prefix="mesh-bench-partitions-") as scratch:
        lake = Path(scratch) / "lake"
        shutil.copytree(source, lake)
        measured = {
            case: in_fresh_process(measure_case, case, str(lake), days, rows_per_day, repeat)
            for case in CASES
        }
    reference = measured["standalone"].timings.wall
    ratio = measured["partition"].timings.wall.ratio_to(reference)
    rows = [
        report.Row(
            case,
            m.timings.wall,
            (f"{m.rows_published:,}", report.mib_text(m.timings.rss_peak_mib)),
        )
        for case, m in measured.items()
    ]
    console.print(
        report.timing_table(
            f"P5: one day of a {days}-day table ({rows_per_day:,} rows a day)",
            rows,
            reference="standalone",
            reference_wall=reference,
            columns=("rows published", "peak RSS"),
        )
    )
    table_rows = measured["partition"].table_rows or 0
    ok = all(m.rows_published == rows_per_day for m in measured.values())
    ok = ok and table_rows == days * rows_per_day
    console.print(
        f"target: partition <= {TARGET_RATIO:.1f}x standalone: "
        f"{report.verdict(ratio <= TARGET_RATIO)} ({ratio:.2f}x); every row published and the "
        f"table still holds {table_rows:,} rows: {report.yes_no(ok)}"
    )
    return report.write_results(
        console,
        f"partitions-{days}x{rows_per_day}.json",
        "P5 daily partition",
        {
            "days": days,
            "rows_per_day": rows_per_day,
            "repeat": repeat,
            "reference": "standalone",
            "results": {
                case: {**asdict(m), "ratio": m.timings.wall.ratio_to(reference)}
                for case, m in measured.items()
            },
            "ratio": ratio,
            "target_ratio": TARGET_RATIO,
            "target_met": ratio <= TARGET_RATIO,
            "verified": ok,
        },
        started=started,
    )


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
