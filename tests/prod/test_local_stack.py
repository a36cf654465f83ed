"""``mesh deploy up``'s stack: recorded, reused while it runs, and its settings file."""

import os
import shlex
from pathlib import Path

from platform_lib.deploy.local_stack import (
    ENV_FILE,
    LocalStack,
    read_local_stack,
    start_local_stack,
)
from tests.conftest import run_command


def test_starting_again_reuses_the_running_stack(local_stack: LocalStack) -> None:
    again = start_local_stack(local_stack.folder)

    assert again == local_stack
    assert read_local_stack(local_stack.folder) == local_stack
    assert local_stack.is_running()


def test_env_file_exports_every_setting(local_stack: LocalStack) -> None:
    lines = (local_stack.folder / ENV_FILE).read_text().splitlines()
    exported = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in lines
        if line.startswith("export ")
    )

    assert exported == local_stack.environ()
    assert exported["MESH_LAKE_ROOT"].startswith("s3://")
    assert "postgresql+psycopg2://" in (local_stack.dagster_home / "dagster.yaml").read_text()


def test_down_without_a_stack_says_so(tmp_path: Path) -> None:
    done = run_command(
        ["mesh", "deploy", "down", "--folder", str(tmp_path / "none")], dict(os.environ)
    )

    assert done.returncode == 0, done.stderr
    assert "no local stack" in done.stdout
