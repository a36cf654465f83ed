"""cProfile summaries for the benchmarks: one ``mesh`` command under the profiler, and a stats
file summarised by phase (the cumulative time of named functions) and by its top calls.

cProfile inflates Python-heavy code ~2.5x: read the shares, not the seconds.
"""

import fnmatch
import io
import pstats
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from measure import ProcessRun, run_process
from report import seconds_text
from rich.console import Console
from rich.table import Table

Phase = tuple[str, str, str]
"""(label, path pattern, function name): a phase is the cumulative time of the functions of that
name in files matching the pattern. Leading spaces of the label show nesting."""
TOP_CALLS = 30
"""Calls listed after the phases, by cumulative time."""

MESH_DRIVER = """
import cProfile
import sys
import warnings


def load_cli():
    from platform_lib.cli.app import build_app

    return build_app({command!r})


warnings.filterwarnings("ignore")
profiler = cProfile.Profile()
sys.argv = {argv!r}
profiler.enable()
try:
    load_cli()()
except SystemExit:
    pass
finally:
    profiler.disable()
    profiler.dump_stats({out!r})
"""
"""A ``mesh`` command under cProfile, the CLI's imports included (as ``load_cli``, in
``<string>``). It calls the Typer app, not ``main``: ``main`` leaves with ``os._exit``, before
any dump."""


def cli_imports_phase(label: str) -> Phase:
    """The phase of a profiled ``mesh`` command that imports its CLI (``MESH_DRIVER``)."""
    return (label, "<string>", "load_cli")


def profile_mesh_command(
    args: Sequence[str], out: Path, *, cwd: Path, env: Mapping[str, str]
) -> ProcessRun:
    """Run ``mesh <args>`` once under cProfile in a fresh process; its stats go to ``out``.

    Raises when no stats were written; the caller judges the run itself (exit code, output).
    """
    out.unlink(missing_ok=True)
    driver = MESH_DRIVER.format(command=args[0], argv=["mesh", *args], out=str(out))
    run = run_process([sys.executable, "-c", driver], cwd=cwd, env=env)
    if not out.exists():
        raise RuntimeError(f"profiling mesh {' '.join(args)} failed: {run.stderr[-2000:]}")
    return run


def phase_rows(stats: pstats.Stats, phases: Sequence[Phase]) -> list[dict[str, Any]]:
    """Cumulative time and calls of every phase found in ``stats``."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = []
    for label, pattern, name in phases:
        found = [
            (value[1], value[3])
            for (path, _, function), value in table.items()
            if function == name and fnmatch.fnmatchcase(path, pattern)
        ]
        if found:
            rows.append(
                {
                    "phase": label.strip(),
                    "label": label,
                    "calls": sum(c for c, _ in found),
                    "cumulative_seconds": sum(s for _, s in found),
                }
            )
    return rows


def print_profile(
    path: Path, console: Console, *, what: str, phases: Sequence[Phase], top: int = TOP_CALLS
) -> dict[str, Any]:
    """Print the phases and the ``top`` calls by cumulative time; return both for the JSON."""
    stats = pstats.Stats(str(path))
    total: float = stats.total_tt  # type: ignore[attr-defined]
    rows = phase_rows(stats, phases)
    table = Table(title=f"{what} under cProfile: {total:.2f} s in all (profiler overhead incl.)")
    for column in ("phase", "calls", "cumulative", "share"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for row in rows:
        table.add_row(
            row["label"],
            f"{row['calls']:,}",
            seconds_text(row["cumulative_seconds"]),
            f"{row['cumulative_seconds'] / total:.0%}",
        )
    console.print(table)
    buffer = io.StringIO()
    pstats.Stats(str(path), stream=buffer).sort_stats("cumulative").print_stats(top)
    listing = buffer.getvalue()
    start = listing.find("   ncalls")
    console.print(f"[bold]top {top} by cumulative time[/] ({path}):", highlight=False)
    console.print(listing[start:].rstrip(), highlight=False, markup=False, soft_wrap=True)
    return {"file": str(path), "total_seconds": total, "phases": rows, "top": listing[start:]}
