"""P6: the demo mesh end to end, `mesh materialize --all` against the same tables in plain Dagster.

Cases, each run a fresh process in the project root with a fresh temporary lake
(``MESH_LAKE_ROOT``) and Dagster instance (``DAGSTER_HOME``, SQLite, telemetry off), reading the
project's landing files (``data/landing``); one untimed warm-up run of each, then ``--repeat``
timed runs of each, the two cases alternating; wall time, CPU time and peak
RSS from ``os.wait4`` (``measure.run_process``):

- ``mesh``: ``mesh materialize --all``: the project's three domains and seven contracts, every
  table validated against its contract, quarantines written, one asset check per rule, in
  process (one Dagster run per domain and stage).
- ``plain``: ``python benchmarks/plain_demo/definitions.py``: the same seven tables as plain
  Dagster assets computed the same way from the same landing files and written with
  ``write_deltalake``, no contract, validation, quarantine or check, in one in-process
  ``dagster.materialize`` run. It is the reference of the ratio.

After every run the lake is read back. Ours publishes the valid rows and quarantines the rest, so
each table's published + quarantined rows must equal what the plain table's computation gives
over the same inputs: the raw table is compared with the plain run's; every other table is
recomputed with the plain module's own function over *our* published inputs (over its own inputs
the plain products also aggregate the rows ours quarantined, so their counts differ: printed).

The issue's target: ``mesh`` within 1.5 x ``plain``. When it misses (or with ``--profile``) one
``mesh materialize --all`` runs under cProfile and is summarised by phase.

Run: ``python benchmarks/bench_end_to_end.py --repeat 3`` (see ``run.py``).
"""

import argparse
import importlib.util
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import Any

import report
from deltalake import DeltaTable
from measure import (
    MeasuredCommand,
    ProcessRun,
    command_environment,
    command_timings,
    run_process,
)
from profiles import Phase, cli_imports_phase, print_profile, profile_mesh_command
from rich.console import Console
from rich.table import Table

from data import RESULTS

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PLAIN = Path(__file__).resolve().parent / "plain_demo" / "definitions.py"
REFERENCE = "plain"
TARGET_RATIO = 1.5
"""The issue's target: the demo mesh end to end within 1.5 x the same assets in plain Dagster."""
QUARANTINE_SUFFIX = "__quarantine"
RAW_TABLE = "payments/raw/transactions"


def case_commands() -> dict[str, tuple[list[str], str]]:
    """Case -> (command, label)."""
    return {
        "mesh": ([str(BIN / "mesh"), "materialize", "--all"], "mesh materialize --all"),
        "plain": ([sys.executable, str(PLAIN)], "the same tables in plain Dagster"),
    }


def environment(scratch: Path) -> dict[str, str]:
    """A fresh lake and Dagster instance under ``scratch``; the project's landing files
    (``measure.command_environment``)."""
    return command_environment(
        {
            "MESH_LAKE_ROOT": str(scratch / "lake"),
            "MESH_LANDING_ROOT": str(PROJECT / "data" / "landing"),
            "DAGSTER_HOME": str(scratch / "dagster_home"),
        }
    )


# -- what a run left behind ----------------------------------------------------------------------


def lake_rows(lake: Path) -> dict[str, int]:
    """Rows of every Delta table under ``lake``, by ``domain/layer/table``."""
    return {
        log.parent.relative_to(lake).as_posix(): DeltaTable(str(log.parent))
        .to_pyarrow_dataset()
        .count_rows()
        for log in sorted(lake.glob("*/*/*/_delta_log"))
    }


def dagster_events(home: Path) -> dict[str, int]:
    """Runs and events the run(s) recorded in the SQLite instance at ``home``."""
    logs = [db for db in (home / "history" / "runs").glob("*.db") if db.stem != "index"]
    events = 0
    for db in logs:
        with sqlite3.connect(db) as connection:
            events += connection.execute("SELECT count(*) FROM event_logs").fetchone()[0]
    return {"runs": len(logs), "events": events}


def load_plain() -> ModuleType:
    """The plain module (``benchmarks/plain_demo/definitions.py``), for its computations."""
    spec = importlib.util.spec_from_file_location("plain_demo_definitions", PLAIN)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {PLAIN}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compare_tables(mesh_lake: Path, plain_lake: Path, plain: ModuleType) -> list[dict[str, Any]]:
    """Per table: ours published and quarantined, plain's rows, and plain's computation over
    our published inputs; ``same`` when published + quarantined equals what plain computes."""
    ours, theirs = lake_rows(mesh_lake), lake_rows(plain_lake)
    rows = []
    for table in [RAW_TABLE, *plain.TABLES]:
        published = ours.get(table)
        quarantined = ours.get(table + QUARANTINE_SUFFIX)  # none for the raw table
        recomputed = None
        if table == RAW_TABLE:
            expected = theirs.get(table)  # both read the same landing files
        else:
            recomputed = plain.compute_table(table, lambda t: str(mesh_lake / t)).num_rows
            expected = recomputed
        rows.append(
            {
                "table": table,
                "published": published,
                "quarantined": quarantined,
                "plain": theirs.get(table),
                "plain_over_our_inputs": recomputed,
                "same": published is not None and published + (quarantined or 0) == expected,
            }
        )
    return rows


