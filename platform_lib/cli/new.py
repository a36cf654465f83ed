"""``mesh new``: a new domain or table that runs, is tested and is checked from the start."""

from typing import Annotated

import typer

from platform_lib.cli.output import console
from platform_lib.conventions import Layer
from platform_lib.scaffold.domain import Plan, SourceFormat, plan_domain, plan_table, write_plan
from platform_lib.settings import resolve_settings

app = typer.Typer(help="Scaffold a new domain or table.", no_args_is_help=True)


@app.command("domain")
def domain(
    name: Annotated[str, typer.Argument(help="The domain's name (lower case, e.g. shipping).")],
    owner: Annotated[str, typer.Option(help="The owning team, as team:<name>.")],
    source: Annotated[
        SourceFormat, typer.Option(help="Format of the domain's landing files.")
    ] = SourceFormat.CSV,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be created; write nothing.")
    ] = False,
) -> None:
    """Create a working domain: code location, raw source, curated table, contracts, tests,
    a sample landing file and its workspace.yaml entry. Refuses to overwrite anything.

    Example: mesh new domain shipping --owner team:shipping
    """
    root = resolve_settings().project_root
    plan = plan_domain(root, name, owner, source)
    _apply(plan, dry_run, f"mesh materialize --domain {name}")


@app.command("table")
def table(
    domain_name: Annotated[str, typer.Argument(metavar="DOMAIN", help="An existing domain.")],
    name: Annotated[str, typer.Argument(metavar="TABLE", help="The new table's name.")],
    layer: Annotated[Layer, typer.Option(help="curated or product.")] = Layer.PRODUCT,
    reads: Annotated[
        str | None,
        typer.Option(
            help="The table it reads (domain/layer/table); default: the domain's "
            "first curated table."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be created; write nothing.")
    ] = False,
) -> None:
    """Add a table to a domain: an asset module and its contract stub.

    Example: mesh new table shipping daily_parcels --reads shipping/curated/events
    """
    root = resolve_settings().project_root
    source = reads or f"{domain_name}/curated/events"
    plan = plan_table(root, domain_name, name, layer, source)
    _apply(plan, dry_run, f"mesh materialize --select '{domain_name}/*'")


def _apply(plan: Plan, dry_run: bool, next_step: str) -> None:
    out = console()
    verb = "would create" if dry_run else "created"
    for planned in plan.files:
        out.print(f"  {verb} {planned.path}")
    if plan.workspace_entry is not None:
        out.print(f"  {'would add' if dry_run else 'added'} a code location to workspace.yaml")
    if dry_run:
        return
    write_plan(resolve_settings().project_root, plan)
    out.print(f"next: make test, mesh check, {next_step}")
