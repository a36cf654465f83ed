"""What governance knows about one code location's tables, as plain (cacheable) data."""

from dataclasses import dataclass

from platform_lib.conventions import TableKey
from platform_lib.mesh.violations import Violation


@dataclass(frozen=True)
class DeclaredRead:
    """A consumer's declaration: the producer table, the major it accepts, the columns it reads."""

    table: TableKey
    major: int | None
    columns: dict[str, str | None]
    """Column -> the type the consumer expects (None: any)."""


@dataclass(frozen=True)
class MeshTable:
    """One materialisable asset of one location."""

    key: TableKey
    location: str
    owners: tuple[str, ...]
    upstream: tuple[TableKey, ...]
    reads: tuple[DeclaredRead, ...]
    declared_columns: dict[str, str] | None
    """The asset's own ``dagster/column_schema`` (name -> type), if it declares one."""


@dataclass(frozen=True)
class LocationFacts:
    """What importing one code location showed."""

    tables: tuple[MeshTable, ...] = ()
    """Its materialisable assets whose key is ``[domain, layer, table]``."""
    foreign_keys: tuple[str, ...] = ()
    """Its materialisable asset keys of any other shape."""
    problems: tuple[Violation, ...] = ()
    """Why it could not be imported, if it could not."""
    consulted: tuple[TableKey, ...] = ()
    """The tables whose contracts the import asked for: what a cached result depends on."""
