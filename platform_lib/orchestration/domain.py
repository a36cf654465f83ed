"""One call builds a domain's code location: ``defs = domain_definitions(...)``."""

import gc
import importlib
import pkgutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from dagster import AssetsDefinition, Definitions
from dagster_duckdb import DuckDBResource

from platform_lib.contracts.registry import ContractRegistry, project_registry
from platform_lib.conventions import Layer, TableKey, check_name
from platform_lib.errors import MeshError
from platform_lib.lake.raw_ingest import LandingSource
from platform_lib.orchestration.alert_sensors import alert_sensor
from platform_lib.orchestration.assets import DUCKDB_RESOURCE, raw_asset, table_asset
from platform_lib.orchestration.automation import domain_sensors
from platform_lib.orchestration.not_loaded import not_loaded_asset, unusable_contract
from platform_lib.orchestration.table_spec import TableSpec
from platform_lib.settings import MeshSettings, resolve_settings


def domain_definitions(
    domain: str,
    *,
    tables: Sequence[TableSpec] = (),
    sources: Sequence[LandingSource] = (),
    contracts: ContractRegistry | None = None,
) -> Definitions:
    """The Dagster definitions of one domain, with the mesh's conventions and contracts applied.

    Every table (raw ones included) needs a contract in ``contracts/<domain>/<layer>/``: it gives
    the table's owners, schema, checks and freshness. A table whose contract, or the contract of a
    table it reads, is a broken file does not stop the others: it is defined without them and
    cannot be materialised (:mod:`platform_lib.orchestration.not_loaded`).

    Args:
        domain: The domain's name; the first part of each of its asset keys and its group.
        tables: The domain's curated and product tables (declared with ``@table``).
        sources: Landing sources, each ingested into a raw table owned by the platform.
        contracts: Where to find contracts; default: the project's ``contracts/`` folder.

    Example:
        >>> defs = domain_definitions("payments", tables=[transactions], sources=[landing])
    """
    check_name(domain, "domain")
    settings = resolve_settings()
    with _collector_paused():
        registry = contracts or project_registry(settings.project_root)
        raw_keys = [TableKey(domain=domain, layer=Layer.RAW, table=s.table) for s in sources]
        _check_unique_keys(domain, [*raw_keys, *(t.key(domain) for t in tables)])
        built = _DomainAssets()
        for source, key in zip(sources, raw_keys, strict=True):
            built.add_raw(source, key, domain, registry, settings)
        for spec in tables:
            built.add_table(spec, domain, registry, settings)
        loaded = [key for _, key in built.sources] + built.tables
        return Definitions(
            assets=built.assets,
            resources={DUCKDB_RESOURCE: DuckDBResource(database=":memory:")},
            sensors=[
                *domain_sensors(
                    domain, sources=built.sources, tables=built.tables, settings=settings
                ),
                alert_sensor(domain, [registry.require(key) for key in loaded]),
            ],
        )


@dataclass
class _DomainAssets:
    """A domain's assets as they are built, and which of its tables loaded (the others, whose
    contracts cannot be used, get no sensor)."""

    assets: list[AssetsDefinition] = field(default_factory=list)
    sources: list[tuple[LandingSource, TableKey]] = field(default_factory=list)
    tables: list[TableKey] = field(default_factory=list)

    def add_raw(
        self,
        source: LandingSource,
        key: TableKey,
        domain: str,
        registry: ContractRegistry,
        settings: MeshSettings,
    ) -> None:
        reason = unusable_contract(key, (), registry)
        if reason is not None:
            self.assets.append(not_loaded_asset(reason, domain))
            return
        self.assets.append(raw_asset(source, domain, registry.require(key), settings=settings))
        self.sources.append((source, key))

    def add_table(
        self, spec: TableSpec, domain: str, registry: ContractRegistry, settings: MeshSettings
    ) -> None:
        key = spec.key(domain)
        upstream = [read.table for read in spec.reads.values()]
        reason = unusable_contract(key, upstream, registry)
        if reason is not None:
            self.assets.append(not_loaded_asset(reason, domain, deps=upstream))
            return
        contract = registry.require(key)
        self.assets.append(
            table_asset(spec, domain, contract, settings=settings, contracts=registry)
        )
        self.tables.append(key)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector while a domain's definitions are built.

    The build allocates hundreds of thousands of objects that all stay alive (contracts, specs,
    op and asset definitions), so the collector's full passes meanwhile walk an ever larger heap
    and free next to nothing: 0.5-1 s of the 6-7 s that building 2,000 tables in 50 domains took
    (benchmarks/README.md, P4). Reference counting frees as usual; cycles wait for the next
    collection after the build.
    """
    if not gc.isenabled():  # the caller paused it: leave it to them
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _check_unique_keys(domain: str, keys: Sequence[TableKey]) -> None:
    seen: set[TableKey] = set()
    for key in keys:
        if key in seen:
            raise MeshError(
                f"domain {domain!r} declares the table {key} twice",
                fix="give each table of a layer its own name",
            )
        seen.add(key)


def package_definitions(package: str, *, contracts: ContractRegistry | None = None) -> Definitions:
    """The definitions of the domain whose code is the package ``package`` (``domains.<name>``).

    Every landing source and ``@table`` declared at the top level of the package's modules is
    collected, so adding a table is adding a module (what ``mesh new table`` does).

    Example:
        >>> defs = package_definitions(__package__)  # in domains/shipping/definitions.py
    """
    domain = package.rsplit(".", 1)[-1]
    sources: dict[str, LandingSource] = {}
    tables: dict[str, TableSpec] = {}
    root = importlib.import_module(package)
    for module_info in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        if module_info.name in {"definitions", "tests"} or module_info.ispkg:
            continue
        module = importlib.import_module(f"{package}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, LandingSource):
                sources[value.table] = value
            elif isinstance(value, TableSpec):
                tables[f"{value.layer.value}/{value.name}"] = value
    return domain_definitions(
        domain, sources=list(sources.values()), tables=list(tables.values()), contracts=contracts
    )
