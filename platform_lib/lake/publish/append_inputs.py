"""Idempotent appends: an append table adds nothing for inputs it already appended.

A run of an append table records what it consumed, the Delta version of every table it read
(:class:`InputVersions`), in the commit metadata of its append: a fingerprint
(:data:`APPEND_INPUTS_METADATA`) and the versions as text (:data:`INPUT_VERSIONS_METADATA`).
Before appending, a publish looks for that fingerprint among the commits still in effect
(:func:`appended_at`); when one holds it, the run commits nothing, neither rows nor quarantine.

Still in effect: the history is read from the newest commit back, a restore (``mesh rollback``)
continues from the version it restored, and a whole-table overwrite ends the search (what was
appended before it is gone). So a run after a rollback to before an append appends again.

Two runs over the same inputs at the same time: the append also records the fingerprint as a
Delta application transaction and commits on the version that was checked
(:class:`~platform_lib.lake.committer.AppTransaction`), so when both found nothing, the second
to commit fails instead of appending twice, and the publish reports the first one's append.
Its quarantine commit (made before the table's) added no row twice (quarantine rows are inserted
by their row hash), but the rows it did add carry its run id: so it commits once more to the
quarantine, tagged with the winner's run id, or the next publish would take its rows for those
of an interrupted run and remove them (:func:`~platform_lib.lake.publish.quarantine.reconcile`).

Tables fed from files are the raw tables: their ingestion adds a file (name and content) once
(:mod:`~platform_lib.lake.raw_ingest`). A table that reads no table records no fingerprint, and
each of its runs appends.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deltalake import DeltaTable

from platform_lib.lake.committer import AppTransaction
from platform_lib.lake.publish.run_ids import RUN_ID_METADATA
from platform_lib.lake.reader import table_exists

APPEND_INPUTS_METADATA = "mesh.append_inputs"
"""Commit metadata of an append: the fingerprint of the input versions it consumed."""
INPUT_VERSIONS_METADATA = "mesh.input_versions"
"""Commit metadata of an append: the input versions it consumed, as ``table@version, ...``."""
APP_ID_PREFIX = "mesh.append."
"""The Delta application transaction id of an append is this prefix and its fingerprint."""


@dataclass(frozen=True)
class InputVersions:
    """The Delta version of every table a run read: what its append consumed."""

    versions: tuple[tuple[str, int], ...]
    """``(table, version)`` pairs, sorted by table."""

    @classmethod
    def of(cls, versions: Mapping[str, int]) -> "InputVersions":
        """The input versions of ``versions`` (table key -> Delta version read)."""
        return cls(tuple(sorted(versions.items())))

    @property
    def fingerprint(self) -> str:
        """A digest of the tables and versions (equal inputs, equal fingerprints)."""
        return hashlib.sha256(json.dumps(self.versions).encode()).hexdigest()

    @property
    def app_id(self) -> str:
        """The Delta application transaction id recorded with the append."""
        return APP_ID_PREFIX + self.fingerprint

    def describe(self) -> str:
        """``table@version, ...``."""
        return ", ".join(f"{table}@{version}" for table, version in self.versions)

    def commit_metadata(self) -> dict[str, str]:
        """The commit metadata recording them."""
        return {APPEND_INPUTS_METADATA: self.fingerprint, INPUT_VERSIONS_METADATA: self.describe()}


@dataclass(frozen=True)
class AlreadyAppended:
    """An append that committed nothing: the version ``version`` appended the same inputs."""

    version: int
    run_id: str | None
    """The run that appended them (its commit's ``mesh.run_id``)."""


@dataclass(frozen=True)
class AppendGuard:
    """What an append found before committing: whether its inputs were appended already, and
    the version it checked, which its commit is made on."""

    inputs: InputVersions
    read_version: int
    """The table version checked (-1: no table yet)."""
    already: AlreadyAppended | None
    """The append of the same inputs still in effect, if any."""

    @classmethod
    def check(cls, uri: str, inputs: InputVersions) -> "AppendGuard":
        """Look for an append of ``inputs`` in the table at ``uri``."""
        if not table_exists(uri):
            return cls(inputs=inputs, read_version=-1, already=None)
        table = DeltaTable(uri)
        return cls(inputs=inputs, read_version=table.version(), already=appended_at(table, inputs))

    @property
    def transaction(self) -> AppTransaction:
        """The append's commit: on the version checked, failing if the same inputs were
        appended concurrently since."""
        return AppTransaction(app_id=self.inputs.app_id, read_version=self.read_version)

    def appended_since(self, uri: str) -> AlreadyAppended | None:
        """After the append lost a race: the version that appended the same inputs meanwhile,
        if one did."""
        return appended_at(DeltaTable(uri), self.inputs) if table_exists(uri) else None


def appended_at(table: DeltaTable, inputs: InputVersions) -> AlreadyAppended | None:
    """The append of ``table`` that consumed ``inputs``, if its rows are still in effect (see the
    module docstring); None otherwise."""
    fingerprint = inputs.fingerprint
    restored_to: int | None = None
    for entry in sorted(table.history(), key=_version, reverse=True):
        version = _version(entry)
        if restored_to is not None and version > restored_to:
            continue
        if entry.get(APPEND_INPUTS_METADATA) == fingerprint:
            run_id = entry.get(RUN_ID_METADATA)
            return AlreadyAppended(version, str(run_id) if run_id is not None else None)
        parameters = entry.get("operationParameters") or {}
        if entry.get("operation") == "RESTORE":
            target = parameters.get("version")
            if target is None or not str(target).isdigit():
                return None  # restored to a moment: what it holds is not known here
            restored_to = int(target)
        elif parameters.get("mode") == "Overwrite" and "predicate" not in parameters:
            return None
    return None


def _version(entry: dict[str, Any]) -> int:
    return int(entry["version"])
