"""``mesh materialize``: run tables across domains, producers before consumers."""

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from platform_lib.cli.environment import dagster_instance, ensure_writable_lake
from platform_lib.cli.output import console as make_console
from platform_lib.cli.output import report_broken
from platform_lib.errors import MeshError
from platform_lib.lake.partitions import days_in
from platform_lib.mesh.graph import load_mesh
from platform_lib.mesh.run import (
    AssetRun,
    AssetStatus,
    MeshRunReport,
    materialize_mesh,
)
from platform_lib.settings import resolve_settings

STATUS_STYLE = {
    AssetStatus.MATERIALIZED: "green",
    AssetStatus.BLOCKED: "red",
    AssetStatus.FAILED: "red",
    AssetStatus.SKIPPED: "yellow",
}


def materialize(
    all_tables: Annotated[
        bool, typer.Option("--all", help="Materialise every table of every domain.")
    ] = False,
    domain: Annotated[
        list[str] | None,
        typer.Option("--domain", "-d", help="Materialise this domain's tables (repeatable)."),
    ] = None,
    select: Annotated[
        str | None,
        typer.Option(
            "--select",
            "-s",
            help="Comma-separated table names or globs, e.g. 'payments/*,finance/product/*'.",
        ),
    ] = None,
    partition: Annotated[
        str | None,
        typer.Option(
            "--partition",
            "-p",
            help="Write this day (YYYY-MM-DD) of the selected daily-partitioned tables.",
        ),
    ] = None,
    partition_range: Annotated[
        str | None,
        typer.Option(
            "--partition-range",
            help="Write every day FIRST..LAST (both included) of the daily-partitioned tables.",
        ),
    ] = None,
) -> None:
    """Materialise tables in dependency order across domains, in this process.

    Runs are recorded in the Dagster instance at DAGSTER_HOME, so the UI shows them. When a table
    fails or a blocking check stops it, the tables that read it are skipped and reported.
    Exits 1 when any table was not materialised.

    A code location that does not load stops only what names it: --all runs every other domain,
    reports it on one line and exits 1; --domain and --select stop on it only when they name it.
    A table whose contract (or the contract of a table it reads) is broken is not run: it is
    reported on one line and the command exits 1, or stops when it is all that was selected.

    A daily-partitioned table is written one day per run: name the days with --partition or
    --partition-range. Without either, --all and --domain leave those tables out (and say so).

    Example: mesh materialize --domain payments
    Example: mesh materialize -s 'sales/curated/orders' --partition-range 2026-03-01..2026-03-07
    """
    if not (all_tables or domain or select):
        raise MeshError(
            "nothing selected to materialise",
            fix="pass --all, --domain NAME or --select PATTERNS",
        )
    settings = resolve_settings()
    ensure_writable_lake(settings)
    patterns = (select or "").split(",") if select else []
    mesh = load_mesh(settings.project_root)
    if domain or patterns or not mesh.tables:
        mesh.require_loaded(domains=domain or (), patterns=patterns)
    broken = (
        mesh.problems if all_tables else mesh.not_loaded_in(domains=domain or (), patterns=patterns)
    )
    selected = mesh.select(domains=domain or (), patterns=patterns)
    if partition and partition_range:
        raise MeshError(
            "--partition and --partition-range both given",
            fix="pass one day with --partition, or a range with --partition-range",
        )
    requested = partition or partition_range
    days = days_in(requested) if requested else []
    console = make_console()
    daily = [key for key in selected if mesh.tables[key].partitioned]
    if daily and not days:
        if select and not (all_tables or domain):
            raise MeshError(
                f"{', '.join(str(k) for k in daily)} is written one day at a time",
                fix="add --partition YYYY-MM-DD or --partition-range FIRST..LAST",
            )
        console.print(
            f"[yellow]left out[/] (daily-partitioned; add --partition DAY): "
            f"{', '.join(str(k) for k in daily)}",
            highlight=False,
        )
        selected = [key for key in selected if key not in daily]
    instance = dagster_instance(settings)
    console.print(
        f"materialising {len(selected)} table(s) into [bold]{escape(settings.lake_root)}[/]",
        highlight=False,
    )
    report = materialize_mesh(
        mesh, selected, instance, on_result=lambda r: _progress(console, r), partitions=days
    )
    console.print(summary_table(report))
    report_broken(broken)
    if not report.succeeded or broken:
        raise typer.Exit(code=1)


def _progress(console: Console, run: AssetRun) -> None:
    style = STATUS_STYLE[run.status]
    detail = f"{run.rows:,} rows" if run.rows is not None else run.message
    console.print(
        f"  [{style}]{run.status.value:>12}[/]  {run.key}  {escape(detail)}", highlight=False
    )


def summary_table(report: MeshRunReport) -> Table:
    """The run's outcome per table, as a rich table."""
    table = Table(title="mesh materialize", title_justify="left")
    for column in ("table", "status", "rows", "quarantined", "version", "note"):
        justify = "right" if column in {"rows", "quarantined", "version"} else "left"
        table.add_column(column, justify=justify, no_wrap=column == "table")  # type: ignore[arg-type]
    for run in report.assets:
        table.add_row(
            run.key,
            f"[{STATUS_STYLE[run.status]}]{run.status.value}[/]",
            _number(run.rows),
            _number(run.quarantined),
            _number(run.version),
            Text(run.message),
        )
    return table


def _number(value: int | None) -> str:
    return "" if value is None else f"{value:,}"
