"""One call builds a domain's code location: ``defs = domain_definitions(...)``."""

from collections.abc import Sequence

from dagster import Definitions
from dagster_duckdb import DuckDBResource

from platform_lib.conventions import check_name, owner_for_domain
from platform_lib.errors import MeshError
from platform_lib.lake.raw_ingest import CsvSource
from platform_lib.orchestration.assets import DUCKDB_RESOURCE, raw_asset, table_asset
from platform_lib.orchestration.table_spec import TableSpec


def domain_definitions(
    domain: str,
    *,
    tables: Sequence[TableSpec] = (),
    sources: Sequence[CsvSource] = (),
    owners: Sequence[str] | None = None,
) -> Definitions:
    """The Dagster definitions of one domain, with the mesh's conventions applied.

    Args:
        domain: The domain's name; the first part of each of its asset keys and its group.
        tables: The domain's curated and product tables (declared with ``@table``).
        sources: Landing sources, each ingested into a raw table owned by the platform.
        owners: Dagster owners (``team:...`` or e-mail addresses); default ``team:<domain>``.

    Example:
        >>> defs = domain_definitions("payments", tables=[transactions], sources=[landing])
    """
    check_name(domain, "domain")
    owned_by = list(owners) if owners else [owner_for_domain(domain)]
    _check_unique_names(domain, tables, sources)
    assets = [raw_asset(source, domain, owned_by) for source in sources]
    assets += [table_asset(spec, domain, owned_by) for spec in tables]
    return Definitions(
        assets=assets,
        resources={DUCKDB_RESOURCE: DuckDBResource(database=":memory:")},
    )


def _check_unique_names(
    domain: str, tables: Sequence[TableSpec], sources: Sequence[CsvSource]
) -> None:
    seen: set[str] = set()
    names = [f"raw/{s.table}" for s in sources] + [f"{t.layer.value}/{t.name}" for t in tables]
    for name in names:
        if name in seen:
            raise MeshError(
                f"domain {domain!r} declares the table {name} twice",
                fix="give each table of a layer its own name",
            )
        seen.add(name)
