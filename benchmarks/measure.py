"""What a benchmark case costs: the wall time, CPU time and peak memory of its runs.

Every case runs in fresh processes, so it has its own memory peak and no state of another case.
Two kinds of case:

- a Python call, measured by ``time_calls`` inside ``in_fresh_process``: one untimed warm-up
  call, then ``repeat`` timed calls, a ``gc.collect()`` before each;
- a command, one fresh process a run (``run_process``), its wall time, own CPU time and peak RSS
  from ``os.wait4``; ``command_timings`` sums up a case's runs, warm-up included.

Linux starts a process's ``ru_maxrss`` from the peak RSS of the process it was forked from when
it execs, and a benchmark process that generated a 10M-row table has a peak of gigabytes. So a
Python call's peak is its process's ``VmHWM`` (the peak of its own memory since the exec), and a
command is started by a small launcher interpreter (``LAUNCHER``), whose peak is a few MiB.

Each run is a ``Sample``: its wall time, the CPU time it cost (a call: this process's and the
child processes it waited for; a command: its process's own), and the CPU time every other
process on the machine used meanwhile.
When the timed runs saw others use more than ``NOISY_SHARE`` of the machine, the case's figures
are ``noisy``. ``Timings`` gathers a case's runs: the median, min and max of their wall and CPU
times, and the peak RSS.
"""

import gc
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Literal, TypeVar

Value = TypeVar("Value")

NOISY_SHARE = 0.05
"""A case is noisy when other processes used more than this share of the CPUs meanwhile."""


# -- the machine ---------------------------------------------------------------------------------


def machine_cpu_seconds() -> float:
    """CPU time spent by every process on the machine since boot (from ``/proc/stat``)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU time of this process (every thread) and of the child processes it has waited for."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _status_mib(key: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of ``/proc/self/status``, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib() -> float:
    """This process's resident memory now, in MiB."""
    return _status_mib("VmRSS")


PeakOf = Literal["self", "children"]
"""Whose peak RSS is the case's: this process's, or its largest child's (a case that runs a
command)."""


def peak_rss_mib(of: PeakOf = "self") -> float:
    """Peak resident memory so far, in MiB: of this process's own memory since its exec
    (``VmHWM``), or of the largest child process it has waited for (``ru_maxrss``, KiB on
    Linux: at least this process's peak when the child started)."""
    if of == "self":
        return _status_mib("VmHWM")
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# -- one run and a case's runs -------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One run: wall time, the CPU time it cost, and the CPU time other processes used."""

    seconds: float
    cpu_seconds: float
    """CPU time of the run: every thread of the process, and the child processes it waited for."""
    other_cpu_seconds: float
    """CPU time every other process on the machine used meanwhile: near 0 on a quiet machine."""


class Stopwatch:
    """Measures one ``Sample`` from its creation to ``stop()``; its own reads stay outside the
    wall time."""

    def __init__(self) -> None:
        self._machine = machine_cpu_seconds()
        self._own = own_cpu_seconds()
        self._start = time.perf_counter()

    def stop(self) -> Sample:
        """The sample since creation."""
        seconds = time.perf_counter() - self._start
        own = own_cpu_seconds() - self._own
        other = machine_cpu_seconds() - self._machine - own
        return Sample(seconds=seconds, cpu_seconds=own, other_cpu_seconds=max(other, 0.0))


@dataclass(frozen=True)
class Summary:
    """Median, min and max of a case's runs."""

    median: float
    min: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Summary":
        """The summary of ``values`` (at least one)."""
        return cls(median=statistics.median(values), min=min(values), max=max(values))

    def ratio_to(self, reference: "Summary") -> float:
        """This median as a multiple of the ``reference``'s median."""
        return self.median / reference.median


@dataclass
class Timings:
    """A case's reported runs: the timed ones, or the warm-up alone when no run was timed (a
    smoke run), and the peak RSS of all of them, warm-up included."""

    runs: list[Sample]
    rss_peak_mib: float
    wall: Summary = field(init=False)
    cpu: Summary = field(init=False)

    def __post_init__(self) -> None:
        self.wall = Summary.of([run.seconds for run in self.runs])
        self.cpu = Summary.of([run.cpu_seconds for run in self.runs])

    @property
    def wall_seconds(self) -> float:
        """Wall time of the reported runs together."""
        return sum(run.seconds for run in self.runs)

    @property
    def other_cpu_seconds(self) -> float:
        """CPU time other processes used during the reported runs."""
        return sum(run.other_cpu_seconds for run in self.runs)

    @property
    def noisy(self) -> bool:
        """Whether other processes used more than ``NOISY_SHARE`` of the machine meanwhile."""
        capacity = self.wall_seconds * (os.cpu_count() or 1)
        return self.other_cpu_seconds > NOISY_SHARE * capacity


def _reported(warm_up: Value, timed: list[Value]) -> list[Value]:
    return timed or [warm_up]


# -- a Python call, in a fresh process -----------------------------------------------------------


@dataclass
class Calls(Generic[Value]):
    """The reported calls of a case: their timings, what each returned, and the RSS once the
    case's input was ready (before the warm-up)."""

    timings: Timings
    values: list[Value]
    rss_ready_mib: float


