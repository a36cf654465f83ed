"""How the tests' child processes end: flushed, then ``os._exit``.

Native thread pools (Arrow, DuckDB, Delta) occasionally abort a process while Python tears down
after the work is done ("terminate called without an active exception", exit -6); the ``mesh``
command ends the same way for the same reason (``platform_lib.cli.app``). A child's work is
committed and reported by then, so skipping the teardown loses nothing.
"""

import os
import sys
from typing import NoReturn


def exit_now(code: int = 0) -> NoReturn:
    """Flush the standard streams and end the process with ``code`` at once."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
