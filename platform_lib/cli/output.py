"""Terminal output shared by the commands."""

import sys
from collections.abc import Sequence

import typer
from rich.console import Console

from platform_lib.mesh.graph import problem_line
from platform_lib.mesh.violations import Violation

PIPE_WIDTH = 160
"""Width used when output is not a terminal (CI logs, pipes), so table names are not cut."""


def console(*, stderr: bool = False) -> Console:
    """A rich console; wide when writing to a pipe or a log rather than a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPE_WIDTH
    return Console(stderr=stderr, width=width, highlight=False)


def report_broken(problems: Sequence[Violation]) -> None:
    """Print each problem met loading the mesh on one line, to stderr (see ``problem_line``)."""
    for problem in problems:
        typer.echo(f"{problem_line(problem)} (fix: {problem.fix})", err=True)
