"""``mesh quarantine``: the rows a table rejected, by rule, with their original lines."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from platform_lib.cli.output import console as make_console
from platform_lib.mesh.graph import load_mesh
from platform_lib.operations.quarantine import (
    DEFAULT_SAMPLE_ROWS,
    QuarantineReport,
    export_quarantine,
    quarantine_report,
)
from platform_lib.settings import resolve_settings

app = typer.Typer(
    name="quarantine",
    help="Inspect and export the rows a table quarantined (its <table>__quarantine).",
    no_args_is_help=True,
)

TableArgument = Annotated[
    str, typer.Argument(help="The table as `mesh tables` prints it: domain/layer/table.")
]
RuleOption = Annotated[
    str | None, typer.Option("--rule", help="Only rows violating this rule (its id).")
]


@app.command("show")
def show(
    table: TableArgument,
    rule: RuleOption = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="How many sample rows to show.")
    ] = DEFAULT_SAMPLE_ROWS,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object: table, quarantine_table, rule, total_rows, by_rule "
            "{rule: rows}, has_lineage, samples [{violated_rules, run_id, row_hash, "
            "partition_key, source_file, line_number, raw_record, values {column: value}}].",
        ),
    ] = False,
) -> None:
    """Show a table's quarantined rows by rule, and sample rows with their original lines.

    Example: mesh quarantine show payments/curated/transactions --rule amount_range --limit 5
    """
    settings = resolve_settings()
    report = quarantine_report(
        load_mesh(settings.project_root).require_loaded(patterns=[table]),
        table,
        rule=rule,
        limit=limit,
        settings=settings,
    )
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    _print(report)


@app.command("export")
def export(
    table: TableArgument,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="File to write: .csv, .jsonl (or .ndjson) or .parquet.", dir_okay=False
        ),
    ],
    rule: RuleOption = None,
) -> None:
    """Write a table's quarantined rows (every column, lineage included) to a file.

    The format follows the extension; in CSV, violated_rules is a JSON array.

    Example: mesh quarantine export payments/curated/transactions --out rejects.csv
    """
    settings = resolve_settings()
    written = export_quarantine(
        load_mesh(settings.project_root).require_loaded(patterns=[table]),
        table,
        out,
        rule=rule,
        settings=settings,
    )
    make_console().print(
        f"{written.rows} row(s) of {written.table}'s quarantine written to {written.path}",
        soft_wrap=True,
    )


def _print(report: QuarantineReport) -> None:
    console = make_console()
    console.print(f"{report.quarantine_table}: {report.total_rows} row(s)", soft_wrap=True)
    counts = Table(title="rows by rule", title_justify="left")
    counts.add_column("rule")
    counts.add_column("rows", justify="right")
    for name, rows in report.by_rule.items():
        counts.add_row(Text(name), f"{rows:,}")
    console.print(counts)
    samples = Table(
        title=f"sample rows{f' breaking {report.rule}' if report.rule else ''}",
        title_justify="left",
    )
    samples.add_column("rules")
    samples.add_column("source" if report.has_lineage else "run")
    samples.add_column("original line" if report.has_lineage else "values")
    for row in report.samples:
        if report.has_lineage:
            where = f"{row.source_file}:{row.line_number}"
            what = row.raw_record or ""
        else:
            where = row.run_id or ""
            what = json.dumps(row.values, ensure_ascii=False)
        samples.add_row(*(Text(cell) for cell in (", ".join(row.violated_rules), where, what)))
    console.print(samples)
