"""Terminal output shared by the commands."""

import sys

from rich.console import Console

PIPE_WIDTH = 160
"""Width used when output is not a terminal (CI logs, pipes), so table names are not cut."""


def console(*, stderr: bool = False) -> Console:
    """A rich console; wide when writing to a pipe or a log rather than a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPE_WIDTH
    return Console(stderr=stderr, width=width, highlight=False)
