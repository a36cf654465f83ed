"""Kill points: deterministic places in a materialisation where the harness sends SIGKILL.

Two kinds:

- **trace** points, inside the child process: a ``sys.settrace`` hook (on every thread Python
  starts) sees each call and return of a function of ``platform_lib/lake/`` and of deltalake's
  committing calls (``write_deltalake``, a merge's ``execute``, ``delete``, ``restore``). A point
  is the *n*-th occurrence of one label, e.g. ``return committer.py:write_table#2``: counting per
  label keeps it deterministic even where threads interleave. The child kills itself there.
- **file** points, seen from the parent process through Linux inotify on the tables' folders:
  the *n*-th data file created or renamed into a table's folder, or the *n*-th file created in
  its ``_delta_log``. These fall inside deltalake's Rust writer, between writing Parquet files and
  committing the log entry; the parent kills the child as soon as the event arrives.

A recording run (no kill) lists every point the run reaches, with its phase.
"""

import ctypes
import os
import select
import signal
import struct
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Any, Literal

import deltalake
from pydantic import BaseModel, ConfigDict

import platform_lib.lake

_LAKE_DIR = str(Path(platform_lib.lake.__file__).parent) + os.sep
_DELTA_DIR = str(Path(deltalake.__file__).parent) + os.sep
_DELTA_COMMITS = frozenset({"write_deltalake", "execute", "delete", "restore"})
"""deltalake's Python entry points that end in a commit (``execute`` is a merge's)."""
_COMMITTING_FUNCTIONS = _DELTA_COMMITS | {
    "write_table",
    "insert_new_rows",
    "delete_rows",
    "restore_version",
    "reconcile",
    "keep_rejected",
}
"""Functions whose entry and exit are commit boundaries (the committer's, the publish steps that
decide to commit, and deltalake's)."""
_QUARANTINE_FUNCTIONS = frozenset(
    {
        "keep_rejected",
        "_quarantine",
        "_quarantine_day",
        "quarantine_rows",
        "row_hashes",
        "reconcile",
    }
)
"""Functions of the lake package whose events (and their callees') belong to the quarantine."""


class Phase(StrEnum):
    """The part of write-audit-publish a kill point falls in."""

    RAW_INGEST = "raw ingest"
    CURATED_PUBLISH = "curated publish"
    QUARANTINE = "quarantine"


class KillPoint(BaseModel):
    """One place to kill at: the ``occurrence``-th event ``label``."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["trace", "file"]
    label: str
    occurrence: int
    phase: Phase

    @property
    def point_id(self) -> str:
        """``<kind>:<label>#<occurrence>``, as the harness's ``--point`` option takes it."""
        return f"{self.kind}:{self.label}#{self.occurrence}"

    @property
    def commit_boundary(self) -> bool:
        """Whether the point is the entry or exit of a call that commits (or decides to)."""
        return self.kind == "file" or self.label.rsplit(":", 1)[-1] in _COMMITTING_FUNCTIONS


class EventCounter:
    """Counts events per label; records them, or kills the process at the target one."""

    def __init__(
        self, kind: Literal["trace", "file"], target: str | None, on_target: Callable[[], None]
    ):
        self._kind = kind
        self._target = target
        self._on_target = on_target
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.recorded: list[KillPoint] = []

    def hit(self, label: str, phase: Phase) -> None:
        """Count one event; at the target, act (kill) before anything else happens."""
        with self._lock:
            self._counts[label] += 1
            point = KillPoint(
                kind=self._kind, label=label, occurrence=self._counts[label], phase=phase
            )
            if self._target is None:
                self.recorded.append(point)
            elif point.point_id == self._target:
                self._on_target()


def kill_self() -> None:
    """SIGKILL this process: no handler, no ``finally``, no flush."""
    os.kill(os.getpid(), signal.SIGKILL)


class Tracer:
    """The ``sys.settrace`` hook of the child process (see the module docstring)."""

    def __init__(self, counter: EventCounter) -> None:
        self._counter = counter
        self.stage = Phase.RAW_INGEST
        """RAW_INGEST while ingesting, CURATED_PUBLISH after (quarantine events are told apart)."""

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Trace this thread and every thread started while inside."""
        threading.settrace(self._global)
        sys.settrace(self._global)
        try:
            yield
        finally:
            sys.settrace(None)
            threading.settrace(None)

    def _global(self, frame: FrameType, event: str, arg: Any) -> Any:
        del arg
        if event != "call":
            return None
        label = self._label(frame)
        if label is None:
            return None
        frame.f_trace_lines = False
        self._counter.hit(f"call {label}", self._phase(frame))
        return self._local

    def _local(self, frame: FrameType, event: str, arg: Any) -> Any:
        del arg
        if event == "return":
            label = self._label(frame)
            assert label is not None
            self._counter.hit(f"return {label}", self._phase(frame))
        return self._local

    @staticmethod
    def _label(frame: FrameType) -> str | None:
        code = frame.f_code
        if code.co_filename.startswith(_LAKE_DIR):
            return f"{Path(code.co_filename).name}:{code.co_name}"
        if code.co_filename.startswith(_DELTA_DIR) and code.co_name in _DELTA_COMMITS:
            return f"deltalake:{code.co_name}"
        return None

    def _phase(self, frame: FrameType) -> Phase:
        if self.stage is Phase.RAW_INGEST:
            return Phase.RAW_INGEST
        current: FrameType | None = frame
        while current is not None:
            code = current.f_code
            if code.co_name in _QUARANTINE_FUNCTIONS and code.co_filename.startswith(_LAKE_DIR):
                return Phase.QUARANTINE
            current = current.f_back
        return Phase.CURATED_PUBLISH


_IN_CREATE = 0x100
_IN_MOVED_TO = 0x80
_EVENT_HEADER = struct.Struct("iIII")


class FileWatch:
    """inotify watches on the tables' folders, feeding file events to an :class:`EventCounter`.

    Runs in the parent: a kill from here does not wait for the child's interpreter (deltalake's
    writer may hold it). Tables absent when the watch starts are not watched.
    """

    def __init__(self, tables: dict[str, tuple[Path, Phase]], counter: EventCounter) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._counter = counter
        self._watches: dict[int, tuple[str, str, Phase]] = {}
        for name, (folder, phase) in tables.items():
            for where, path in (("data", folder), ("log", folder / "_delta_log")):
                if path.is_dir():
                    wd = self._libc.inotify_add_watch(
                        self._fd, str(path).encode(), _IN_CREATE | _IN_MOVED_TO
                    )
                    if wd >= 0:
                        self._watches[wd] = (name, where, phase)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kill-file-watch", daemon=True)

    def __enter__(self) -> "FileWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self._fd)

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                continue
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, length = _EVENT_HEADER.unpack_from(data, offset)
                raw_name = data[offset + _EVENT_HEADER.size : offset + _EVENT_HEADER.size + length]
                offset += _EVENT_HEADER.size + length
                name = raw_name.rstrip(b"\0").decode(errors="replace")
                label = self._label(wd, mask, name)
                if label is not None:
                    self._counter.hit(label, self._watches[wd][2])

    def _label(self, wd: int, mask: int, name: str) -> str | None:
        if wd not in self._watches:
            return None
        table, where, _phase = self._watches[wd]
        how = "created" if mask & _IN_CREATE else "renamed"
        if where == "data" and ".parquet" in name:
            return f"{table} data file {how}"
        if where == "log" and mask & _IN_CREATE:
            return f"{table} log entry {how}"
        return None