# -- measuring -----------------------------------------------------------------------------------


def run_case(command: list[str]) -> tuple[ProcessRun, dict[str, Any]]:
    """One run in a fresh scratch folder, and what it left (table rows, Dagster runs and
    events); the scratch folder is kept in the latter."""
    scratch = Path(tempfile.mkdtemp(prefix="mesh-bench-e2e-"))
    run = run_process(command, cwd=PROJECT, env=environment(scratch))
    left = {
        "scratch": scratch,
        "rows": lake_rows(scratch / "lake") if (scratch / "lake").exists() else {},
        **dagster_events(scratch / "dagster_home"),
    }
    return run, left


def measure(repeat: int, console: Console) -> tuple[dict[str, MeasuredCommand], dict[str, Any]]:
    """A warm-up run of each case, then ``repeat`` timed runs of each, alternating (``repeat`` 0:
    the warm-up runs alone are reported, a smoke run).

    Returns the measurements and what each case's warm-up run left (its scratch folder included,
    for the table comparison; the caller deletes it).
    """
    commands = case_commands()
    warm_up: dict[str, ProcessRun] = {}
    warm: dict[str, Any] = {}
    for case, (command, _) in commands.items():
        run, left = run_case(command)
        if run.returncode != 0:
            raise RuntimeError(f"{case} failed (exit {run.returncode}): {run.stderr[-2000:]}")
        warm_up[case], warm[case] = run, left
    timed: dict[str, list[ProcessRun]] = {case: [] for case in commands}
    same_rows: dict[str, bool] = dict.fromkeys(commands, True)
    for index in range(repeat):
        for case, (command, _) in commands.items():
            run, left = run_case(command)
            shutil.rmtree(left["scratch"], ignore_errors=True)
            timed[case].append(run)
            same_rows[case] = same_rows[case] and left["rows"] == warm[case]["rows"]
            console.print(
                f"  run {index + 1}/{repeat} {case}: {report.seconds_text(run.sample.seconds)} "
                f"(exit {run.returncode})",
                highlight=False,
            )
    measured = {}
    for case, (command, _) in commands.items():
        ok = all(r.returncode == 0 for r in timed[case]) and same_rows[case]
        measured[case] = MeasuredCommand(
            command=command,
            timings=command_timings(warm_up[case], timed[case]),
            verified=ok,
            detail=f"{len(warm[case]['rows'])} Delta tables, "
            f"{warm[case]['runs']} Dagster run(s), {warm[case]['events']} events recorded"
            + ("" if same_rows[case] else "; row counts differ between runs"),
        )
    return measured, warm


# -- profiling -----------------------------------------------------------------------------------

PHASES: list[Phase] = [
    cli_imports_phase("import the CLI (platform_lib, Dagster, ...)"),
    ("materialize (the command, after its imports)", "*/cli/materialize.py", "materialize"),
    (
        "  load_mesh (import every domain, its contracts)",
        "*/mesh/graph.py",
        "load_mesh",
    ),
    ("  dagster_instance (a fresh SQLite instance)", "*/cli/environment.py", "dagster_instance"),
    ("  materialize_mesh (a Dagster run per domain/stage)", "*/mesh/run.py", "materialize_mesh"),
    (
        "    create_run_for_job (run + planned events)",
        "*/methods/run_methods.py",
        "create_run_for_job",
    ),
    ("    raw ingest step (_ingest)", "*/orchestration/assets.py", "_ingest"),
    ("    table steps (_materialize)", "*/orchestration/assets.py", "_materialize"),
    ("      _run_compute (inputs, the domain's SQL)", "*/orchestration/assets.py", "_run_compute"),
    ("      publish (validate, quarantine, write)", "*/lake/publish/whole.py", "publish"),
    ("        validate_batch", "*/quality/engine.py", "validate_batch"),
    (
        "    store Dagster events (SQLite event log)",
        "*/methods/event_methods.py",
        "handle_new_event",
    ),
    (
        "      asset check events (planned + evaluated)",
        "*/sql_event_log.py",
        "store_asset_check_event",
    ),
]
"""(label, path pattern, function) of the phases of one ``mesh materialize --all``."""


def profile_mesh(out: Path) -> Path:
    """Run ``mesh materialize --all`` once under cProfile in a fresh lake; return the stats."""
    with tempfile.TemporaryDirectory(prefix="mesh-bench-e2e-") as scratch:
        done = profile_mesh_command(
            ["materialize", "--all"], out, cwd=PROJECT, env=environment(Path(scratch))
        )
    if done.returncode != 0:
        raise RuntimeError(f"profiling mesh materialize failed: {done.stderr[-2000:]}")
    return out


