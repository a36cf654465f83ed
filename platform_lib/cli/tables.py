"""``mesh tables``: every table of the mesh, where it lives and what the lake holds."""

import json
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict
from rich.table import Table

from platform_lib.cli.output import console as make_console
from platform_lib.conventions import Layer, TableKey
from platform_lib.lake.reader import table_state
from platform_lib.orchestration.mesh_graph import load_mesh
from platform_lib.settings import MeshSettings, resolve_settings


class TableListing(BaseModel):
    """One line of ``mesh tables``."""

    model_config = ConfigDict(frozen=True)

    key: str
    domain: str
    layer: str
    table: str
    uri: str
    owners: list[str]
    version: int | None
    rows: int | None
    quarantine_of: str | None = None
    """For a quarantine table, the table whose rejected rows it keeps."""


def list_tables() -> list[TableListing]:
    """Every table of the mesh (quarantines included) with its version and row count."""
    settings = resolve_settings()
    graph = load_mesh(settings.project_root)
    listings = []
    for key, asset in sorted(graph.assets.items(), key=lambda item: str(item[0])):
        listings.append(_listing(key, asset.owners, settings))
        if key.layer is not Layer.RAW:
            listings.append(_listing(key.quarantine, asset.owners, settings, quarantine_of=key))
    return listings


def _listing(
    key: TableKey,
    owners: tuple[str, ...],
    settings: MeshSettings,
    quarantine_of: TableKey | None = None,
) -> TableListing:
    uri = key.uri(settings)
    state = table_state(uri)
    return TableListing(
        key=str(key),
        domain=key.domain,
        layer=key.layer.value,
        table=key.table,
        uri=uri,
        owners=list(owners),
        version=state.version if state else None,
        rows=state.rows if state else None,
        quarantine_of=str(quarantine_of) if quarantine_of else None,
    )


def tables(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array (key, domain, layer, table, ...).")
    ] = False,
) -> None:
    """List every table of the mesh with its location, Delta version and row count.

    Example: mesh tables --json
    """
    listings = list_tables()
    if as_json:
        typer.echo(json.dumps([listing.model_dump() for listing in listings], indent=2))
        return
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
            ", ".join(listing.owners),
            "-" if listing.version is None else str(listing.version),
            "-" if listing.rows is None else f"{listing.rows:,}",
            listing.uri,
        )
    make_console().print(table)
