"""What every command needs first: settings, a writable lake, the Dagster instance."""

import os
import tempfile
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
from dagster import DagsterInstance

from platform_lib.errors import MeshError
from platform_lib.settings import MeshSettings

INSTANCE_CONFIG = """\
# Dagster's embedded (SQLite) storage in this folder. Telemetry is off: the mesh runs offline.
telemetry:
  enabled: false
"""


def ensure_writable_lake(settings: MeshSettings) -> None:
    """Fail early, before any write, when the lake root cannot be written.

    A local root is created if missing; an object-store root (``s3://bucket/prefix``) gets one
    small object written and deleted, with the same credentials and endpoint (``AWS_*``
    variables) that the Delta writer reads.
    """
    if "://" in settings.lake_root:
        _check_object_store(settings.lake_root)
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


def _check_object_store(lake_root: str) -> None:
    try:
        filesystem, prefix = pafs.FileSystem.from_uri(lake_root)
    except pa.ArrowInvalid:
        return  # a scheme pyarrow cannot open: the Delta writer reports its own errors
    probe = f"{prefix.rstrip('/')}/.write-check-{uuid.uuid4().hex}"
    try:
        with filesystem.open_output_stream(probe) as output:
            output.write(b"")
        filesystem.delete_file(probe)
    except OSError as error:
        reason = str(error).split(" (Request ID")[0]
        raise MeshError(
            f"lake root {lake_root} is not writable ({reason})",
            fix="create the bucket, or set MESH_LAKE_ROOT and the AWS_* variables "
            "(AWS_ENDPOINT_URL, AWS_REGION, credentials) to a bucket you can write; "
            "docs/deploy.md lists them",
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
