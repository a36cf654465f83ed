"""The production configuration on one machine: an S3-compatible lake and a PostgreSQL instance.

``mesh deploy up`` starts both servers under a folder (``.prod-local/`` by default), creates the
bucket, writes a ``dagster.yaml`` for PostgreSQL and an ``env.sh`` with every setting. The mesh
then runs unchanged, configured by those environment variables alone, exactly as it would
against a real bucket and database. ``mesh deploy down`` stops both and deletes the folder: the
S3 server keeps its objects in memory, so the lake is gone with it, and the run history goes too
so the next stack starts consistent.
"""

import shlex
import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from platform_lib.deploy.object_store import (
    ObjectStoreServer,
    create_bucket,
    start_object_store,
    stop_object_store,
)
from platform_lib.deploy.postgres import (
    PostgresServer,
    dagster_instance_yaml,
    start_postgres,
    stop_postgres,
)
from platform_lib.deploy.processes import free_port, is_running
from platform_lib.errors import MeshError

BUCKET = "mesh-lake"
LAKE_PREFIX = "lake"
STATE_FILE = "stack.json"
ENV_FILE = "env.sh"


class LocalStack(BaseModel):
    """A running local stack: where its servers listen and the settings that use them."""

    model_config = ConfigDict(frozen=True)

    folder: Path
    object_store: ObjectStoreServer
    postgres: PostgresServer

    @property
    def lake_root(self) -> str:
        """``MESH_LAKE_ROOT`` for this stack."""
        return f"s3://{BUCKET}/{LAKE_PREFIX}"

    @property
    def dagster_home(self) -> Path:
        """``DAGSTER_HOME``: a ``dagster.yaml`` with PostgreSQL storage."""
        return self.folder / "dagster_home"

    def environ(self) -> dict[str, str]:
        """Every variable the mesh needs to run against this stack."""
        return {
            "MESH_LAKE_ROOT": self.lake_root,
            "DAGSTER_HOME": str(self.dagster_home),
            **self.object_store.environ(),
        }

    def is_running(self) -> bool:
        """Whether both servers are still up."""
        return (
            is_running(self.object_store.pid)
            and (self.postgres.data_dir / "postmaster.pid").exists()
        )


def start_local_stack(folder: Path) -> LocalStack:
    """Start the stack under ``folder``, or return the one already running there."""
    existing = read_local_stack(folder)
    if existing is not None and existing.is_running():
        return existing
    if existing is not None:
        stop_local_stack(existing)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # PostgreSQL's own user must reach its data folder inside
    store = start_object_store(free_port(), folder / "s3-server.log")
    try:
        create_bucket(store.endpoint, BUCKET)
        postgres = start_postgres(folder / "postgres", free_port())
    except BaseException:
        stop_object_store(store)
        raise
    stack = LocalStack(folder=folder, object_store=store, postgres=postgres)
    stack.dagster_home.mkdir(parents=True, exist_ok=True)
    (stack.dagster_home / "dagster.yaml").write_text(dagster_instance_yaml(postgres.url))
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in stack.environ().items())
    (folder / ENV_FILE).write_text(
        f"# The mesh's settings for the local stack in {folder}.\n{exports}"
    )
    (folder / STATE_FILE).write_text(stack.model_dump_json(indent=2))
    return stack


def read_local_stack(folder: Path) -> LocalStack | None:
    """The stack recorded under ``folder``, or None when there is none."""
    state = folder / STATE_FILE
    if not state.is_file():
        return None
    try:
        return LocalStack.model_validate_json(state.read_text())
    except ValidationError as error:
        raise MeshError(
            f"{state} is not a local stack's state ({error.error_count()} errors)",
            fix=f"stop any servers it started by hand, then delete {folder}",
        ) from error


def stop_local_stack(stack: LocalStack) -> None:
    """Stop both servers and delete the stack's folder (lake, run history, settings)."""
    stop_object_store(stack.object_store)
    stop_postgres(stack.postgres)
    shutil.rmtree(stack.folder, ignore_errors=True)
