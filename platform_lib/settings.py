"""Typed settings resolved from the environment, in one place.

Every path the platform touches comes from :func:`resolve_settings`, so a deployment changes
behaviour by environment variables alone:

- ``MESH_LAKE_ROOT``: where Delta tables live (default ``<project>/.lake``).
- ``MESH_LANDING_ROOT``: where source files land (default ``<project>/data/landing``).
- ``DAGSTER_HOME``: the Dagster instance (default ``<project>/.dagster``).
- ``MESH_AUTOMATION_INTERVAL_SECONDS``: how often the daemon's sensors look for new landing files
  and upstream updates (default 10).

An object-store lake (``MESH_LAKE_ROOT=s3://bucket/prefix``) needs no setting here: the Delta
engine and pyarrow read the standard ``AWS_*`` variables (credentials, ``AWS_REGION``,
``AWS_ENDPOINT_URL``, ``AWS_ALLOW_HTTP``) themselves, so every reader and writer of the platform
sees the same store. docs/deploy.md lists them.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from platform_lib.errors import MeshError

PROJECT_ROOT_MARKER = "workspace.yaml"
DEFAULT_AUTOMATION_INTERVAL_SECONDS = 10


class MeshSettings(BaseModel):
    """Where the mesh keeps its data."""

    model_config = ConfigDict(frozen=True)

    project_root: Path
    lake_root: str
    landing_root: Path
    dagster_home: Path
    automation_interval_seconds: int = DEFAULT_AUTOMATION_INTERVAL_SECONDS
    """Seconds between two evaluations of a domain's landing and automation sensors."""

    def table_uri(self, *parts: str) -> str:
        """The URI of a location under the lake root, joined with ``/``."""
        return "/".join([self.lake_root.rstrip("/"), *parts])


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder holding ``workspace.yaml``, from ``start`` (default: cwd) upwards.

    Falls back to the folder that holds the installed ``platform_lib`` package, which is the
    project root for an editable install.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_ROOT_MARKER).is_file():
            return folder
    return Path(__file__).resolve().parent.parent


def resolve_settings(environ: Mapping[str, str] | None = None) -> MeshSettings:
    """Resolve settings from ``environ`` (default: ``os.environ``)."""
    env = os.environ if environ is None else environ
    root = find_project_root()
    lake_root = env.get("MESH_LAKE_ROOT") or str(root / ".lake")
    if "://" not in lake_root:
        lake_root = str(Path(lake_root).expanduser().resolve())
    landing_root = Path(env.get("MESH_LANDING_ROOT") or root / "data" / "landing")
    dagster_home = Path(env.get("DAGSTER_HOME") or root / ".dagster")
    return MeshSettings(
        project_root=root,
        lake_root=lake_root,
        landing_root=landing_root.expanduser().resolve(),
        dagster_home=dagster_home.expanduser().resolve(),
        automation_interval_seconds=_automation_interval(env),
    )


def _automation_interval(env: Mapping[str, str]) -> int:
    text = env.get("MESH_AUTOMATION_INTERVAL_SECONDS") or str(DEFAULT_AUTOMATION_INTERVAL_SECONDS)
    if not text.strip().isdigit() or int(text) < 1:
        raise MeshError(
            f"MESH_AUTOMATION_INTERVAL_SECONDS is {text!r}, not a whole number of seconds",
            fix="set MESH_AUTOMATION_INTERVAL_SECONDS to a whole number >= 1, e.g. 10",
        )
    return int(text)
