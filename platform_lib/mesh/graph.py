"""The mesh as one graph: every table of every code location, and who reads whom."""

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from dagster import AssetKey

from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.mesh.workspace import CodeLocation, load_workspace
from platform_lib.orchestration.keys import from_asset_key


@dataclass(frozen=True)
class MeshAsset:
    """One materialisable table of the mesh and the tables it reads."""

    key: TableKey
    location: str
    upstream: tuple[TableKey, ...]
    owners: tuple[str, ...]
    partitioned: bool = False
    """Whether the table is written one day at a time (``partition=daily(...)``)."""


@dataclass(frozen=True)
class MeshGraph:
    """Every code location and every table they define, keyed by table."""

    locations: tuple[CodeLocation, ...]
    assets: dict[TableKey, MeshAsset]

    @property
    def domains(self) -> list[str]:
        """The code location names, in workspace order."""
        return [location.name for location in self.locations]

    def location(self, name: str) -> CodeLocation:
        """The code location called ``name``."""
        for location in self.locations:
            if location.name == name:
                return location
        raise MeshError(
            f"unknown domain {name!r}",
            fix=f"use one of: {', '.join(self.domains)} (as listed in workspace.yaml)",
        )

    def table(self, name: str) -> TableKey:
        """The table named ``name`` (``domain/layer/table``); a MeshError when the mesh has none."""
        key = TableKey.parse(name)
        if key not in self.assets:
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
        chosen = [
            key
            for key in self.assets
            if (not wanted_domains and not wanted_patterns)
            or key.domain in wanted_domains
            or any(fnmatchcase(str(key), p) for p in wanted_patterns)
        ]
        if not chosen:
            raise MeshError(
                f"no table matches {', '.join(wanted_patterns) or 'the selection'}",
                fix="run `mesh tables` to see the tables' names (domain/layer/table)",
            )
        return chosen


def build_mesh_graph(locations: Iterable[CodeLocation]) -> MeshGraph:
    """Collect the tables of ``locations``; a table defined by two locations is an error."""
    located = tuple(locations)
    assets: dict[TableKey, MeshAsset] = {}
    for location in located:
        graph = location.defs.resolve_asset_graph()
        for asset_key in sorted(graph.materializable_asset_keys):
            key = from_asset_key(asset_key)
            if key in assets:
                raise MeshError(
                    f"table {key} is defined by both {assets[key].location!r} "
                    f"and {location.name!r}",
                    fix="a table belongs to one domain: remove it from the other code location",
                )
            node = graph.get(asset_key)
            assets[key] = MeshAsset(
                key=key,
                location=location.name,
                upstream=tuple(_table_keys(node.parent_keys)),
                owners=tuple(node.owners),
                partitioned=node.partitions_def is not None,
            )
    return MeshGraph(locations=located, assets=assets)


def load_mesh(project_root: Path) -> MeshGraph:
    """Load every code location of the project's ``workspace.yaml`` and build the graph."""
    return build_mesh_graph(load_workspace(project_root / "workspace.yaml"))


def _table_keys(keys: Iterable[AssetKey]) -> list[TableKey]:
    return sorted((from_asset_key(k) for k in keys), key=str)
