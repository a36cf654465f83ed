"""``mesh check``: conventions, key ownership, consumers and breaking changes, for CI."""

import os
from pathlib import Path
from typing import Annotated

import typer

from platform_lib.cache import CACHE_SWITCH
from platform_lib.cli.output import console
from platform_lib.governance.check import check_mesh
from platform_lib.governance.report import print_report, report_json, report_junit
from platform_lib.governance.rules import RULES
from platform_lib.settings import resolve_settings

_RULE_HELP = "\n\n".join(f"{rule}: {why}" for rule, why in RULES.items())


def check(
    base: Annotated[
        str | None,
        typer.Option(
            "--base", help="Compare every contract with its version at this git revision."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write a JUnit XML report to this file.")
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Import every location and parse every contract again (ignore .mesh/cache).",
        ),
    ] = False,
) -> None:
    """Check the whole mesh in one process: every contract, every location, every consumer.

    Exits 0 only when no error is left (warnings and exempted violations do not fail).
    Exempt one subject from one rule in governance/exemptions.yaml, with a reason.
    Results of unchanged contracts and locations are reused from .mesh/cache.

    Example: mesh check --base origin/main --junit reports/mesh-check.xml
    """
    if no_cache:
        os.environ[CACHE_SWITCH] = "off"
    report = check_mesh(resolve_settings().project_root, base=base, use_cache=not no_cache)
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(report_junit(report))
    if as_json:
        typer.echo(report_json(report))
    else:
        print_report(report, console())
    if not report.passed:
        raise typer.Exit(code=1)


check.__doc__ = f"{check.__doc__}\n\nRules:\n\n{_RULE_HELP}"
