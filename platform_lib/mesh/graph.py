"""The whole mesh as one model: every code location, every table, who reads whom, and the
problems met while loading them.

Two loaders give the same model. :func:`load_mesh` imports every location and keeps its Dagster
Definitions, which the runtime commands run. :func:`load_mesh_facts` keeps only the tables' facts,
reused from :mod:`platform_lib.mesh.location_cache` for a location whose files and contracts did
not change, so ``mesh check`` imports neither Dagster nor the domains on a cache hit.

Neither stops at the first problem: a location that fails to import, a table whose contract (or
a contract it reads) is broken, a key that breaks the ``[domain, layer, table]`` layout or a key
defined twice becomes a violation (``location-import``, ``table-load``, ``key-layout``,
``key-ownership``) and the rest is still loaded. What a problem blocks is decided in one place,
:meth:`Mesh.require_loaded`: a command acting on some domains or tables stops only on a problem of
a location it names, or when every table it names did not load (it reports the others); a command
over the whole mesh (``mesh materialize --all``, ``mesh status``, ``mesh tables``, ``mesh
catalog``) works on what loaded and reports each problem (:attr:`Mesh.problems`) on one line.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING

from platform_lib.cache import ResultCache
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.mesh.location_cache import ContractState, cached_location_facts
from platform_lib.mesh.location_facts import TABLE_LOAD_RULE, LocationFacts, MeshTable
from platform_lib.mesh.violations import Level, Violation
from platform_lib.mesh.workspace import WORKSPACE_FILE, declared_at, read_workspace_modules

if TYPE_CHECKING:
    from dagster import Definitions


@dataclass(frozen=True)
class CodeLocation:
    """One domain's code location as ``workspace.yaml`` declares it."""

    name: str
    module: str
    defs: "Definitions | None" = None
    """Its Definitions; None when it failed to import (``problem``) or the mesh holds facts only."""
    problem: Violation | None = None
    """The ``location-import`` error that stopped it, if one did."""


@dataclass(frozen=True)
class Mesh:
    """Every code location and every table they define, keyed by table.

    Example:
        >>> mesh = load_mesh(project_root).require_loaded()
        >>> mesh.select(domains=["payments"])
    """

    locations: tuple[CodeLocation, ...]
    tables: dict[TableKey, MeshTable]
    problems: tuple[Violation, ...] = ()
    """What stopped a location or a table from loading, in workspace order."""

    @property
    def domains(self) -> list[str]:
        """The code location names, in workspace order."""
        return [location.name for location in self.locations]

    @property
    def loaded_domains(self) -> list[str]:
        """The names of the code locations that imported, in workspace order."""
        return [location.name for location in self.locations if location.defs is not None]

    @property
    def not_loaded(self) -> dict[TableKey, Violation]:
        """The tables a location defines but cannot materialise (a contract they need is broken),
        each with its ``table-load`` problem; they are not in :attr:`tables`."""
        return {
            TableKey.parse(problem.subject): problem
            for problem in self.problems
            if problem.rule_id == TABLE_LOAD_RULE
        }

    def require_loaded(
        self, *, domains: Iterable[str] = (), patterns: Iterable[str] = ()
    ) -> "Mesh":
        """This mesh, when no problem touches what is asked for; else that problem as a MeshError.

        With ``domains`` or ``patterns`` (``domain/layer/table`` globs, as :meth:`select` takes),
        only a problem of a location they name stops the command: a broken location elsewhere
        does not matter. A table that did not load stops it only when nothing else asked for
        did (:meth:`not_loaded_in` lists the others, for the command to report). With neither,
        every location and table must have loaded.

        Example:
            >>> load_mesh(root).require_loaded(patterns=["fraud/*"]).select(patterns=["fraud/*"])
        """
        named = [d.strip() for d in domains]
        wanted = [p.strip() for p in patterns if p.strip()]
        globs = [p.split("/")[0] for p in wanted]
        for problem in self.problems:
            if problem.rule_id == TABLE_LOAD_RULE and (named or globs):
                continue
            if (
                (not named and not globs)
                or problem.domain in named
                or any(fnmatchcase(problem.domain, glob) for glob in globs)
            ):
                raise MeshError(problem_line(problem), fix=problem.fix)
        asked = self.not_loaded_in(domains=named, patterns=wanted)
        if asked and not any(_matches(key, named, wanted) for key in self.tables):
            raise MeshError(problem_line(asked[0]), fix=asked[0].fix)
        return self

    def not_loaded_in(
        self, *, domains: Iterable[str] = (), patterns: Iterable[str] = ()
    ) -> list[Violation]:
        """The problems of the tables of ``domains`` or matching ``patterns`` that did not load
        (:attr:`not_loaded`); with neither, of every such table."""
        named = [d.strip() for d in domains]
        wanted = [p.strip() for p in patterns if p.strip()]
        return [problem for key, problem in self.not_loaded.items() if _matches(key, named, wanted)]

    def location(self, name: str) -> CodeLocation:
        """The code location called ``name``."""
        for location in self.locations:
            if location.name == name:
                return location
        raise MeshError(
            f"unknown domain {name!r}",
            fix=f"use one of: {', '.join(self.domains)} (as listed in workspace.yaml)",
        )

    def definitions(self, name: str) -> "Definitions":
        """The Dagster Definitions of the code location called ``name``.

        A MeshError when the location failed to import; a ValueError when the mesh was loaded
        from facts only (:func:`load_mesh_facts`), which keeps no Definitions.
        """
        location = self.location(name)
        if location.defs is not None:
            return location.defs
        if location.problem is not None:
            raise MeshError(location.problem.message, fix=location.problem.fix)
        raise ValueError(f"the mesh holds no Definitions of {name!r}: load it with load_mesh")

    def table(self, name: str) -> TableKey:
        """The table named ``name`` (``domain/layer/table``); a MeshError when the mesh has none."""
        key = TableKey.parse(name)
        if key not in self.tables:
            raise MeshError(
                f"no table {key} in the mesh",
                fix="run `mesh tables` to see the tables' names (domain/layer/table)",
            )
        return key

    def select(
        self, *, domains: Iterable[str] = (), patterns: Iterable[str] = ()
    ) -> list[TableKey]:
        """Tables of the given domains, or matching the ``domain/layer/table`` glob patterns.

        With neither, every table.
        """
        wanted_domains = [self.location(d).name for d in domains]
        wanted_patterns = [p.strip() for p in patterns if p.strip()]
        chosen = [key for key in self.tables if _matches(key, wanted_domains, wanted_patterns)]
        if not chosen:
            raise MeshError(
                f"no table matches {', '.join(wanted_patterns) or 'the selection'}",
                fix="run `mesh tables` to see the tables' names (domain/layer/table)",
            )
        return chosen


