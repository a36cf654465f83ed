"""P2 and P3: write-audit-publish against a plain write plus one scan; streaming in bounded memory.

Both run on the generated table with ~1% bad rows (``data.py --bad-share 0.01``) and
``contract.odcs.yaml`` (26 rules, an SQL rule among them, quarantine threshold 5%). Every case
runs in its own freshly spawned process (``measure.time_calls``): one untimed warm-up run, then
the median of ``--repeat`` timed runs, each publishing into a fresh lake folder; the process's
peak RSS (``VmHWM``, warm-up included) and its RSS once its input is ready are recorded.

P2, the rows already in memory as one Arrow table (read before the clock starts):

- ``reference``: a plain ``write_deltalake`` of the same rows to a new table, plus one validation
  scan: the hand-written polars select of ``bench_validation.run_polars`` over the source table.
  Every P2 ratio is against it.
- ``publish``: ``publish(key, table, ...)``: validate, quarantine commit, table commit.
- ``publish_stream``: ``publish_stream(key, table.to_reader(batch), ...)`` in batches of
  ``DEFAULT_BATCH_ROWS``, what ``publish_rows`` does with a table above its threshold.

P3, the rows read as a stream from the source Delta table (``to_pyarrow_dataset().scanner(
batch_size=rows/10, ...).to_reader()`` without read-ahead, so the table is 10 batches), read
included in the time:

- ``stream``: ``publish_stream`` over the reader (``batch_rows`` = the batch).
- ``whole``: the reader read whole (``read_all``), then ``publish``. Ratios are against it.
- ``stream_half``: ``stream`` over the first half of the rows (same batches): what streaming
  twice the rows adds to the peak (the unique keys alone should grow).

The batch's own size (Arrow ``nbytes`` of one batch as read) is reported beside the peaks: the
streaming peak must be a multiple of it, not of the table: streaming all the rows must peak at
most ``P3_GROWTH_BATCHES`` batches above streaming half of them, and below the whole-table run.
Every case's counts (rows in, valid, rejected, published) are compared. When ``publish`` misses
the P2 target, one ``publish`` is profiled (cProfile) and its time split by step.

``--sweep 300000,1000000,3000000`` instead measures ``publish`` against ``publish_stream`` at each
size (where ``publish_rows`` should switch): ``results/publish-sweep.json``.

Run: ``python benchmarks/bench_publish.py --rows 10000000 --repeat 3``.
"""

import argparse
import cProfile
import pstats
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import deltalake
import pyarrow as pa
import pyarrow.dataset as pads
import report
from bench_validation import CONTRACT, DUCKDB_COPY_WARNING, run_polars
from measure import Timings, in_fresh_process, time_calls
from rich.table import Table

import data
from platform_lib.contracts.loader import load_contract
from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.lake.committer import WriteMode
from platform_lib.lake.publish.outcome import PublishOutcome
from platform_lib.lake.publish.request import PublishRequest
from platform_lib.lake.publish.stream import publish_stream
from platform_lib.lake.publish.whole import publish
from platform_lib.quality.stream import DEFAULT_BATCH_ROWS
from platform_lib.settings import resolve_settings

BAD_SHARE = 0.01
KEY = TableKey.parse("bench/curated/transactions")
P2_TARGET = 1.3
"""``publish`` within 1.3 x (plain write + one validation scan)."""
P3_BATCHES = 10
"""The P3 table is this many batches."""
P3_GROWTH_BATCHES = 2.0
"""Bounded: streaming the whole table peaks at most this many batches above streaming half of it
(the unique keys alone grow: 16 bytes a row here), and below the whole-table run."""
P2_CASES = ("reference", "publish", "publish_stream")
P3_CASES = ("whole", "stream", "stream_half")
STEPS = {
    "validate_batch": "validation (engine.validate_batch)",
    "row_hashes": "row hashes of the rejected rows",
    "_quarantine": "quarantine commit",
    "write_table": "table commit (write_deltalake)",
    "table_state": "row count of the published table",
    "reconcile": "reconcile",
}
"""The steps of ``publish`` whose cumulative time the profile reports; the validation is split
further by what ``validate_batch`` calls (whatever the engine's paths are named)."""


