"""Import one code location: its Dagster Definitions and the facts of its tables.

This is the only part of the mesh model that imports Dagster and the domains' code. The facts
(:class:`~platform_lib.mesh.location_facts.LocationFacts`) are plain data, which
:mod:`platform_lib.mesh.location_cache` keeps between ``mesh check`` runs.
"""

import contextlib
import importlib
import json
import traceback
from dataclasses import dataclass
from pathlib import Path

from dagster import AssetKey, Definitions

from platform_lib.contracts.registry import BrokenContractError, consulted_keys
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.mesh.location_facts import (
    TABLE_LOAD_RULE,
    DeclaredRead,
    LocationFacts,
    MeshTable,
)
from platform_lib.mesh.violations import Level, Violation
from platform_lib.mesh.workspace import WORKSPACE_FILE
from platform_lib.orchestration.keys import from_asset_key
from platform_lib.orchestration.metadata import NOT_LOADED_METADATA, READS_METADATA


@dataclass(frozen=True)
class ImportedLocation:
    """What importing one code location gave."""

    defs: Definitions | None
    """Its Definitions; None when it could not be imported (``facts.problem`` says why)."""
    facts: LocationFacts


def import_location(
    name: str, module_name: str, *, declared_at: str = WORKSPACE_FILE
) -> ImportedLocation:
    """Import ``module_name`` (location ``name``) and collect its materialisable tables.

    A module that fails to import or has no ``defs`` gives a ``location-import`` problem, never an
    exception: one line naming the file and line at fault (``declared_at``, where the workspace
    declares the module, when the module itself does not exist) and the fix.
    ``facts.consulted`` lists every table whose contract the import asked for.

    Example:
        >>> imported = import_location("payments", "domains.payments.definitions")
        >>> [str(table.key) for table in imported.facts.tables]
    """
    with consulted_keys() as asked:
        defs = _import(name, module_name, declared_at)
    consulted = tuple(sorted(asked, key=str))
    if isinstance(defs, Violation):
        return ImportedLocation(defs=None, facts=LocationFacts(problem=defs, consulted=consulted))
    return ImportedLocation(defs=defs, facts=_facts(name, defs, consulted))


def _facts(name: str, defs: Definitions, consulted: tuple[TableKey, ...]) -> LocationFacts:
    tables: list[MeshTable] = []
    not_loaded: list[Violation] = []
    foreign: list[str] = []
    graph = defs.resolve_asset_graph()
    for asset_key in sorted(graph.materializable_asset_keys):
        key = _parse(asset_key)
        if key is None:
            foreign.append(asset_key.to_user_string())
            continue
        node = graph.get(asset_key)
        problem = _not_loaded(name, key, node.metadata.get(NOT_LOADED_METADATA))
        if problem is not None:
            not_loaded.append(problem)
            continue
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
    return LocationFacts(
        tables=tuple(tables),
        foreign_keys=tuple(foreign),
        not_loaded=tuple(not_loaded),
        consulted=consulted,
    )


def _not_loaded(name: str, key: TableKey, value: object) -> Violation | None:
    """The ``table-load`` error of a table defined as not loaded (its ``mesh/not_loaded``
    metadata), else None."""
    reason = getattr(value, "value", value)
    if not isinstance(reason, dict):
        return None
    return Violation(
        rule_id=TABLE_LOAD_RULE,
        level=Level.ERROR,
        domain=name,
        subject=str(key),
        message=str(reason["message"]),
        fix=str(reason["fix"]),
        cause=str(reason["cause"]),
    )


def _import(name: str, module_name: str, declared_at: str) -> Definitions | Violation:
    try:
        module = importlib.import_module(module_name)
    except BrokenContractError as error:
        return _location_problem(
            name, f"{module_name}: {error.message}", error.fix, cause=str(error.source)
        )
    except ModuleNotFoundError as error:
        if error.name is None or not _is_part_of(module_name, error.name):
            return _failed_import(name, module_name, error)
        missing = "" if error.name == module_name else f" (no package {error.name})"
        return _location_problem(
            name,
            f"{declared_at}: module {module_name} does not exist{missing}",
            f"correct module_name in {WORKSPACE_FILE}, or create "
            f"{module_name.replace('.', '/')}.py",
        )
    except MeshError as error:
        where = _where_raised(error, module_name)
        return _location_problem(name, f"{where}: {module_name}: {error.message}", error.fix)
    except Exception as error:  # a domain's own bug: report it, check the rest
        return _failed_import(name, module_name, error)
    defs = getattr(module, "defs", None)
    if not isinstance(defs, Definitions):
        return _location_problem(
            name,
            f"{module_name} has no `defs` Definitions object",
            "end definitions.py with `defs = domain_definitions(...)`",
        )
    return defs


def _is_part_of(module_name: str, missing: str) -> bool:
    """Whether ``missing`` is ``module_name`` or one of its parent packages."""
    return module_name == missing or module_name.startswith(f"{missing}.")


def _failed_import(name: str, module_name: str, error: Exception) -> Violation:
    where = _where_raised(error, module_name)
    text = error.msg if isinstance(error, SyntaxError) and error.msg else str(error)
    first = text.splitlines()[0] if text else type(error).__name__
    return _location_problem(
        name,
        f"{where}: {module_name} fails to import: {type(error).__name__}: {first}",
        f"fix the error at {where}; `python -c 'import {module_name}'` shows it whole",
    )


def _where_raised(error: BaseException, module_name: str) -> str:
    """``file:line`` of the error in the location's own code: the line of a syntax error, else
    the innermost frame in the location's package (else the innermost frame of all)."""
    if isinstance(error, SyntaxError) and error.filename:
        return _place(error.filename, error.lineno)
    frames = [
        f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith("<")
    ]
    package = "/".join(module_name.split(".")[:-1]) or module_name
    own = [f for f in frames if package in Path(f.filename).as_posix()]
    chosen = own or frames
    return _place(chosen[-1].filename, chosen[-1].lineno) if chosen else module_name


def _place(filename: str, line: int | None) -> str:
    path = Path(filename)
    with contextlib.suppress(OSError, ValueError):
        path = path.resolve().relative_to(Path.cwd().resolve())
    return f"{path}:{line}" if line else str(path)


def _location_problem(name: str, message: str, fix: str, cause: str | None = None) -> Violation:
    return Violation(
        rule_id="location-import",
        level=Level.ERROR,
        domain=name,
        subject=name,
        message=message,
        fix=fix,
        cause=cause,
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
