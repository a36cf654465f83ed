"""Run ids: every commit of a publish, and every row it quarantines, names the run that made it.

The id is recorded in the Delta commit's metadata (:data:`RUN_ID_METADATA`), which is how a
publish finds the quarantine rows of a run that never committed its table, and how a rollback
pairs a table version with its quarantine version. It is also matched in Delta predicates, so it
is restricted to letters, digits, ``-`` and ``_``.
"""

import re

RUN_ID_METADATA = "mesh.run_id"
"""The commit metadata key holding the run id."""
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def is_run_id(text: str) -> bool:
    """Whether ``text`` is a run id the platform records (letters, digits, '-', '_')."""
    return bool(_RUN_ID.match(text))


def check_run_id(run_id: str) -> None:
    """Refuse, with a ``ValueError``, a run id that is not letters, digits, '-' and '_'."""
    if not is_run_id(run_id):
        raise ValueError(f"run id {run_id!r} must be letters, digits, '-' and '_'")


def run_tag(run_id: str) -> dict[str, str]:
    """The commit metadata of a commit made by the run ``run_id``."""
    return {RUN_ID_METADATA: run_id}
