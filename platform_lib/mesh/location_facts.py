"""What the mesh knows about one code location's tables, as plain (cacheable) data."""

from dataclasses import dataclass

from platform_lib.conventions import TableKey
from platform_lib.mesh.violations import Violation

TABLE_LOAD_RULE = "table-load"
"""The rule of a table its location defines but cannot materialise: a contract it needs is
broken (its own, or that of a table it reads)."""


@dataclass(frozen=True)
class DeclaredRead:
    """A consumer's declaration: the producer table, the major it accepts, the columns it reads."""

    table: TableKey
    major: int | None
    columns: dict[str, str | None]
    """Column -> the type the consumer expects (None: any)."""


@dataclass(frozen=True)
class MeshTable:
    """One materialisable table of one location: who owns it and what it reads."""

    key: TableKey
    location: str
    owners: tuple[str, ...]
    upstream: tuple[TableKey, ...]
    """The tables it depends on, sorted by key."""
    reads: tuple[DeclaredRead, ...]
    """Its declared reads (``reads(...)``): what ``mesh check`` holds its producers to."""
    declared_columns: dict[str, str] | None
    """The asset's own ``dagster/column_schema`` (name -> type), if it declares one."""
    partitioned: bool
    """Whether the table is written one day at a time (``partition=daily(...)``)."""


@dataclass(frozen=True)
class LocationFacts:
    """What importing one code location showed."""

    tables: tuple[MeshTable, ...] = ()
    """Its materialisable assets whose key is ``[domain, layer, table]``."""
    foreign_keys: tuple[str, ...] = ()
    """Its materialisable asset keys of any other shape."""
    problem: Violation | None = None
    """Why it could not be imported, if it could not (a ``location-import`` error)."""
    not_loaded: tuple[Violation, ...] = ()
    """Its tables that cannot be materialised because a contract they need is broken, one
    ``table-load`` error each (subject: the table's key, cause: the broken contract file)."""
    consulted: tuple[TableKey, ...] = ()
    """The tables whose contracts the import asked for: what a cached result depends on."""
