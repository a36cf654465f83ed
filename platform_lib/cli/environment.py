"""What every command needs first: settings, a writable lake, the Dagster instance."""

import os
import tempfile
from pathlib import Path

from dagster import DagsterInstance

from platform_lib.errors import MeshError
from platform_lib.settings import MeshSettings

INSTANCE_CONFIG = """\
# Dagster's embedded (SQLite) storage in this folder. Telemetry is off: the mesh runs offline.
telemetry:
  enabled: false
"""


def ensure_writable_lake(settings: MeshSettings) -> None:
    """Fail early, before any write, when a local lake root cannot be written."""
    if "://" in settings.lake_root:
        return
    root = Path(settings.lake_root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".write-check-"):
            pass
    except OSError as error:
        raise MeshError(
            f"lake root {root} is not writable ({error.strerror})",
            fix="set MESH_LAKE_ROOT to a folder you can write, or fix its permissions",
        ) from error


def prepare_dagster_home(settings: MeshSettings) -> Path:
    """Create ``DAGSTER_HOME`` with a ``dagster.yaml`` if missing, and export it."""
    home = settings.dagster_home
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MeshError(
            f"DAGSTER_HOME {home} cannot be created ({error.strerror})",
            fix="set DAGSTER_HOME to a folder you can write",
        ) from error
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_CONFIG)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def dagster_instance(settings: MeshSettings) -> DagsterInstance:
    """The Dagster instance at ``DAGSTER_HOME``, shared with ``mesh ui``."""
    prepare_dagster_home(settings)
    return DagsterInstance.get()