def _matches(key: TableKey, domains: list[str], patterns: list[str]) -> bool:
    """Whether ``key`` is a table of ``domains`` or matches one of ``patterns`` (with neither:
    every table is)."""
    if not domains and not patterns:
        return True
    return key.domain in domains or any(fnmatchcase(str(key), p) for p in patterns)


def problem_line(problem: Violation) -> str:
    """A loading problem as one line naming what it stops: ``broken location NAME: ...`` for a
    location that did not import, ``broken table KEY: ...`` for a table it cannot materialise,
    ``location NAME [rule]: ...`` for a table it left out."""
    if problem.rule_id == "location-import":
        return f"broken location {problem.domain}: {problem.message}"
    if problem.rule_id == TABLE_LOAD_RULE:
        return f"broken table {problem.subject}: {problem.message}"
    return f"location {problem.domain} [{problem.rule_id}]: {problem.message}"


def load_mesh(project_root: Path) -> Mesh:
    """Import every code location of the project's ``workspace.yaml``, Definitions included."""
    from platform_lib.mesh.locations import import_location  # Dagster: only here

    loaded = []
    workspace = project_root / WORKSPACE_FILE
    for name, module_name in read_workspace_modules(workspace):
        imported = import_location(
            name, module_name, declared_at=declared_at(workspace, module_name)
        )
        location = CodeLocation(
            name=name, module=module_name, defs=imported.defs, problem=imported.facts.problem
        )
        loaded.append((location, imported.facts))
    return _assemble(loaded)


def load_mesh_facts(
    project_root: Path, contracts: ContractState, *, cache: ResultCache | None = None
) -> Mesh:
    """The facts of every code location of ``workspace.yaml``, without their Definitions.

    Args:
        project_root: The folder holding ``workspace.yaml``.
        contracts: The state of the project's contracts; with ``cache``, a location whose files
            and consulted contracts are unchanged is not imported again.
        cache: Where location facts are kept between runs (None: import every location).
    """
    loaded = []
    for name, module_name in read_workspace_modules(project_root / WORKSPACE_FILE):
        facts = cached_location_facts(project_root, name, module_name, contracts, cache)
        loaded.append((CodeLocation(name=name, module=module_name, problem=facts.problem), facts))
    return _assemble(loaded)


def _assemble(loaded: Iterable[tuple[CodeLocation, LocationFacts]]) -> Mesh:
    """The mesh of the locations, in order; a table another location defined first, or outside
    its location's domain, is left out as a problem."""
    locations: list[CodeLocation] = []
    tables: dict[TableKey, MeshTable] = {}
    problems: list[Violation] = []
    for location, facts in loaded:
        locations.append(location)
        if facts.problem is not None:
            problems.append(facts.problem)
        problems += facts.not_loaded
        problems += [_layout_problem(location.name, key) for key in facts.foreign_keys]
        for table in facts.tables:
            key = table.key
            if key in tables:
                problems.append(_ownership_problem(location.name, key, tables[key].location))
            elif key.domain != location.name:
                problems.append(_layout_problem(location.name, str(key)))
            else:
                tables[key] = table
    return Mesh(locations=tuple(locations), tables=tables, problems=tuple(problems))


def _ownership_problem(location: str, key: TableKey, owner: str) -> Violation:
    return Violation(
        rule_id="key-ownership",
        level=Level.ERROR,
        domain=location,
        subject=str(key),
        message=f"{key} is defined by both {owner!r} and {location!r}",
        fix="a table belongs to one domain: remove it from the other location",
    )


def _layout_problem(location: str, asset_key: str) -> Violation:
    return Violation(
        rule_id="key-layout",
        level=Level.ERROR,
        domain=location,
        subject=asset_key,
        message=f"asset key {asset_key} is not [{location}, raw|curated|product, table]",
        fix="declare tables through platform_lib (@table, CsvSource), which names them",
    )
