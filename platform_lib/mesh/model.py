"""The mesh as governance sees it: every location, table, contract and consumer edge.

Loaded in one process without a webserver. Unlike the runtime loader it never stops at the first
problem: a location that fails to import, a key that breaks the layout or a key defined twice
becomes a violation, and everything else is still checked.

Importing a location (Dagster definitions for every table) is most of a check's cost, so its
facts are cached (:mod:`platform_lib.cache`) under a key made of the location's source files and
whether the project's contracts load, and reused only while every contract the import asked for
is unchanged. A location whose package is not a folder of the project is always imported.
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path

from platform_lib.cache import ResultCache, code_fingerprint, digest
from platform_lib.conventions import TableKey
from platform_lib.mesh.location_facts import DeclaredRead, LocationFacts, MeshTable
from platform_lib.mesh.violations import Level, Violation
from platform_lib.mesh.workspace import read_workspace_modules

__all__ = ["ContractState", "DeclaredRead", "MeshModel", "MeshTable", "load_model"]


@dataclass(frozen=True)
class ContractState:
    """What a location's import can depend on among the project's contracts."""

    registry_error: str
    """The error building the contract registry raises ("" when it builds)."""
    digests: dict[TableKey, str]
    """Each table's contract, by the SHA-256 of its file."""


@dataclass
class MeshModel:
    """What the workspace defines, plus the problems met while loading it."""

    locations: list[str] = field(default_factory=list)
    tables: dict[TableKey, MeshTable] = field(default_factory=dict)
    problems: list[Violation] = field(default_factory=list)


@dataclass(frozen=True)
class _CachedFacts:
    facts: LocationFacts
    contracts: dict[TableKey, str | None]
    """The digest of each consulted table's contract at import time (None: it had none)."""


def load_model(
    project_root: Path,
    contracts: ContractState | None = None,
    *,
    cache: ResultCache | None = None,
) -> MeshModel:
    """Import every code location of ``workspace.yaml``.

    Args:
        project_root: The folder holding ``workspace.yaml``.
        contracts: The state of the project's contracts; with ``cache``, a location whose files
            and consulted contracts are unchanged is not imported again.
        cache: Where location facts are kept between runs.
    """
    model = MeshModel()
    for name, module_name in read_workspace_modules(project_root / "workspace.yaml"):
        model.locations.append(name)
        facts = _location_facts(project_root, name, module_name, contracts, cache)
        _merge(model, name, facts)
    return model


def _location_facts(
    project_root: Path,
    name: str,
    module_name: str,
    contracts: ContractState | None,
    cache: ResultCache | None,
) -> LocationFacts:
    sources = _source_digest(project_root, module_name) if cache and contracts else None
    key = None
    if cache is not None and contracts is not None and sources is not None:
        key = digest(code_fingerprint(), name, module_name, sources, contracts.registry_error)
        cached = cache.get(key)
        if isinstance(cached, _CachedFacts) and all(
            contracts.digests.get(table) == known for table, known in cached.contracts.items()
        ):
            return cached.facts
    from platform_lib.mesh.location_import import import_location  # Dagster: only here

    first_import = module_name not in sys.modules
    facts = import_location(name, module_name)
    if cache is not None and contracts is not None and key is not None and first_import:
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


def _merge(model: MeshModel, location: str, facts: LocationFacts) -> None:
    model.problems.extend(facts.problems)
    for asset_key in facts.foreign_keys:
        model.problems.append(_layout_problem(location, asset_key))
    for table in facts.tables:
        key = table.key
        if key in model.tables:
            model.problems.append(
                Violation(
                    rule_id="key-ownership",
                    level=Level.ERROR,
                    domain=location,
                    subject=str(key),
                    message=f"{key} is defined by both {model.tables[key].location!r} "
                    f"and {location!r}",
                    fix="a table belongs to one domain: remove it from the other location",
                )
            )
        elif key.domain != location:
            model.problems.append(_layout_problem(location, str(key)))
        else:
            model.tables[key] = table


def _layout_problem(location: str, asset_key: str) -> Violation:
    return Violation(
        rule_id="key-layout",
        level=Level.ERROR,
        domain=location,
        subject=asset_key,
        message=f"asset key {asset_key} is not [{location}, raw|curated|product, table]",
        fix="declare tables through platform_lib (@table, CsvSource), which names them",
    )