def time_calls(
    call: Callable[[], Value],
    repeat: int,
    *,
    prepare: Callable[[], object] | None = None,
    peak_of: PeakOf = "self",
) -> Calls[Value]:
    """One untimed warm-up ``call()``, then ``repeat`` timed ones.

    Before each: ``prepare()`` (untimed, e.g. a fresh output folder), then ``gc.collect()``.
    Meant to run in a fresh process (``in_fresh_process``): the peak RSS is the process's own
    (``peak_of="self"``), or its largest child's for a call that runs a command.
    """
    rss_ready = rss_mib()

    def once() -> tuple[Sample, Value]:
        if prepare is not None:
            prepare()
        gc.collect()
        watch = Stopwatch()
        value = call()
        return watch.stop(), value

    warm_up = once()  # page cache, lazy imports, caches
    reported = _reported(warm_up, [once() for _ in range(repeat)])
    timings = Timings(runs=[sample for sample, _ in reported], rss_peak_mib=peak_rss_mib(peak_of))
    return Calls(timings=timings, values=[value for _, value in reported], rss_ready_mib=rss_ready)


def _stdout_to_devnull() -> None:
    """The measuring process's stdout goes to /dev/null (DuckDB draws progress bars there)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def in_fresh_process(function: Callable[..., Value], *args: object) -> Value:
    """``function(*args)`` in a freshly spawned Python process (stdout to /dev/null); its result.

    ``function`` and its arguments and result must pickle: a module-level function of a
    benchmark script, plain values.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_stdout_to_devnull
    ) as pool:
        return pool.submit(function, *args).result()


# -- a command, one fresh process a run ----------------------------------------------------------


def command_environment(variables: Mapping[str, str]) -> dict[str, str]:
    """This environment with ``variables``, Python's warnings off, and without
    ``PYTHONDONTWRITEBYTECODE``: the warm-up run writes the ``.pyc`` files that the timed runs
    then read, as on any deployed code server (compiling Dagster from source takes ~2 s)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **variables}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@dataclass
class ProcessRun:
    """One command run as a process: its sample, its own peak RSS, its exit code and output."""

    sample: Sample
    rss_peak_mib: float
    returncode: int
    stdout: str
    stderr: str


LAUNCHER = """
import os, sys, time
report, command = int(sys.argv[1]), sys.argv[2:]
os.set_inheritable(report, False)
start = time.perf_counter()
pid = os.posix_spawnp(command[0], command, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
cpu = usage.ru_utime + usage.ru_stime
code = os.waitstatus_to_exitcode(status)
os.write(report, f"{seconds!r} {cpu!r} {usage.ru_maxrss} {code}".encode())
"""
"""Runs ``argv[2:]`` and writes its wall time, CPU time, peak RSS (KiB) and exit code to the file
descriptor ``argv[1]``. As ``python -I -S`` it holds a few MiB, the floor of the command's peak
(the benchmark's process would lend it its own)."""


def run_process(command: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> ProcessRun:
    """Run ``command`` in a fresh process in ``cwd`` (through ``LAUNCHER``): its wall time, and
    its own CPU time and peak RSS from ``os.wait4``."""
    report_fd, write_fd = os.pipe()
    launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(write_fd), *command]
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        os.fdopen(report_fd, "rb") as report,
    ):
        watch = Stopwatch()
        try:
            process = subprocess.Popen(
                launcher, cwd=cwd, env=env, stdout=out, stderr=err, pass_fds=(write_fd,)
            )
        finally:
            os.close(write_fd)
        try:
            process.wait()
        except BaseException:  # e.g. Ctrl-C: leave no orphan behind
            process.kill()
            process.wait()
            raise
        load = watch.stop()
        said = report.read().split()
        out.seek(0)
        err.seek(0)
        stdout, stderr = (f.read().decode(errors="replace") for f in (out, err))
    if process.returncode != 0 or len(said) != 4:
        raise RuntimeError(f"could not run {command[0]} (exit {process.returncode}): {stderr}")
    seconds, cpu_seconds, peak_kib, returncode = said
    return ProcessRun(
        sample=Sample(
            seconds=float(seconds),
            cpu_seconds=float(cpu_seconds),
            other_cpu_seconds=load.other_cpu_seconds,
        ),
        rss_peak_mib=int(peak_kib) / 1024,
        returncode=int(returncode),
        stdout=stdout,
        stderr=stderr,
    )


def command_timings(warm_up: ProcessRun, timed: list[ProcessRun]) -> Timings:
    """The timings of a command's ``timed`` runs (the warm-up's alone when there is none); the
    peak RSS is the largest of every run's, warm-up included."""
    reported = _reported(warm_up, timed)
    peak = max(run.rss_peak_mib for run in [warm_up, *timed])
    return Timings(runs=[run.sample for run in reported], rss_peak_mib=peak)


@dataclass
class MeasuredCommand:
    """A command measured as a case: its timings, and whether every run did its job."""

    command: list[str]
    timings: Timings
    verified: bool
    detail: str
    """What the verification found (the check's counts, lint's summary line, ...)."""