@dataclass
class Measurement:
    """One case: its timed runs, the counts of its last run, and its memory."""

    case: str
    timings: Timings
    """Every timed run; the peak RSS is the process's, warm-up included."""
    counts: dict[str, int]
    rss_ready_mib: float
    """RSS once imports, the contract and the case's input are loaded (before the first run)."""


# -- the cases (run in the measuring process) ----------------------------------------------------


def _outcome_counts(outcome: PublishOutcome) -> dict[str, int]:
    result = outcome.validation
    return {
        "rows": result.rows_in,
        "rows_valid": result.rows_valid,
        "rows_rejected": result.rows_rejected,
        "published": outcome.table_rows or 0,
        "committed": int(outcome.committed),
    }


def _request(lake: Path, contract: TableContract) -> PublishRequest:
    """The benchmark's publish: an overwrite of the table into the lake at ``lake``."""
    settings = resolve_settings({"MESH_LAKE_ROOT": str(lake)})
    return PublishRequest(
        KEY, contract=contract, mode=WriteMode.OVERWRITE, settings=settings, run_id="bench"
    )


def _case(
    case: str, path: str, contract: TableContract, batch_rows: int
) -> tuple[Callable[[Path], dict[str, int]], pa.Table | None]:
    """The run of ``case`` (given a fresh lake folder) and the input it holds in memory."""

    def publish_table(table: pa.Table, lake: Path) -> dict[str, int]:
        return _outcome_counts(publish(_request(lake, contract), table))

    def publish_reader(reader: pa.RecordBatchReader, lake: Path) -> dict[str, int]:
        outcome = publish_stream(_request(lake, contract), reader, batch_rows=batch_rows)
        return {**_outcome_counts(outcome), "batches": outcome.batches}

    if case in P2_CASES:
        table = deltalake.DeltaTable(path).to_pyarrow_dataset().to_table()

        def reference(lake: Path) -> dict[str, int]:
            deltalake.write_deltalake(str(lake / "plain"), table, mode="overwrite")
            counts = run_polars(path, contract)[1]  # (phases, counts, ...)
            return {"rows": int(counts["rows"]), "published": table.num_rows}

        in_memory: dict[str, Callable[[Path], dict[str, int]]] = {
            "reference": reference,
            "publish": lambda lake: publish_table(table, lake),
            "publish_stream": lambda lake: publish_reader(
                table.to_reader(max_chunksize=batch_rows), lake
            ),
        }
        return in_memory[case], table

    def source() -> pa.RecordBatchReader:
        return stream_source(path, batch_rows)

    def first_half() -> pa.RecordBatchReader:
        reader = source()
        half = deltalake.DeltaTable(path).to_pyarrow_dataset().count_rows() // 2

        def batches() -> Iterator[pa.RecordBatch]:
            held = 0
            for batch in reader:
                if held >= half:
                    break
                yield batch.slice(0, half - held)
                held += batch.num_rows
            reader.close()  # see batch_mib

        return pa.RecordBatchReader.from_batches(reader.schema, batches())

    read: dict[str, Callable[[Path], dict[str, int]]] = {
        "whole": lambda lake: publish_table(source().read_all(), lake),
        "stream": lambda lake: publish_reader(source(), lake),
        "stream_half": lambda lake: publish_reader(first_half(), lake),
    }
    return read[case], None


def stream_source(path: str, batch_rows: int) -> pa.RecordBatchReader:
    """The Delta table as a stream of ``batch_rows`` batches, reading ahead as little as pyarrow
    can (no pre-buffering, no read-ahead): one Parquet row group is decoded at a time."""
    dataset = deltalake.DeltaTable(path).to_pyarrow_dataset()
    lean = pads.ParquetFragmentScanOptions(pre_buffer=False, use_buffered_stream=True)
    scanner = dataset.scanner(
        batch_size=batch_rows, fragment_scan_options=lean, batch_readahead=0, fragment_readahead=0
    )
    return scanner.to_reader()


