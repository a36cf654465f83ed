"""The ``mesh`` command line: thin commands over platform_lib.

A user's mistake (a :class:`MeshError`) is printed as one line with its fix and exit code 2;
an unexpected error keeps its traceback, since that one is ours.

Commands live in their own modules and some import Dagster, Delta and polars; ``main`` registers
only the command it is asked for, so ``mesh check`` or ``mesh new`` start in a fraction of the time.
"""

import importlib
import os
import sys
import warnings
from typing import Any

import typer
from rich.markup import escape

from platform_lib.cli.output import console as make_console
from platform_lib.errors import MeshError

COMMANDS = {
    "catalog": "platform_lib.cli.catalog:catalog",
    "check": "platform_lib.cli.check:check",
    "materialize": "platform_lib.cli.materialize:materialize",
    "replay": "platform_lib.cli.replay:replay",
    "rollback": "platform_lib.cli.rollback:rollback",
    "status": "platform_lib.cli.status:status",
    "tables": "platform_lib.cli.tables:tables",
    "test": "platform_lib.cli.test:test",
    "ui": "platform_lib.cli.ui:ui",
}
"""Each command and the function that implements it."""
GROUPS = {
    "contracts": "platform_lib.cli.contracts:app",
    "deploy": "platform_lib.cli.deploy:app",
    "new": "platform_lib.cli.new:app",
    "quarantine": "platform_lib.cli.quarantine:app",
}
"""Each command group and its Typer app."""
USER_ERROR_EXIT = 2


def build_app(command: str | None = None) -> typer.Typer:
    """The ``mesh`` app with ``command`` alone registered, or every command when it is not one."""
    app = typer.Typer(
        name="mesh",
        help="Operate the data mesh: materialise tables, list them, check contracts.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_mesh)  # a group even when one command is registered
    only = command if command in COMMANDS or command in GROUPS else None
    for name, target in COMMANDS.items():
        if only in (None, name):
            app.command(name)(_resolve(target))
    for name, target in GROUPS.items():
        if only in (None, name):
            app.add_typer(_resolve(target), name=name)
    return app


def _mesh() -> None:
    """Operate the data mesh: materialise tables, list them, check contracts."""


def _resolve(target: str) -> Any:
    module, attribute = target.split(":")
    return getattr(importlib.import_module(module), attribute)


def main() -> None:
    """Console-script entry point."""
    warnings.filterwarnings("ignore")
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    try:
        build_app(command)()
    except MeshError as error:
        console = make_console(stderr=True)
        console.print(
            f"[bold red]error:[/] {escape(error.message)}", highlight=False, soft_wrap=True
        )
        console.print(f"  [bold]fix:[/] {escape(error.fix)}", highlight=False, soft_wrap=True)
        _exit(USER_ERROR_EXIT)
    except SystemExit as done:
        _exit(done.code if isinstance(done.code, int) else 0 if done.code is None else 1)
    _exit(0)


def _exit(code: int) -> None:
    """Leave with ``code`` once output is flushed, skipping interpreter teardown.

    Native thread pools (Arrow, DuckDB, Delta) occasionally abort the process while Python tears
    down after the work is done ("terminate called without an active exception", exit -6), which
    would turn a successful command into a failure for CI. Every write is committed by then.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