# -- reporting -----------------------------------------------------------------------------------


def timing_table(measured: dict[str, MeasuredCommand], labels: dict[str, str]) -> Table:
    """Medians of both cases and the ratio against the plain reference, wall and CPU."""
    reference = measured[REFERENCE].timings
    rows = [
        report.Row(
            labels[case],
            m.timings.wall,
            (
                report.seconds_text(m.timings.cpu.median),
                f"{m.timings.cpu.ratio_to(reference.cpu):.2f}",
                report.mib_text(m.timings.rss_peak_mib),
            ),
        )
        for case, m in measured.items()
    ]
    return report.timing_table(
        "the demo mesh end to end (medians)",
        rows,
        reference=REFERENCE,
        reference_wall=reference.wall,
        columns=("CPU", "x CPU", "peak RSS"),
    )


def rows_table(rows: list[dict[str, Any]]) -> Table:
    """Rows per table: ours published and quarantined, plain's, plain's over our inputs."""
    table = Table(title="rows per table (the warm-up runs)")
    columns = ("table", "published", "quarantined", "plain", "plain's SQL on our inputs", "same")
    for column in columns:
        table.add_column(column, justify="left" if column == "table" else "right")
    for row in rows:
        table.add_row(
            row["table"],
            f"{row['published']:,}" if row["published"] is not None else "missing",
            f"{row['quarantined']:,}" if row["quarantined"] is not None else "-",
            f"{row['plain']:,}" if row["plain"] is not None else "missing",
            f"{row['plain_over_our_inputs']:,}"
            if row["plain_over_our_inputs"] is not None
            else "-",
            report.yes_no(row["same"]),
        )
    return table


def main(repeat: int = 3, *, profile: bool | None = None) -> Path:
    """Measure both cases, compare the tables, print the tables, write the JSON results.

    Args:
        repeat: Timed runs per case (after one warm-up run each).
        profile: Profile one ``mesh materialize --all``: always (True), never (False), or when
            the ratio misses ``TARGET_RATIO`` (None).

    Returns:
        The JSON results file, ``benchmarks/results/end-to-end.json``.
    """
    console = report.wide_console()
    started = time.perf_counter()
    labels = {case: label for case, (_, label) in case_commands().items()}
    console.print(
        "[bold]P6 end to end[/]: the demo mesh (3 domains, 7 tables, "
        f"{len(list((PROJECT / 'data' / 'landing').rglob('*.csv')))} landing files), "
        f"median of {repeat} after a warm-up, each run a fresh process, lake and instance",
        highlight=False,
    )
    measured, warm = measure(repeat, console)
    try:
        rows = compare_tables(
            warm["mesh"]["scratch"] / "lake", warm["plain"]["scratch"] / "lake", load_plain()
        )
    finally:
        for left in warm.values():
            shutil.rmtree(left["scratch"], ignore_errors=True)
    tables_same = all(row["same"] for row in rows)
    measured["mesh"].verified = measured["mesh"].verified and tables_same
    ours, plain = measured["mesh"].timings, measured[REFERENCE].timings
    ratio = ours.wall.ratio_to(plain.wall)
    met = ratio <= TARGET_RATIO

    console.print(timing_table(measured, labels))
    console.print(rows_table(rows))
    console.print(
        "published + quarantined = what plain's computation gives over the same inputs: the raw "
        "table against the plain run's; the others recomputed over our published inputs (the "
        "plain run's own products also aggregate the rows we quarantined)",
        highlight=False,
    )
    for case, m in measured.items():
        report.print_command_outcome(console, case, m)
    console.print(
        f"target: mesh materialize <= {TARGET_RATIO:.1f} x plain Dagster: "
        f"{report.verdict(met)}, {report.against(ours, plain)}",
        highlight=False,
    )
    profiled: dict[str, Any] | None = None
    if profile or (profile is None and not met):
        profiled = print_profile(
            profile_mesh(RESULTS / "end-to-end.prof"),
            console,
            what="mesh materialize --all",
            phases=PHASES,
        )

    return report.write_results(
        console,
        "end-to-end.json",
        "P6 end to end",
        {
            "repeat": repeat,
            "reference": REFERENCE,
            "target_ratio": TARGET_RATIO,
            "ratio": ratio,
            "cpu_ratio": ours.cpu.ratio_to(plain.cpu),
            "target_met": met,
            "cases": labels,
            "results": {
                case: {**asdict(m), "ratio": m.timings.wall.ratio_to(plain.wall)}
                for case, m in measured.items()
            },
            "dagster": {
                case: {"runs": left["runs"], "events": left["events"]}
                for case, left in warm.items()
            },
            "tables": rows,
            "verified": all(m.verified for m in measured.values()),
            "profile": profiled,
        },
        started=started,
    )


def cli() -> None:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case")
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="profile one mesh materialize run (default: only when it misses the target)",
    )
    args = parser.parse_args()
    main(args.repeat, profile=args.profile)


if __name__ == "__main__":
    cli()
