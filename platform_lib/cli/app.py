"""The ``mesh`` command line: thin commands over platform_lib.

A user's mistake (a :class:`MeshError`) is printed as one line with its fix and exit code 2;
an unexpected error keeps its traceback, since that one is ours.
"""

import os
import sys
import warnings

import typer

from platform_lib.cli import catalog, check, contracts, materialize, new, tables, test, ui
from platform_lib.cli.output import console as make_console
from platform_lib.errors import MeshError

app = typer.Typer(
    name="mesh",
    help="Operate the data mesh: materialise tables, list them, check contracts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("catalog")(catalog.catalog)
app.command("check")(check.check)
app.command("materialize")(materialize.materialize)
app.command("tables")(tables.tables)
app.command("test")(test.test)
app.command("ui")(ui.ui)
app.add_typer(contracts.app, name="contracts")
app.add_typer(new.app, name="new")

USER_ERROR_EXIT = 2


def main() -> None:
    """Console-script entry point."""
    warnings.filterwarnings("ignore")
    try:
        app()
    except MeshError as error:
        console = make_console(stderr=True)
        console.print(f"[bold red]error:[/] {error.message}", highlight=False, soft_wrap=True)
        console.print(f"  [bold]fix:[/] {error.fix}", highlight=False, soft_wrap=True)
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
