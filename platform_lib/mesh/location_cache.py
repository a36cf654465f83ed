"""Location facts kept between ``mesh check`` runs, so an unchanged location is not imported again.

Importing a location (Dagster definitions for every table) is most of a check's cost, so its
facts are cached (:mod:`platform_lib.cache`) under a key made of the location's source files and
whether the project's contracts load, and reused only while every contract the import asked for
is unchanged. A location whose package is not a folder of the project is always imported.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

from platform_lib.cache import ResultCache, code_fingerprint, digest
from platform_lib.conventions import TableKey
from platform_lib.mesh.location_facts import LocationFacts
from platform_lib.mesh.workspace import WORKSPACE_FILE, declared_at


@dataclass(frozen=True)
class ContractState:
    """What a location's import can depend on among the project's contracts."""

    registry_error: str
    """The error building the contract registry raises ("" when it builds)."""
    digests: dict[TableKey, str]
    """Each table's contract, by the SHA-256 of its file."""


@dataclass(frozen=True)
class _CachedFacts:
    facts: LocationFacts
    contracts: dict[TableKey, str | None]
    """The digest of each consulted table's contract at import time (None: it had none)."""


def cached_location_facts(
    project_root: Path,
    name: str,
    module_name: str,
    contracts: ContractState,
    cache: ResultCache | None,
) -> LocationFacts:
    """The facts of location ``name`` (``module_name``): cached, or from importing it.

    Args:
        project_root: The folder holding ``workspace.yaml``.
        name: The location's name in ``workspace.yaml``.
        module_name: The Python module defining its ``defs``.
        contracts: The state of the project's contracts; a cached result is reused only while
            every contract its import asked for is unchanged.
        cache: Where location facts are kept between runs (None: always import).
    """
    sources = _source_digest(project_root, module_name) if cache is not None else None
    declared = declared_at(project_root / WORKSPACE_FILE, module_name)
    key = None
    if cache is not None and sources is not None:
        key = digest(
            code_fingerprint(), name, module_name, declared, sources, contracts.registry_error
        )
        cached = cache.get(key)
        if isinstance(cached, _CachedFacts) and all(
            contracts.digests.get(table) == known for table, known in cached.contracts.items()
        ):
            return cached.facts
    from platform_lib.mesh.locations import import_location  # Dagster: only here

    first_import = module_name not in sys.modules
    facts = import_location(name, module_name, declared_at=declared).facts
    if cache is not None and key is not None and first_import:
        depends_on = {table: contracts.digests.get(table) for table in facts.consulted}
        cache.put(key, _CachedFacts(facts=facts, contracts=depends_on))
    return facts


def _source_digest(project_root: Path, module_name: str) -> str | None:
    """A digest of the files a location's import reads: its package and its parents' modules.

    None when the module's package is not a folder under the project (then it is not cached).
    """
    parts = module_name.split(".")[:-1]
    package = project_root.joinpath(*parts)
    if not parts or not package.is_dir():
        return None
    files = [
        path
        for path in package.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and not any(p.startswith(".") for p in path.relative_to(package).parts)
    ]
    for depth in range(1, len(parts)):
        files += sorted(project_root.joinpath(*parts[:depth]).glob("*.py"))
    chunks: list[str | bytes] = []
    for path in sorted(set(files)):
        chunks += [str(path.relative_to(project_root)), path.read_bytes()]
    return digest(*chunks)
