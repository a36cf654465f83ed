"""Crash-safety harness: SIGKILL a real materialisation at many points of write-audit-publish.

For each scenario (:class:`~tests.reliability.kill_scenarios.Scenario`: the demo's overwrite,
an incremental append with a merged quarantine, a first run into an empty lake, the streaming
path), the harness

1. builds the scenario's starting lake once, records its tables ("old"), runs the materialisation
   un-killed on a copy and records the tables again ("new"), then runs it twice more and requires
   the same tables (repeating a run changes nothing);
2. runs it once more in a child process with every kill point recorded (see
   :mod:`~tests.reliability.kill_points`: calls and returns in ``platform_lib/lake`` and
   deltalake's committing calls, traced in the child; data files and log entries appearing in
   the tables' folders, watched by inotify from the parent) and picks points from each phase
   (raw ingest, curated publish, quarantine), commit boundaries first, the rest spread evenly;
3. for each point, on a fresh copy of the starting lake: runs the child, SIGKILLs it at the
   point, and asserts that every table is readable and exactly at its old or its new version
   (never partial); then runs the materialisation to completion and asserts that the tables are
   exactly the un-killed run's, that raw rows = source records (each landing file once) and
   published + quarantined = input, with no row twice; then once more, and the same.

Run it:

    make kill-harness                                  # every point (>= 50), summary table
    python -m tests.reliability.kill_harness --quick   # the reduced set CI runs (pytest too)
    python -m tests.reliability.kill_harness --list    # the points a full run would kill at
    python -m tests.reliability.kill_harness --workdir /tmp/kill --point POINT
        # one point as --list prints it, e.g. 'overwrite/trace:return committer.py:write_table#2';
        # its lake is kept under /tmp/kill for a look (tests/reliability/README.md)
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tests.reliability.kill_checks import (
    CREATED_EMPTY,
    Accounting,
    TableAfterKill,
    TableContent,
    account,
    data_files,
    judge_after_kill,
    lake_content,
)
from tests.reliability.kill_points import EventCounter, FileWatch, KillPoint, Phase
from tests.reliability.kill_scenarios import (
    PROJECT_ROOT,
    TABLES,
    Scenario,
    materialise,
    prepare_start,
    settings_for,
)

QUICK_SCENARIOS = (Scenario.OVERWRITE, Scenario.INCREMENTAL)
QUICK_PER_PHASE = 1
FULL_PER_PHASE = 4
_TABLE_PHASES = {
    "raw": Phase.RAW_INGEST,
    "curated": Phase.CURATED_PUBLISH,
    "quarantine": Phase.QUARANTINE,
}
_CHILD_TIMEOUT_S = 300
_CHILD_NICENESS = 10


class HarnessError(Exception):
    """The harness could not set a scenario up (its un-killed run is not what it must be)."""


class ScenarioBase(BaseModel):
    """A scenario's starting lake and its tables before and after an un-killed run."""

    model_config = ConfigDict(frozen=True)

    scenario: Scenario
    start: Path
    old: dict[str, TableContent]
    new: dict[str, TableContent]
    accounting: Accounting


class PointResult(BaseModel):
    """What killing at one point showed."""

    model_config = ConfigDict(frozen=True)

    scenario: Scenario
    point: KillPoint
    killed: bool
    """False when the run ended before reaching the point (nothing was tested)."""
    tables: dict[str, TableAfterKill]
    recovered: bool
    """Both runs after the kill completed with exactly the un-killed run's tables."""
    accounting: Accounting | None
    error: str | None = None
    seconds: float

    @property
    def partial_tables(self) -> int:
        """Tables found neither at their old nor at their new version after the kill."""
        return sum(t.partial for t in self.tables.values())

    @property
    def between_files_and_commit(self) -> bool:
        """Whether the kill left data files written but not committed (a mid-write kill)."""
        return any(t.uncommitted_files and t.state == "old" for t in self.tables.values())

    @property
    def ok(self) -> bool:
        """Killed, nothing partial, recovered, and the accounting holds."""
        return (
            self.killed
            and self.partial_tables == 0
            and self.recovered
            and self.accounting is not None
            and self.accounting.holds
        )


