"""``mesh replay``: recompute a table from its inputs after a contract or code fix."""

import datetime as dt
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from platform_lib.cli.environment import dagster_instance
from platform_lib.cli.output import console as make_console
from platform_lib.lake.partitions import parse_day
from platform_lib.mesh.graph import load_mesh
from platform_lib.operations.replay import ReplayReport, replay_table
from platform_lib.settings import resolve_settings

FAILED_EXIT = 1


def replay(
    table: Annotated[str, typer.Argument(help="A curated or product table: domain/layer/table.")],
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Daily tables: replay every day from this one (YYYY-MM-DD) to the last day the "
            "table holds. Default: every day it holds.",
        ),
    ] = None,
    downstream: Annotated[
        bool,
        typer.Option(
            "--downstream", help="Also re-materialise every table reading it, in any domain."
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object: table, days [YYYY-MM-DD], replay_id, before and after "
            "{version, rows_published, rows_quarantined, quarantined_by_rule {rule: rows}}, runs "
            "[{key, domain, status (materialized|blocked|failed|skipped), run_id, rows, version, "
            "quarantined, message}], run_ids, stale_consumers, rematerialized, succeeded.",
        ),
    ] = False,
) -> None:
    """Recompute a table from its inputs through Dagster (runs tagged mesh/replay=true).

    A table written whole is recomputed in one run: rows that now pass are published once, rows
    that still fail are its new quarantine. A daily table is replayed one run per day. An append
    table is refused (recomputing would publish its rows twice). Tables reading it are listed as
    stale, or re-materialised with --downstream. Exit code 0 when every run materialised, 1
    otherwise.

    Example: mesh replay payments/curated/transactions --downstream --json
    """
    settings = resolve_settings()
    first_day: dt.date | None = parse_day(since, "--since") if since is not None else None
    report = replay_table(
        load_mesh(settings.project_root).require_loaded(),
        table,
        dagster_instance(settings),
        since=first_day,
        downstream=downstream,
        settings=settings,
    )
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        _print(report)
    if not report.succeeded:
        raise typer.Exit(FAILED_EXIT)


def _print(report: ReplayReport) -> None:
    console = make_console()
    span = (
        f" ({len(report.days)} day(s): {report.days[0]}..{report.days[-1]})" if report.days else ""
    )
    console.print(f"replayed {report.table}{span}", soft_wrap=True)
    counts = Table(title="before -> after", title_justify="left")
    counts.add_column("")
    counts.add_column("before", justify="right")
    counts.add_column("after", justify="right")
    counts.add_row("Delta version", str(report.before.version), str(report.after.version))
    counts.add_row(
        "rows published", f"{report.before.rows_published:,}", f"{report.after.rows_published:,}"
    )
    counts.add_row(
        "rows quarantined",
        f"{report.before.rows_quarantined:,}",
        f"{report.after.rows_quarantined:,}",
    )
    for rule in sorted({*report.before.quarantined_by_rule, *report.after.quarantined_by_rule}):
        counts.add_row(
            f"  {rule}",
            f"{report.before.quarantined_by_rule.get(rule, 0):,}",
            f"{report.after.quarantined_by_rule.get(rule, 0):,}",
        )
    console.print(counts)
    for run in report.runs:
        console.print(
            f"{run.key}: {run.status.value} {escape(run.message)}".rstrip(), soft_wrap=True
        )
    console.print(f"runs: {', '.join(report.run_ids) or 'none'}", soft_wrap=True)
    if report.stale_consumers:
        console.print(
            f"stale consumers (re-run with --downstream): {', '.join(report.stale_consumers)}",
            soft_wrap=True,
        )
