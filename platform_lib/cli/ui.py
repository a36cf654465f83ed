"""``mesh ui``: the Dagster UI and daemon for every domain of the workspace."""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from platform_lib.cli.environment import prepare_dagster_home
from platform_lib.settings import resolve_settings


def ui(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 3000,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Serve the Dagster UI (with its daemon) for every code location in workspace.yaml.

    It uses the same Dagster instance (DAGSTER_HOME) as `mesh materialize`, so every run shows.

    Example: mesh ui --port 3000
    """
    settings = resolve_settings()
    prepare_dagster_home(settings)
    workspace = str(settings.project_root / "workspace.yaml")
    dagster = str(Path(sys.executable).parent / "dagster")
    command = [dagster, "dev", "-w", workspace, "-h", host, "-p", str(port)]
    os.chdir(settings.project_root)
    os.execv(dagster, command)