def prepare_base(scenario: Scenario, root: Path) -> ScenarioBase:
    """Step 1 of the module docstring."""
    start = root / scenario.value / "start"
    if start.exists():
        shutil.rmtree(start)
    prepare_start(scenario, start)
    old = lake_content(settings_for(start))
    reference = _copy(start, root / scenario.value / "reference")
    settings = settings_for(reference)
    materialise(scenario, settings, run_id="reference")
    new = lake_content(settings)
    first = account(settings)
    skipped = first.input_rows - first.published - first.quarantined
    if scenario in (Scenario.OVERWRITE, Scenario.STREAM) and skipped:
        raise HarnessError(f"{scenario}: {skipped} input rows neither published nor quarantined")
    accounting = account(settings, skipped_by_design=skipped)
    if not accounting.holds:
        raise HarnessError(f"{scenario}: the un-killed run's accounting fails: {accounting}")
    for repeat in (1, 2):
        materialise(scenario, settings, run_id=f"repeat-{repeat}")
        again = lake_content(settings)
        if {n: (c.rows, c.digest) for n, c in again.items()} != {
            n: (c.rows, c.digest) for n, c in new.items()
        }:
            raise HarnessError(f"{scenario}: repeating the run changed the tables: {again}")
    shutil.rmtree(reference)
    return ScenarioBase(scenario=scenario, start=start, old=old, new=new, accounting=accounting)


def record_points(base: ScenarioBase, root: Path) -> list[KillPoint]:
    """Every kill point an un-killed child run reaches (trace points, then file points)."""
    workdir = _copy(base.start, root / base.scenario.value / "recording")
    trace_file = workdir / "trace-points.json"
    counter = EventCounter("file", None, lambda: None)
    with FileWatch(_watched(workdir), counter):
        result = _run_child(base.scenario, workdir, "recording", ["--record", str(trace_file)])
        time.sleep(0.1)  # the last inotify events
    if result.returncode != 0:
        raise HarnessError(f"{base.scenario}: the recording run failed:\n{result.stderr}")
    points = [KillPoint.model_validate(p) for p in json.loads(trace_file.read_text())]
    shutil.rmtree(workdir)
    return points + counter.recorded


