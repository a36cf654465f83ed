"""``mesh contracts infer``: draft a table's contract from what its Delta table holds."""

from pathlib import Path
from typing import Annotated

import typer

from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.scaffold.infer import (
    DEFAULT_MAX_VALID_VALUES,
    infer_contract,
    key_of_uri,
    require_table,
)
from platform_lib.settings import resolve_settings


def infer(
    uri: Annotated[
        str, typer.Argument(help="The Delta table: a local path or a URI.", show_default=False)
    ],
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="The table it is, domain/layer/table (default: from the uri, when it is "
            "<domain>/<layer>/<table> under the lake root).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the contract to this file (never over an existing one) instead of "
            "printing it.",
            show_default=False,
        ),
    ] = None,
    max_values: Annotated[
        int,
        typer.Option(
            "--max-values",
            min=0,
            help="A text column with at most this many distinct values gets a validValues rule "
            "listing them (0: none).",
        ),
    ] = DEFAULT_MAX_VALID_VALUES,
    server_path: Annotated[
        str | None,
        typer.Option(
            "--server-path",
            help="The path of the contract's local Delta server entry (default: "
            "domain/layer/table, relative to the lake root); an absolute path lets "
            "`mesh test <file>` find a table outside the project.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Draft an ODCS contract from an existing Delta table's schema and values, to be reviewed.

    One pass over the table gives each column's type, `required` (no nulls), `unique` (no
    repeated value), the validValues of text columns with few values, and what was observed
    (nulls, distinct values, min and max) in its description. The table is private and must not
    be empty; widen the access and add the purpose, SLA and rules you mean to promise.

    Example: mesh contracts infer .lake/fraud/product/account_risk --out account_risk.odcs.yaml
    """
    if out is not None and out.exists():
        raise _exists(out)
    require_table(uri)
    table = TableKey.parse(key) if key else key_of_uri(uri, resolve_settings())
    text = infer_contract(uri, table, max_valid_values=max_values, server_path=server_path)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with out.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise _exists(out) from None
    typer.echo(
        f"wrote the draft contract of {table} to {out}: review it, then `mesh contracts lint`"
    )


def _exists(out: Path) -> MeshError:
    return MeshError(
        f"{out} already exists; infer does not overwrite a contract",
        fix="pass another --out file, or delete that one first",
    )
