"""``mesh rollback``: restore a table's earlier Delta version (and its quarantine's)."""

from typing import Annotated

import typer

from platform_lib.cli.environment import dagster_instance
from platform_lib.cli.output import console as make_console
from platform_lib.mesh.graph import load_mesh
from platform_lib.operations.rollback import rollback_table
from platform_lib.settings import resolve_settings


def rollback(
    table: Annotated[str, typer.Argument(help="The table: domain/layer/table.")],
    to_version: Annotated[
        int, typer.Option("--to-version", help="The Delta version to restore (not the current).")
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why; recorded in the Dagster event and the commit.")
    ] = "",
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object: table, restored_from, previous_version, new_version, "
            "rows, reason, run_id, quarantine {restored_from, version, rows, note}.",
        ),
    ] = False,
) -> None:
    """Restore a table's content as of an earlier Delta version, as a new version.

    The quarantine is restored to the version committed with it, and a materialisation event
    ("rolled back to version N: REASON") is recorded in the Dagster instance.

    Example: mesh rollback payments/curated/transactions --to-version 3 --reason "bad feed"
    """
    settings = resolve_settings()
    report = rollback_table(
        load_mesh(settings.project_root).require_loaded(),
        table,
        to_version,
        dagster_instance(settings),
        reason=reason,
        settings=settings,
    )
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    make_console().print(
        f"{report.table}: version {report.new_version} restores version {report.restored_from} "
        f"({report.rows:,} rows; was version {report.previous_version}); quarantine: "
        f"{report.quarantine.note}",
        soft_wrap=True,
    )
