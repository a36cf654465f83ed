"""A real Dagster webserver (or ``dagster dev``) over the project's workspace, for the tests that
need one: started in its own process group, asked over GraphQL, stopped with its code servers."""

import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from platform_lib.deploy.processes import STOP_TIMEOUT, free_port, stop_group
from tests.conftest import PROJECT_ROOT

INSTANCE_CONFIG = "telemetry:\n  enabled: false\n"
STARTUP_TIMEOUT = 90.0

# Loopback only: never route through a proxy configured in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def mesh_environment(root: Path) -> dict[str, str]:
    """The environment of every process: instance, lake and landing under ``root``."""
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(INSTANCE_CONFIG)
    landing = root / "landing"
    if not landing.exists():
        shutil.copytree(PROJECT_ROOT / "data" / "landing", landing)
    env = dict(os.environ)
    env.update(
        DAGSTER_HOME=str(home),
        MESH_LAKE_ROOT=str(root / "lake"),
        MESH_LANDING_ROOT=str(landing),
        PYTHONUNBUFFERED="1",
    )
    return env


class Webserver:
    """A running ``dagster-webserver`` and the environment it was started with."""

    def __init__(self, url: str, env: dict[str, str], log: Path) -> None:
        self.url = url
        self.env = env
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-20_000:]

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with _OPENER.open(request, timeout=60) as response:
            payload: dict[str, Any] = json.loads(response.read())
        assert not payload.get("errors"), json.dumps(payload["errors"], indent=2)
        data: dict[str, Any] = payload["data"]
        return data


def wait_until_serving(process: subprocess.Popen[bytes], server: Webserver) -> None:
    """Return once ``server`` answers ``/server_info``; fail the test when it exits or times out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"dagster-webserver exited with {process.returncode} before serving:\n"
                f"{server.output()}"
            )
        try:
            with _OPENER.open(f"{server.url}/server_info", timeout=5) as response:
                info = json.loads(response.read())
            if "dagster_version" in info:
                return
        except (OSError, ValueError) as error:
            last_error = repr(error)
        time.sleep(1)
    pytest.fail(
        f"dagster-webserver did not answer /server_info within {STARTUP_TIMEOUT:.0f}s "
        f"(last error: {last_error}):\n{server.output()}"
    )


@contextlib.contextmanager
def serving(
    command: Sequence[str], env: dict[str, str], log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Webserver]]:
    """Run ``command`` (a Dagster server, given ``-p PORT`` on a free port) from the project root
    in its own process group, its output in ``log``; stop the whole group afterwards."""
    port = free_port()
    server = Webserver(f"http://127.0.0.1:{port}", env, log)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "-p", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, server
    finally:
        stop_group(process.pid)
        process.wait(timeout=STOP_TIMEOUT)