def measure_case(case: str, path: str, batch_rows: int, repeat: int) -> Measurement:
    """Run ``case`` once untimed, then ``repeat`` times timed, each into a fresh lake folder.

    Meant to run in a fresh process: the peak memory it reports is the process's own.
    """
    warnings.filterwarnings("ignore", message=DUCKDB_COPY_WARNING)
    contract = load_contract(CONTRACT).contract
    assert contract is not None, "benchmarks/contract.odcs.yaml does not load"
    run, _held = _case(case, path, contract, batch_rows)
    scratch = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    lake = scratch / "lake"

    def fresh_lake() -> None:
        shutil.rmtree(lake, ignore_errors=True)
        lake.mkdir()

    try:
        calls = time_calls(lambda: run(lake), repeat, prepare=fresh_lake)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Measurement(
        case=case, timings=calls.timings, counts=calls.values[-1], rss_ready_mib=calls.rss_ready_mib
    )


def profile_publish(path: str) -> list[dict[str, Any]]:
    """One ``publish`` (after a warm-up) under cProfile: cumulative seconds of each step."""
    warnings.filterwarnings("ignore", message=DUCKDB_COPY_WARNING)
    contract = load_contract(CONTRACT).contract
    assert contract is not None
    run, _held = _case("publish", path, contract, 0)
    scratch = Path(tempfile.mkdtemp(prefix="bench-publish-profile-"))
    try:
        run(scratch / "warm-up")
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.runcall(run, scratch / "profiled")
        total = time.perf_counter() - start
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    steps: list[dict[str, Any]] = []
    for name, label in STEPS.items():
        keys = [key for key in stats if key[2] == name]
        seconds = max((stats[key][3] for key in keys), default=0.0)
        steps.append({"step": label, "seconds": seconds, "total": total})
        if name != "validate_batch" or not keys:
            continue
        inner: dict[str, float] = {}  # what validate_batch itself calls, by cumulative time
        for callee, (_cc, _nc, _tt, _ct, callers) in stats.items():
            for caller in keys:
                if caller in callers:
                    inner[callee[2]] = inner.get(callee[2], 0.0) + callers[caller][3]
        for callee_name, callee_seconds in sorted(inner.items(), key=lambda kv: -kv[1])[:4]:
            steps.append({"step": f"  {callee_name}", "seconds": callee_seconds, "total": total})
    return steps


# -- reporting -----------------------------------------------------------------------------------


def batch_mib(path: str, batch_rows: int) -> float:
    """Arrow size of the first batch of ``batch_rows`` rows as the P3 stream reads it."""
    reader = stream_source(path, batch_rows)
    rows: list[pa.RecordBatch] = []
    held = 0
    for batch in reader:  # the scanner may cut batches at file boundaries: gather one batch
        rows.append(batch)
        held += batch.num_rows
        if held >= batch_rows:
            break
    reader.close()  # a scan left open crashes the interpreter at exit (pyarrow 26, deltalake 1.6)
    return sum(b.nbytes for b in rows) / 1024**2


def timing_table(
    title: str, measurements: dict[str, Measurement], reference: str, labels: dict[str, str]
) -> Table:
    """Medians of every case, with the ratio against ``reference`` and the memory of each."""
    rows = [
        report.Row(
            labels[case],
            m.timings.wall,
            (report.mib_text(m.rss_ready_mib), report.mib_text(m.timings.rss_peak_mib)),
        )
        for case, m in measurements.items()
    ]
    return report.timing_table(
        title,
        rows,
        reference=reference,
        reference_wall=measurements[reference].timings.wall,
        columns=("RSS ready", "peak RSS"),
    )


P2_LABELS = {
    "reference": "plain write_deltalake + polars scan",
    "publish": "publish (whole table)",
    "publish_stream": "publish_stream (the table as a reader)",
}
P3_LABELS = {
    "stream_half": "publish_stream, first half of the rows",
    "whole": "read whole + publish",
    "stream": "publish_stream over the scanner",
}


