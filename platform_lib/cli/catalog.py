"""``mesh catalog``: a static HTML catalog of the mesh, browsable from the file system."""

from pathlib import Path
from typing import Annotated

import typer

from platform_lib.catalog import build_catalog, write_catalog
from platform_lib.cli.output import console as make_console
from platform_lib.cli.output import report_broken
from platform_lib.errors import MeshError


def catalog(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder to write index.html and tables/<domain>__<layer>__<table>.html into.",
            file_okay=False,
        ),
    ],
) -> None:
    """Write a static HTML catalog of every domain and table of the mesh.

    Each table gets a page with its contract (owners, access, columns, classifications,
    freshness SLA), its consumers and producers, the lake's row count and Delta version and,
    when a Dagster instance exists at DAGSTER_HOME, its latest materialisation and checks.
    The pages need no server: open index.html in a browser. A code location that does not load,
    or a table whose contract cannot be used, is listed on the index page and reported on one
    line; the catalog of the others is written and the command exits 1.

    Example: mesh catalog --out build/catalog
    """
    model = build_catalog()
    try:
        pages = write_catalog(model, out)
    except OSError as error:
        raise MeshError(
            f"cannot write the catalog to {out} ({error.strerror})",
            fix="pass --out a folder you can write",
        ) from error
    console = make_console()
    console.print(str(pages[0].resolve()), soft_wrap=True)
    console.print(f"{len(pages)} pages ({len(pages) - 1} tables)", soft_wrap=True)
    report_broken(model.problems)
    if model.problems:
        raise typer.Exit(code=1)
