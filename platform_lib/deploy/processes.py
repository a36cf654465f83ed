"""Background servers the deploy tools start: free ports, process groups, readiness."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from platform_lib.errors import MeshError

STOP_TIMEOUT = 10.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def start_in_own_group(
    command: Sequence[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start ``command`` detached, in a session of its own, output appended to ``log``.

    Servers started in the background may ignore SIGINT/SIGTERM sent to their parent only, so
    each one leads its own process group and :func:`stop_group` signals the whole group.

    Returns:
        The process id, which is also the process group id.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    return process.pid


def is_running(pid: int) -> bool:
    """Whether a process ``pid`` exists (and is not a zombie of ours)."""
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """Stop the process group led by ``pid``: SIGTERM, then, once the leader is gone or after
    ``timeout`` seconds, SIGKILL to whatever of the group is left (a server's children, such as
    its code servers, may outlive it)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and is_running(pid):
            time.sleep(0.1)


def wait_for_port(host: str, port: int, *, timeout: float, what: str, log: Path) -> None:
    """Wait until something accepts TCP connections on ``host:port``, else raise with the log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise MeshError(
        f"{what} did not listen on {host}:{port} within {timeout:.0f} s; its log {log} ends:\n"
        f"{tail}",
        fix="read the log above; free the port or fix the server's configuration",
    )
