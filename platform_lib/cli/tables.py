"""``mesh tables``: every table of the mesh, where it lives and what the lake holds."""

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from platform_lib.cli.output import console as make_console
from platform_lib.cli.output import report_broken
from platform_lib.mesh.graph import load_mesh
from platform_lib.mesh.listing import TableListing, list_tables
from platform_lib.settings import resolve_settings


def tables(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array (key, domain, layer, table, ...).")
    ] = False,
) -> None:
    """List every table of the mesh with its location, Delta version and row count.

    A code location that does not load, or a table whose contract cannot be used, is reported on
    one line (on stderr), its tables are not listed, and the command exits 1.

    Example: mesh tables --json
    """
    settings = resolve_settings()
    mesh = load_mesh(settings.project_root)
    listings = list_tables(mesh, settings)
    if as_json:
        typer.echo(json.dumps([listing.model_dump() for listing in listings], indent=2))
    else:
        make_console().print(_table(listings))
    report_broken(mesh.problems)
    if mesh.problems:
        raise typer.Exit(code=1)


def _table(listings: list[TableListing]) -> Table:
    table = Table(title="mesh tables", title_justify="left")
    for column in ("table", "owners", "version", "rows", "location"):
        table.add_column(
            column,
            justify="right" if column in {"version", "rows"} else "left",
            no_wrap=column == "table",
        )
    for listing in listings:
        table.add_row(
            listing.key,
            Text(", ".join(listing.owners)),
            "-" if listing.version is None else str(listing.version),
            "-" if listing.rows is None else f"{listing.rows:,}",
            Text(listing.uri),
        )
    return table