def main(rows: int, repeat: int = 3, *, seed: int = data.DEFAULT_SEED) -> Path:
    """Measure P2 and P3 on the ~1% bad table of ``rows`` rows; print tables, write JSON.

    Args:
        rows: Rows of the generated table.
        repeat: Timed runs per case (after one warm-up run).
        seed: Seed of the generated data.

    Returns:
        The JSON results file, ``benchmarks/results/publish-<rows>.json``.
    """
    console = report.wide_console()
    started = time.perf_counter()
    path = str(data.ensure_delta(rows, seed=seed, bad_share=BAD_SHARE))
    p3_batch = max(rows // P3_BATCHES, 1)
    p2_batch = DEFAULT_BATCH_ROWS  # what publish_rows streams a large table with
    console.print(
        f"[bold]P2/P3 write-audit-publish[/]: {rows:,} rows x 8 columns, ~{BAD_SHARE:.0%} bad, "
        f"median of {repeat} after a warm-up, each case in its own process"
    )
    p2 = {case: in_fresh_process(measure_case, case, path, p2_batch, repeat) for case in P2_CASES}
    p3 = {case: in_fresh_process(measure_case, case, path, p3_batch, repeat) for case in P3_CASES}
    mib = batch_mib(path, p3_batch)

    console.print(timing_table(f"P2, {rows:,} rows in memory", p2, "reference", P2_LABELS))
    p2_ratio = p2["publish"].timings.wall.ratio_to(p2["reference"].timings.wall)
    stream_ratio = p2["publish_stream"].timings.wall.ratio_to(p2["reference"].timings.wall)
    console.print(
        f"P2 target publish <= {P2_TARGET} x reference: {p2_ratio:.2f} "
        f"({report.verdict(p2_ratio <= P2_TARGET)}); publish_stream {stream_ratio:.2f}"
    )
    console.print(
        timing_table(
            f"P3, {rows:,} rows read as {P3_BATCHES} batches of {p3_batch:,}",
            p3,
            "whole",
            P3_LABELS,
        )
    )
    peak = {case: m.timings.rss_peak_mib for case, m in p3.items()}
    above = {case: peak[case] - m.rss_ready_mib for case, m in p3.items()}
    in_batches = {case: mib_above / mib for case, mib_above in above.items()}
    growth = peak["stream"] - peak["stream_half"]
    bounded = growth <= P3_GROWTH_BATCHES * mib and peak["stream"] < peak["whole"]
    console.print(
        f"P3 batch: {mib:,.0f} MiB in Arrow. Peak above the process's start, in batches: "
        + ", ".join(f"{case} {n:.1f}" for case, n in in_batches.items())
        + f". Streaming the whole table instead of half: {growth:+,.0f} MiB "
        f"({growth / mib:+.1f} batches; "
        f"{'[green]bounded[/]' if bounded else '[red]not bounded[/]'}: at most "
        f"{P3_GROWTH_BATCHES:g} batches, and below the whole-table run)"
    )

    agree = _counts_agree(p2, p3)
    if not agree:
        console.print("[bold red]counts differ between cases[/]")
    for name, group in (("P2", p2), ("P3", p3)):
        for case, m in group.items():
            report.print_noisy(console, f"{name} {case}", m.timings)

    profile: list[dict[str, Any]] = []
    if p2_ratio > P2_TARGET:
        profile = in_fresh_process(profile_publish, path)
        table = Table(title="Where publish spends its time (one run under cProfile)")
        for column in ("step", "seconds", "share"):
            table.add_column(column, justify="left" if column == "step" else "right")
        for step in profile:
            share = step["seconds"] / step["total"] if step["total"] else 0.0
            table.add_row(step["step"], report.seconds_text(step["seconds"]), f"{share:.0%}")
        console.print(table)

    return report.write_results(
        console,
        f"publish-{rows}.json",
        "P2/P3 write-audit-publish",
        {
            "rows": rows,
            "repeat": repeat,
            "seed": seed,
            "bad_share": BAD_SHARE,
            "batch_rows": p3_batch,
            "batch_mib": round(mib, 1),
            "p2": {
                "reference": "reference",
                "cases": _cases_json(p2, "reference"),
                "target": P2_TARGET,
                "publish_ratio": p2_ratio,
                "publish_stream_ratio": stream_ratio,
                "met": p2_ratio <= P2_TARGET,
                "profile": profile,
            },
            "p3": {
                "reference": "whole",
                "cases": _cases_json(p3, "whole"),
                "peak_above_start_mib": above,
                "peak_above_start_batches": in_batches,
                "stream_growth_whole_vs_half_mib": growth,
                "growth_target_batches": P3_GROWTH_BATCHES,
                "bounded": bounded,
            },
            "counts_agree": agree,
        },
        started=started,
    )


def _cases_json(measurements: dict[str, Measurement], reference: str) -> dict[str, Any]:
    """Every case as recorded, with its ratio against ``reference``."""
    base = measurements[reference].timings.wall
    return {
        case: {**asdict(m), "ratio": m.timings.wall.ratio_to(base)}
        for case, m in measurements.items()
    }


def _counts_agree(p2: dict[str, Measurement], p3: dict[str, Measurement]) -> bool:
    """Every publishing case found the same rows in, valid, rejected and published."""
    keys = ("rows", "rows_valid", "rows_rejected", "published", "committed")
    seen = {
        tuple(m.counts.get(k) for k in keys)
        for group in (p2, p3)
        for case, m in group.items()
        if case not in ("reference", "stream_half")
    }
    rows = {
        m.counts.get("rows")
        for group in (p2, p3)
        for case, m in group.items()
        if case != "stream_half"
    }
    return len(seen) == 1 and len(rows) == 1


def sweep(sizes: list[int], repeat: int = 3, *, seed: int = data.DEFAULT_SEED) -> Path:
    """Whole-table ``publish`` against ``publish_stream`` (``DEFAULT_BATCH_ROWS`` batches) of
    in-memory tables of each size (~1% bad rows): where ``publish_rows`` should switch.

    Returns:
        The JSON results file, ``benchmarks/results/publish-sweep.json``.
    """
    console = report.wide_console()
    started = time.perf_counter()
    table = Table(title=f"publish vs publish_stream ({DEFAULT_BATCH_ROWS:,}-row batches)")
    for column in ("rows", "publish", "stream", "stream / publish", "peak publish", "peak stream"):
        table.add_column(column, justify="right")
    found: dict[int, dict[str, Any]] = {}
    for rows in sizes:
        path = str(data.ensure_delta(rows, seed=seed, bad_share=BAD_SHARE))
        whole, stream = (
            in_fresh_process(measure_case, case, path, DEFAULT_BATCH_ROWS, repeat)
            for case in ("publish", "publish_stream")
        )
        found[rows] = {"publish": asdict(whole), "publish_stream": asdict(stream)}
        table.add_row(
            f"{rows:,}",
            report.seconds_text(whole.timings.wall.median),
            report.seconds_text(stream.timings.wall.median),
            f"{stream.timings.wall.ratio_to(whole.timings.wall):.2f}",
            report.mib_text(whole.timings.rss_peak_mib),
            report.mib_text(stream.timings.rss_peak_mib),
        )
    console.print(table)
    return report.write_results(
        console,
        "publish-sweep.json",
        "publish vs publish_stream by size",
        {"repeat": repeat, "batch_rows": DEFAULT_BATCH_ROWS, "results": found},
        started=started,
    )


def cli() -> None:
    """Parse the command line and run the benchmark (or the threshold sweep)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data.add_table_arguments(parser, rows=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case")
    parser.add_argument(
        "--sweep",
        help="instead: publish vs publish_stream at these sizes, e.g. 300000,1000000,3000000",
    )
    args = parser.parse_args()
    if args.sweep:
        sweep([int(n) for n in args.sweep.split(",")], args.repeat, seed=args.seed)
    else:
        main(args.rows, args.repeat, seed=args.seed)


if __name__ == "__main__":
    cli()
