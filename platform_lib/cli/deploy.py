"""``mesh deploy``: the production configuration on this machine, and one code server per domain."""

from pathlib import Path
from typing import Annotated

import typer

from platform_lib.cli.output import console
from platform_lib.deploy.code_servers import (
    HOST,
    code_server_command,
    grpc_workspace_yaml,
    plan_code_servers,
)
from platform_lib.deploy.local_stack import (
    ENV_FILE,
    read_local_stack,
    start_local_stack,
    stop_local_stack,
)
from platform_lib.mesh.workspace import read_workspace_modules
from platform_lib.settings import resolve_settings

app = typer.Typer(
    help="Run the mesh in production shape: S3 lake, PostgreSQL instance, code servers.",
    no_args_is_help=True,
)
LOCAL_STACK_FOLDER = ".prod-local"


@app.command("up")
def up(
    folder: Annotated[
        Path | None, typer.Option(help="Where the stack keeps its data (default .prod-local/).")
    ] = None,
) -> None:
    """Start a local S3-compatible server and PostgreSQL, and write the settings that use them
    (FOLDER/env.sh). Reuses the stack already running in FOLDER.

    Example: mesh deploy up && . .prod-local/env.sh && mesh materialize --all
    """
    where = folder or resolve_settings().project_root / LOCAL_STACK_FOLDER
    stack = start_local_stack(where)
    out = console()
    out.print(f"S3 server   {stack.object_store.endpoint}  lake {stack.lake_root}")
    out.print(f"PostgreSQL  {stack.postgres.url}")
    out.print(f"settings    . {where / ENV_FILE}   (stop with: mesh deploy down)")


@app.command("down")
def down(
    folder: Annotated[
        Path | None, typer.Option(help="The stack's folder (default .prod-local/).")
    ] = None,
) -> None:
    """Stop the local stack and delete its folder (the in-memory lake is gone with the server).

    Example: mesh deploy down
    """
    where = folder or resolve_settings().project_root / LOCAL_STACK_FOLDER
    stack = read_local_stack(where)
    if stack is None:
        console().print(f"no local stack in {where}")
        return
    stop_local_stack(stack)
    console().print(f"stopped the local stack and deleted {where}")


@app.command("workspace")
def workspace(
    out: Annotated[Path, typer.Option(help="The workspace file to write.")],
    first_port: Annotated[int, typer.Option(help="Port of the first domain; then +1 each.")] = 4100,
    host: Annotated[str, typer.Option(help="Host the code servers listen on.")] = HOST,
) -> None:
    """Write a workspace with one gRPC code server per domain of workspace.yaml, and print
    the command serving each one. Point the webserver and the daemon at it with -w.

    Example: mesh deploy workspace --out .prod-local/workspace.yaml
    """
    settings = resolve_settings()
    modules = settings.project_root / "workspace.yaml"
    count = len(read_workspace_modules(modules))
    servers = plan_code_servers(modules, range(first_port, first_port + count), host)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(grpc_workspace_yaml(servers))
    printer = console()
    printer.print(f"wrote {out}; serve each domain from {settings.project_root} with:")
    for server in servers:
        printer.print("  " + " ".join(code_server_command(server)), highlight=False)
