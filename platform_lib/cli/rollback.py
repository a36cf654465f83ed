"""``mesh rollback``: restore a table's earlier Delta version (and its quarantine's)."""

from typing import Annotated

import typer

from platform_lib.cli.environment import dagster_instance
from platform_lib.cli.output import console as make_console
from platform_lib.mesh.graph import load_mesh
from platform_lib.operations.rollback import RollbackRefusal, rollback_table
from platform_lib.settings import resolve_settings

REFUSED_EXIT = 1
"""The exit code of a rollback refused because the version's schema differs from the contract."""


def rollback(
    table: Annotated[str, typer.Argument(help="The table: domain/layer/table.")],
    to_version: Annotated[
        int, typer.Option("--to-version", help="The Delta version to restore (not the current).")
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why; recorded in the Dagster event and the commit.")
    ] = "",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Restore the version even when its schema differs from the current contract "
            "(recorded in the restore commit and the Dagster event).",
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object: table, restored_from, previous_version, new_version, "
            "rows, reason, run_id, quarantine {restored_from, version, rows, note}, forced, "
            "schema_changes [{column, at_version, expected}]; a refusal prints table, "
            "to_version, current_version, schema_changes.",
        ),
    ] = False,
) -> None:
    """Restore a table's content as of an earlier Delta version, as a new version.

    The quarantine is restored to the version committed with it, and a materialisation event
    ("rolled back to version N: REASON") is recorded in the Dagster instance. A version whose
    schema differs from the current contract is refused (exit 1, nothing committed) unless
    --force is given.

    Example: mesh rollback payments/curated/transactions --to-version 3 --reason "bad feed"
    """
    settings = resolve_settings()
    report = rollback_table(
        load_mesh(settings.project_root).require_loaded(),
        table,
        to_version,
        dagster_instance(settings),
        reason=reason,
        force=force,
        settings=settings,
    )
    if isinstance(report, RollbackRefusal):
        _print_refusal(report, as_json=as_json)
        raise typer.Exit(REFUSED_EXIT)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    make_console().print(
        f"{report.table}: version {report.new_version} restores version {report.restored_from} "
        f"({report.rows:,} rows; was version {report.previous_version}); quarantine: "
        f"{report.quarantine.note}",
        soft_wrap=True,
    )
    if report.forced:
        make_console().print(
            "forced across a schema change: "
            + "; ".join(change.render() for change in report.schema_changes),
            markup=False,
            soft_wrap=True,
        )


def _print_refusal(refusal: RollbackRefusal, *, as_json: bool) -> None:
    """The refusal as JSON on stdout, or as the error line and its fix on stderr."""
    if as_json:
        typer.echo(refusal.model_dump_json(indent=2))
        return
    console = make_console(stderr=True)
    console.print(f"error: {refusal.message}", markup=False, soft_wrap=True)
    console.print(f"  fix: {refusal.fix}", markup=False, soft_wrap=True)