def choose_points(points: Sequence[KillPoint], per_phase: int) -> list[KillPoint]:
    """Per phase, ``per_phase`` trace points (commit boundaries first, the rest evenly spread)
    and ``per_phase`` file points, evenly spread."""
    chosen: list[KillPoint] = []
    for phase in Phase:
        traced = [p for p in points if p.phase is phase and p.kind == "trace"]
        boundaries = [p for p in traced if p.commit_boundary]
        others = [p for p in traced if not p.commit_boundary]
        take_boundaries = min(len(boundaries), max(1, (per_phase * 3 + 3) // 4))
        picked = _spread(boundaries, take_boundaries)
        picked += _spread(others, per_phase - len(picked))
        files = [p for p in points if p.phase is phase and p.kind == "file"]
        picked += _spread(files, per_phase)
        chosen += sorted(picked, key=points.index)
    return chosen


def run_point(base: ScenarioBase, point: KillPoint, workdir: Path) -> PointResult:
    """Step 3 of the module docstring, for one point, in ``workdir`` (replaced)."""
    began = time.monotonic()
    if workdir.exists():
        shutil.rmtree(workdir)
    _copy(base.start, workdir)
    settings = settings_for(workdir)
    before = {name: data_files(key.uri(settings)) for name, key in TABLES.items()}
    if point.kind == "trace":
        result = _run_child(base.scenario, workdir, "killed", ["--kill", point.point_id])
    else:
        result = _run_child_killed_on_file(base.scenario, workdir, point)
    killed = result.returncode == -signal.SIGKILL
    if not killed and result.returncode != 0:
        return _failed(base, point, began, f"the child failed:\n{result.stderr[-2000:]}")
    tables = judge_after_kill(settings, base.old, base.new, before)
    recovered = True
    accounting = None
    try:
        for attempt in (1, 2):
            materialise(base.scenario, settings, run_id=f"recovery-{attempt}")
            found = lake_content(settings)
            recovered &= all(
                (found[n].rows, found[n].digest) == (base.new[n].rows, base.new[n].digest)
                for n in TABLES
            )
            accounting = account(settings, base.accounting.skipped_by_design)
            recovered &= accounting.holds
    except Exception as error:  # a run that cannot recover is the finding
        return PointResult(
            scenario=base.scenario,
            point=point,
            killed=killed,
            tables=tables,
            recovered=False,
            accounting=accounting,
            error=f"{type(error).__name__}: {error}",
            seconds=time.monotonic() - began,
        )
    return PointResult(
        scenario=base.scenario,
        point=point,
        killed=killed,
        tables=tables,
        recovered=recovered,
        accounting=accounting,
        seconds=time.monotonic() - began,
    )


def run_harness(
    scenarios: Sequence[Scenario],
    per_phase: int,
    root: Path,
    *,
    only: str | None = None,
    progress: bool = False,
) -> list[PointResult]:
    """Build, record, choose and kill (``only``: one ``<scenario>/<point id>``)."""
    results: list[PointResult] = []
    for scenario in scenarios:
        if only is not None and not only.startswith(f"{scenario.value}/"):
            continue
        base = prepare_base(scenario, root)
        recorded = record_points(base, root)
        if only is not None:
            wanted = only.split("/", 1)[1]
            points = [p for p in recorded if p.point_id == wanted]
            if not points:
                raise HarnessError(f"{wanted!r} is not a point of {scenario} (see --list)")
        else:
            points = choose_points(recorded, per_phase)
        for index, point in enumerate(points, 1):
            workdir = root / scenario.value / ("point" if only else f"point-{index}")
            result = run_point(base, point, workdir)
            results.append(result)
            if only is None:
                shutil.rmtree(workdir)
            if progress:
                status = "ok" if result.ok else "FAILED"
                states = " ".join(f"{n}={t.state.split(':')[0]}" for n, t in result.tables.items())
                print(
                    f"{scenario.value:<11} {point.phase.value:<15} {point.point_id:<52} "
                    f"{states:<40} {status} ({result.seconds:.1f} s)",
                    flush=True,
                )
    return results


def summary(results: Sequence[PointResult], seconds: float) -> str:
    """The table ``make kill-harness`` prints: per phase and in total."""
    header = (
        f"{'phase':<16}{'points':>7}{'killed':>7}{'partial tables':>15}"
        f"{'recovered':>10}{'duplicates':>11}{'rows lost':>10}{'mid-write':>10}"
    )
    lines = [header, "-" * len(header)]
    groups = [(phase.value, [r for r in results if r.point.phase is phase]) for phase in Phase]
    for name, group in [*groups, ("total", list(results))]:
        lines.append(
            f"{name:<16}{len(group):>7}{sum(r.killed for r in group):>7}"
            f"{sum(r.partial_tables for r in group):>15}{sum(r.recovered for r in group):>10}"
            f"{sum(r.accounting.duplicates for r in group if r.accounting):>11}"
            f"{sum(r.accounting.rows_lost for r in group if r.accounting):>10}"
            f"{sum(r.between_files_and_commit for r in group):>10}"
        )
    scenarios = sorted({r.scenario.value for r in results})
    created_empty = sum(t.state == CREATED_EMPTY for r in results for t in r.tables.values())
    lines.append(
        f"scenarios: {', '.join(scenarios)}; mid-write = killed with data files written but not "
        f"committed; tables found created empty (version 0, no rows; not partial): "
        f"{created_empty}; wall time {seconds:.0f} s"
    )
    failed = [r for r in results if not r.ok]
    for result in failed:
        lines.append(
            f"FAILED {result.scenario.value}/{result.point.point_id}: killed={result.killed} "
            f"tables={ {n: t.state for n, t in result.tables.items()} } "
            f"recovered={result.recovered} accounting={result.accounting} error={result.error}"
        )
    lines.append("ALL POINTS OK" if not failed else f"{len(failed)} POINT(S) FAILED")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.kill_harness")
    parser.add_argument("--quick", action="store_true", help="the reduced set CI runs")
    parser.add_argument("--list", action="store_true", help="list the chosen points and stop")
    parser.add_argument("--point", help="run one point: '<scenario>/<point id>' (see --list)")
    parser.add_argument("--workdir", type=Path, help="where lakes go (default: a temp folder)")
    args = parser.parse_args(argv)
    scenarios = QUICK_SCENARIOS if args.quick else tuple(Scenario)
    per_phase = QUICK_PER_PHASE if args.quick else FULL_PER_PHASE
    root = args.workdir or Path(tempfile.mkdtemp(prefix="mesh-kill-"))
    root.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    if args.list:
        for scenario in scenarios:
            base = prepare_base(scenario, root)
            for point in choose_points(record_points(base, root), per_phase):
                print(f"{scenario.value}/{point.point_id}  [{point.phase.value}]")
        return 0
    results = run_harness(scenarios, per_phase, root, only=args.point, progress=True)
    print(summary(results, time.monotonic() - began))
    if args.point:
        print(f"lake kept under {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if results and all(r.ok for r in results) else 1


def _run_child(
    scenario: Scenario, workdir: Path, run_id: str, extra: list[str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _child_command(scenario, workdir, run_id, extra),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=_CHILD_TIMEOUT_S,
        check=False,
    )


def _run_child_killed_on_file(
    scenario: Scenario, workdir: Path, point: KillPoint
) -> subprocess.CompletedProcess[str]:
    """Run the child; the parent SIGKILLs it the moment the point's file event arrives."""
    child: list[subprocess.Popen[str]] = []

    def kill_child() -> None:
        if child:
            os.kill(child[0].pid, signal.SIGKILL)

    counter = EventCounter("file", point.point_id, kill_child)
    with FileWatch(_watched(workdir), counter):
        process = subprocess.Popen(
            _child_command(scenario, workdir, "killed", []),
            cwd=PROJECT_ROOT,
            preexec_fn=_lower_priority,  # the watcher then wakes before the writer moves on
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        child.append(process)
        out, err = process.communicate(timeout=_CHILD_TIMEOUT_S)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _lower_priority() -> None:
    os.nice(_CHILD_NICENESS)


def _child_command(scenario: Scenario, workdir: Path, run_id: str, extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tests.reliability.kill_child",
        scenario.value,
        str(workdir),
        run_id,
        *extra,
    ]


def _watched(workdir: Path) -> dict[str, tuple[Path, Phase]]:
    settings = settings_for(workdir)
    return {name: (Path(key.uri(settings)), _TABLE_PHASES[name]) for name, key in TABLES.items()}


def _copy(source: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def _spread(items: Sequence[KillPoint], count: int) -> list[KillPoint]:
    """``count`` items evenly spread over ``items`` (first and last included), in order."""
    if count <= 0 or not items:
        return []
    if count >= len(items):
        return list(items)
    if count == 1:
        return [items[len(items) // 2]]
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def _failed(base: ScenarioBase, point: KillPoint, began: float, error: str) -> PointResult:
    return PointResult(
        scenario=base.scenario,
        point=point,
        killed=False,
        tables={},
        recovered=False,
        accounting=None,
        error=error,
        seconds=time.monotonic() - began,
    )


if __name__ == "__main__":
    sys.exit(main())
