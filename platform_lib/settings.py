"""Typed settings resolved from the environment, in one place.

Every path the platform touches comes from :func:`resolve_settings`, so a deployment changes
behaviour by environment variables alone:

- ``MESH_LAKE_ROOT``: where Delta tables live (default ``<project>/.lake``).
- ``MESH_LANDING_ROOT``: where source files land (default ``<project>/data/landing``).
- ``DAGSTER_HOME``: the Dagster instance (default ``<project>/.dagster``).

An object-store lake (``MESH_LAKE_ROOT=s3://bucket/prefix``) needs no setting here: the Delta
engine and pyarrow read the standard ``AWS_*`` variables (credentials, ``AWS_REGION``,
``AWS_ENDPOINT_URL``, ``AWS_ALLOW_HTTP``) themselves, so every reader and writer of the platform
sees the same store. docs/deploy.md lists them.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

PROJECT_ROOT_MARKER = "workspace.yaml"


class MeshSettings(BaseModel):
    """Where the mesh keeps its data."""

    model_config = ConfigDict(frozen=True)

    project_root: Path
    lake_root: str
    landing_root: Path
    dagster_home: Path

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
    )
