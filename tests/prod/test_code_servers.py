"""Each domain in its own gRPC code server; the real webserver loads all of them.

The workspace is the one ``mesh deploy workspace`` writes; the servers are started by the same
code (``dagster api grpc`` per domain, as a Helm user deployment runs it), with the local stack's
settings, and the webserver is asked over GraphQL what it loaded.
"""

import json
import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_lib.deploy.code_servers import (
    grpc_workspace_yaml,
    plan_code_servers,
    start_code_servers,
    stop_code_servers,
)
from platform_lib.deploy.local_stack import LocalStack
from platform_lib.deploy.processes import free_port, start_in_own_group, stop_group, wait_for_port
from platform_lib.mesh.graph import load_mesh
from platform_lib.mesh.workspace import read_workspace_modules
from tests.conftest import PROJECT_ROOT, run_command
from tests.prod.conftest import stack_settings

WORKSPACE = PROJECT_ROOT / "workspace.yaml"
WEBSERVER_TIMEOUT = 120.0
# Loopback only: never route through a proxy configured in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

LOCATIONS_QUERY = """
{
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
  assetNodes { assetKey { path } repository { location { name } } }
}
"""


def graphql(port: int, query: str) -> dict[str, Any]:
    """POST ``query`` to the webserver's GraphQL endpoint; its ``data``."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with _OPENER.open(request, timeout=30) as response:
        body: dict[str, Any] = json.load(response)
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture(scope="module")
def webserver(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Code servers for every domain and a webserver over the generated workspace; its port."""
    env = {**os.environ, **stack_settings(local_stack)}
    folder = tmp_path_factory.mktemp("code-servers")
    ports = [free_port() for _ in read_workspace_modules(WORKSPACE)]
    servers = plan_code_servers(WORKSPACE, ports)
    workspace = folder / "workspace.yaml"
    workspace.write_text(grpc_workspace_yaml(servers))
    running = start_code_servers(servers, project_root=PROJECT_ROOT, log_dir=folder, env=env)
    port = free_port()
    log = folder / "webserver.log"
    webserver_bin = str(Path(sys.executable).parent / "dagster-webserver")
    pid = start_in_own_group(
        [webserver_bin, "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)],
        log=log,
        env=env,
        cwd=folder,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=WEBSERVER_TIMEOUT, what="the webserver", log=log)
        yield port
    finally:
        stop_group(pid)
        stop_code_servers(running)


def loaded(port: int) -> dict[str, Any]:
    """The webserver's answer once no location is still loading."""
    deadline = time.monotonic() + WEBSERVER_TIMEOUT
    while True:
        data = graphql(port, LOCATIONS_QUERY)
        entries = data["workspaceOrError"]["locationEntries"]
        if entries and all(entry["locationOrLoadError"] for entry in entries):
            return data
        assert time.monotonic() < deadline, entries
        time.sleep(1)


def test_every_domain_loads_from_its_own_code_server(webserver: int) -> None:
    data = loaded(webserver)
    entries = {
        e["name"]: e["locationOrLoadError"]["__typename"]
        for e in data["workspaceOrError"]["locationEntries"]
    }

    assert entries == {name: "RepositoryLocation" for name, _ in read_workspace_modules(WORKSPACE)}


def test_the_webserver_lists_every_table_under_its_domain(webserver: int) -> None:
    data = loaded(webserver)
    listed = {
        "/".join(node["assetKey"]["path"]): node["repository"]["location"]["name"]
        for node in data["assetNodes"]
    }
    mesh = load_mesh(PROJECT_ROOT).require_loaded()

    expected = {str(key): table.location for key, table in mesh.tables.items()}

    assert {key: listed.get(key) for key in expected} == expected


def test_mesh_deploy_workspace_writes_one_grpc_entry_per_domain(tmp_path: Path) -> None:
    out = tmp_path / "workspace.yaml"

    done = run_command(
        ["mesh", "deploy", "workspace", "--out", str(out), "--first-port", "4300"], dict(os.environ)
    )
    entries = yaml.safe_load(out.read_text())["load_from"]

    assert done.returncode == 0, done.stderr
    assert entries == [
        {"grpc_server": {"host": "127.0.0.1", "port": 4300 + i, "location_name": name}}
        for i, (name, _) in enumerate(read_workspace_modules(WORKSPACE))
    ]
    assert "api grpc --module-name domains.payments.definitions" in done.stdout
