"""``mesh status``: the health of every table, from the Dagster instance and the lake."""

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from platform_lib.cli.environment import dagster_instance
from platform_lib.cli.output import console as make_console
from platform_lib.cli.output import report_broken
from platform_lib.mesh.graph import load_mesh
from platform_lib.operations.status import Health, Materialisation, TableStatus, mesh_status
from platform_lib.settings import resolve_settings

UNHEALTHY_EXIT = 1
_COLOURS = {Health.GREEN: "green", Health.AMBER: "yellow", Health.RED: "bold red"}


def status(
    domain: Annotated[
        str | None, typer.Option("--domain", help="Only this domain's tables.")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print a JSON array, one object per table: key, domain, layer, owners, access, "
            "contract_file, last_materialisation {time, run_id, delta_version, description} or "
            "null, "
            "lake_version, last_run_failed, freshness (fresh|stale|never|no_sla), "
            "freshness_sla_seconds, age_seconds, checks [{name, passed, blocking, severity, "
            "row_level, message, run_id, time}], quarantine_rows, quarantine_by_rule "
            "{rule: rows}, health (green|amber|red), reason.",
        ),
    ] = False,
) -> None:
    """Show each table's last materialisation, freshness, failing checks and quarantine.

    Health: red when the last run failed, a blocking check failed or the table is older than
    its contract's freshness SLA; amber when it was never materialised or a non-blocking
    table-level check failed; green otherwise. Row-level rules do not colour a table: their
    breakers are quarantined, shown as rows by rule. Exit code 0 when no table is red, 1 when
    one is (usable in CI and scripts). A code location that does not load, or a table whose
    contract cannot be used, is reported on one line (on stderr) and exits 1 too; its tables
    are not listed.

    Example: mesh status --domain payments --json
    """
    settings = resolve_settings()
    mesh = load_mesh(settings.project_root)
    if domain:
        mesh.require_loaded(domains=[domain])
    statuses = mesh_status(mesh, dagster_instance(settings), domain=domain, settings=settings)
    broken = mesh.not_loaded_in(domains=[domain]) if domain else mesh.problems
    if as_json:
        typer.echo(json.dumps([s.model_dump(mode="json") for s in statuses], indent=2))
    else:
        make_console().print(_table(statuses))
    report_broken(broken)
    if broken or any(s.health is Health.RED for s in statuses):
        raise typer.Exit(UNHEALTHY_EXIT)


def _table(statuses: list[TableStatus]) -> Table:
    table = Table(title="mesh status", title_justify="left")
    for column in ("table", "health", "last materialised", "version", "freshness", "quarantine"):
        table.add_column(column, no_wrap=column == "table")
    table.add_column("owners")
    table.add_column("reason")
    for s in statuses:
        last = s.last_materialisation
        quarantine = ", ".join(f"{rule}: {rows}" for rule, rows in s.quarantine_by_rule.items())
        table.add_row(
            s.key,
            f"[{_COLOURS[s.health]}]{s.health.value}[/]",
            Text(_last(last)),
            "-" if s.lake_version is None else str(s.lake_version),
            s.freshness.value,
            f"{s.quarantine_rows} ({quarantine})" if s.quarantine_rows else "0",
            Text(", ".join(s.owners)),
            Text(s.reason),
        )
    return table


def _last(last: Materialisation | None) -> str:
    """When the table was last materialised, and the event's description (e.g. a rollback)."""
    if last is None:
        return "never"
    time = last.time.strftime("%Y-%m-%d %H:%M:%SZ")
    return f"{time}\n{last.description}" if last.description else time
