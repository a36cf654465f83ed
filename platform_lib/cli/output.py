"""Terminal output shared by the commands."""

import sys
from collections.abc import Sequence

import typer
from rich.console import Console

from platform_lib.mesh.violations import Violation

PIPE_WIDTH = 160
"""Width used when output is not a terminal (CI logs, pipes), so table names are not cut."""


def console(*, stderr: bool = False) -> Console:
    """A rich console; wide when writing to a pipe or a log rather than a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPE_WIDTH
    return Console(stderr=stderr, width=width, highlight=False)


def report_broken(problems: Sequence[Violation]) -> None:
    """Print each problem met loading the mesh on one line, to stderr: ``broken location NAME:
    what and where (fix: ...)`` for a location that did not load, else ``location NAME
    [rule]: ...`` (a table it defines is left out)."""
    for problem in problems:
        what = (
            f"broken location {problem.domain}"
            if problem.rule_id == "location-import"
            else f"location {problem.domain} [{problem.rule_id}]"
        )
        typer.echo(f"{what}: {problem.message} (fix: {problem.fix})", err=True)
