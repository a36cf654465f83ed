"""One local production stack for the session: an S3-compatible server and a PostgreSQL.

Both are started by the same code as ``mesh deploy up`` (platform_lib/deploy/local_stack.py),
on free ports of 127.0.0.1, under a folder PostgreSQL's own user can reach (it refuses to run as
root), and stopped at the end of the session.
"""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from platform_lib.deploy.local_stack import LocalStack, start_local_stack, stop_local_stack
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """The running stack; its ``environ()`` configures the mesh to use it."""
    folder = Path(tempfile.mkdtemp(prefix="mesh-prod-")) / "stack"
    folder.parent.chmod(0o755)
    stack = start_local_stack(folder)
    try:
        yield stack
    finally:
        stop_local_stack(stack)
        folder.parent.rmdir()


def stack_settings(stack: LocalStack) -> dict[str, str]:
    """The mesh's settings for ``stack``, landing files from the project."""
    return {**stack.environ(), "MESH_LANDING_ROOT": str(PROJECT_ROOT / "data" / "landing")}


@pytest.fixture
def stack_env(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The stack's settings, exported in this process too; the full environment for commands."""
    settings = stack_settings(local_stack)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return {**os.environ, **settings}
