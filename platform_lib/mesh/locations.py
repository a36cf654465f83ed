"""Import one code location: its Dagster Definitions and the facts of its tables.

This is the only part of the mesh model that imports Dagster and the domains' code. The facts
(:class:`~platform_lib.mesh.location_facts.LocationFacts`) are plain data, which
:mod:`platform_lib.mesh.location_cache` keeps between ``mesh check`` runs.
"""

import importlib
import json
from dataclasses import dataclass

from dagster import AssetKey, Definitions

from platform_lib.contracts.registry import consulted_keys
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.mesh.location_facts import DeclaredRead, LocationFacts, MeshTable
from platform_lib.mesh.violations import Level, Violation
from platform_lib.orchestration.keys import from_asset_key
from platform_lib.orchestration.metadata import READS_METADATA


@dataclass(frozen=True)
class ImportedLocation:
    """What importing one code location gave."""

    defs: Definitions | None
    """Its Definitions; None when it could not be imported (``facts.problem`` says why)."""
    facts: LocationFacts


def import_location(name: str, module_name: str) -> ImportedLocation:
    """Import ``module_name`` (location ``name``) and collect its materialisable tables.

    A module that fails to import or has no ``defs`` gives a ``location-import`` problem, never an
    exception. ``facts.consulted`` lists every table whose contract the import asked for.

    Example:
        >>> imported = import_location("payments", "domains.payments.definitions")
        >>> [str(table.key) for table in imported.facts.tables]
    """
    with consulted_keys() as asked:
        defs = _import(name, module_name)
    consulted = tuple(sorted(asked, key=str))
    if isinstance(defs, Violation):
        return ImportedLocation(defs=None, facts=LocationFacts(problem=defs, consulted=consulted))
    return ImportedLocation(defs=defs, facts=_facts(name, defs, consulted))


def _facts(name: str, defs: Definitions, consulted: tuple[TableKey, ...]) -> LocationFacts:
    tables: list[MeshTable] = []
    foreign: list[str] = []
    graph = defs.resolve_asset_graph()
    for asset_key in sorted(graph.materializable_asset_keys):
        key = _parse(asset_key)
        if key is None:
            foreign.append(asset_key.to_user_string())
            continue
        node = graph.get(asset_key)
        tables.append(
            MeshTable(
                key=key,
                location=name,
                owners=tuple(node.owners),
                upstream=tuple(
                    k for k in (_parse(p) for p in sorted(node.parent_keys)) if k is not None
                ),
                reads=_reads(node.metadata.get(READS_METADATA)),
                declared_columns=_declared_columns(node.metadata.get("dagster/column_schema")),
                partitioned=node.partitions_def is not None,
            )
        )
    return LocationFacts(tables=tuple(tables), foreign_keys=tuple(foreign), consulted=consulted)


def _import(name: str, module_name: str) -> Definitions | Violation:
    try:
        module = importlib.import_module(module_name)
    except MeshError as error:
        return _location_problem(name, f"{module_name}: {error.message}", error.fix)
    except Exception as error:  # a domain's own bug: report it, check the rest
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        return _location_problem(
            name,
            f"{module_name} fails to import: {type(error).__name__}: {first}",
            f"run `python -c 'import {module_name}'` and fix the error",
        )
    defs = getattr(module, "defs", None)
    if not isinstance(defs, Definitions):
        return _location_problem(
            name,
            f"{module_name} has no `defs` Definitions object",
            "end definitions.py with `defs = domain_definitions(...)`",
        )
    return defs


def _location_problem(name: str, message: str, fix: str) -> Violation:
    return Violation(
        rule_id="location-import",
        level=Level.ERROR,
        domain=name,
        subject=name,
        message=message,
        fix=fix,
    )


def _parse(asset_key: AssetKey) -> TableKey | None:
    try:
        return from_asset_key(asset_key)
    except (MeshError, ValueError):
        return None


def _reads(value: object) -> tuple[DeclaredRead, ...]:
    raw = getattr(value, "value", value)
    if isinstance(raw, str):
        raw = json.loads(raw)
    if not isinstance(raw, list):
        return ()
    return tuple(
        DeclaredRead(
            table=TableKey.parse(entry["table"]),
            major=entry.get("major"),
            columns=dict(entry.get("columns") or {}),
        )
        for entry in raw
    )


def _declared_columns(value: object) -> dict[str, str] | None:
    schema = getattr(value, "value", value)
    columns = getattr(schema, "columns", None)
    if columns is None:
        return None
    return {column.name: column.type for column in columns}
