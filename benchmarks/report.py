"""How the benchmarks report: one table of medians and ratios, the noisy and target lines, and
the results JSON with the machine and the commit measured."""

import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measure import MeasuredCommand, Summary, Timings
from rich.console import Console
from rich.table import Table

from data import RESULTS

LIBRARIES = ("polars", "duckdb", "pyarrow", "deltalake", "dagster", "pydantic")
"""The libraries whose versions every results file records."""
MIN_WIDTH = 112
"""The console is at least this wide, so the tables keep one line a row."""


def wide_console() -> Console:
    """A console at least ``MIN_WIDTH`` columns wide."""
    return Console(width=max(Console().width, MIN_WIDTH))


def seconds_text(seconds: float) -> str:
    """``0.059 s``; ``10.04 s`` from ten seconds."""
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.2f} s"


def mib_text(mib: float) -> str:
    """``1,926 MiB``."""
    return f"{mib:,.0f} MiB"


def verdict(met: bool | None) -> str:
    """A target's verdict: ``met``, ``missed``, or ``not measured`` (None)."""
    if met is None:
        return "[yellow]not measured[/]"
    return "[bold green]met[/]" if met else "[bold red]missed[/]"


def yes_no(ok: bool) -> str:
    """A verification's cell: ``yes``, or a red ``NO``."""
    return "yes" if ok else "[bold red]NO[/]"


def against(ours: Timings, reference: Timings) -> str:
    """The ratio of two cases' medians, wall and CPU: ``1.96 x (6.360 s against 3.240 s; CPU
    time 1.85 x)``."""
    return (
        f"{ours.wall.ratio_to(reference.wall):.2f} x ({seconds_text(ours.wall.median)} against "
        f"{seconds_text(reference.wall.median)}; CPU time {ours.cpu.ratio_to(reference.cpu):.2f} x)"
    )


@dataclass(frozen=True)
class Row:
    """One row of a timing table: a case (or one phase of the case above it) and its cells."""

    label: str
    wall: Summary
    cells: tuple[str, ...] = ()
    """The table's extra columns, in order."""
    phase: bool = False
    """A phase of the case above: printed dim."""


def timing_table(
    title: str,
    rows: Iterable[Row],
    *,
    reference: str,
    reference_wall: Summary,
    columns: Sequence[str] = (),
) -> Table:
    """Median, min, max and the ratio ``x <reference>`` of every row, then the extra ``columns``.

    The ratio is each median over the reference's median, measured in the same run.
    """
    table = Table(title=title)
    for column in ("case", "median", "min", "max", f"x {reference}", *columns):
        table.add_column(column, justify="left" if column == "case" else "right")
    for row in rows:
        table.add_row(
            row.label,
            seconds_text(row.wall.median),
            seconds_text(row.wall.min),
            seconds_text(row.wall.max),
            f"{row.wall.ratio_to(reference_wall):.2f}",
            *row.cells,
            style="dim" if row.phase else None,
        )
    return table


def print_noisy(console: Console, what: str, timings: Timings) -> None:
    """Say so when other processes used more than the noisy share of the machine during the
    runs of ``what``: rerun on a quiet machine before trusting its figures."""
    if timings.noisy:
        console.print(
            f"[yellow]noisy[/]: other processes used {timings.other_cpu_seconds:.1f} CPU s "
            f"during the {timings.wall_seconds:.1f} s of {what}"
        )


def print_command_outcome(console: Console, case: str, measured: MeasuredCommand) -> None:
    """What the runs of a command case found (``FAILED`` when one did not do its job), and
    whether they were noisy."""
    failed = "" if measured.verified else "[bold red]FAILED[/] "
    console.print(f"{failed}{case}: {measured.detail}", highlight=False)
    print_noisy(console, case, measured.timings)


def machine_info() -> dict[str, Any]:
    """CPU, memory, Python and library versions of this machine."""
    cpuinfo = Path("/proc/cpuinfo")
    models = [
        line.split(":", 1)[1].strip()
        for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
        if line.startswith("model name")
    ]
    meminfo = Path("/proc/meminfo")
    mem_kib = next(
        (
            int(line.split()[1])
            for line in (meminfo.read_text().splitlines() if meminfo.exists() else [])
            if line.startswith("MemTotal")
        ),
        0,
    )
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": models[0] if models else "",
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


def write_results(
    console: Console, name: str, benchmark: str, results: dict[str, Any], *, started: float
) -> Path:
    """Write ``results/<name>``: the benchmark's ``results``, when it ran, the machine, the
    commit, and the wall time since ``started`` (``time.perf_counter()``); say where."""
    out = RESULTS / name
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": benchmark,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **results,
        "machine": machine_info(),
        "code": code_version(),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    out.write_text(json.dumps(document, indent=2) + "\n")
    shown = out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out
    console.print(f"wrote {shown}")
    return out
