"""The mesh as governance sees it: every location, table, contract and consumer edge.

Loaded in one process without a webserver. Unlike the runtime loader it never stops at the first
problem: a location that fails to import, a key that breaks the layout or a key defined twice
becomes a violation, and everything else is still checked.
"""

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from dagster import AssetKey, Definitions

from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.governance.violations import Level, Violation
from platform_lib.orchestration.metadata import READS_METADATA
from platform_lib.orchestration.workspace import read_workspace_modules


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


@dataclass
class MeshModel:
    """What the workspace defines, plus the problems met while loading it."""

    locations: list[str] = field(default_factory=list)
    tables: dict[TableKey, MeshTable] = field(default_factory=dict)
    problems: list[Violation] = field(default_factory=list)


def load_model(project_root: Path) -> MeshModel:
    """Import every code location of ``workspace.yaml`` and collect its tables."""
    model = MeshModel()
    for name, module_name in read_workspace_modules(project_root / "workspace.yaml"):
        model.locations.append(name)
        defs = _import_location(model, name, module_name)
        if defs is not None:
            _collect(model, name, defs)
    return model


def _import_location(model: MeshModel, name: str, module_name: str) -> Definitions | None:
    try:
        module = importlib.import_module(module_name)
    except MeshError as error:
        model.problems.append(_location_problem(name, f"{module_name}: {error.message}", error.fix))
        return None
    except Exception as error:  # a domain's own bug: report it, check the rest
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        model.problems.append(
            _location_problem(
                name,
                f"{module_name} fails to import: {type(error).__name__}: {first}",
                f"run `python -c 'import {module_name}'` and fix the error",
            )
        )
        return None
    defs = getattr(module, "defs", None)
    if not isinstance(defs, Definitions):
        model.problems.append(
            _location_problem(
                name,
                f"{module_name} has no `defs` Definitions object",
                "end definitions.py with `defs = domain_definitions(...)`",
            )
        )
        return None
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


def _collect(model: MeshModel, location: str, defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for asset_key in sorted(graph.materializable_asset_keys):
        key = _parse(asset_key)
        if key is not None and key in model.tables:
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
            continue
        if key is None or key.domain != location:
            model.problems.append(_layout_problem(location, asset_key))
            continue
        node = graph.get(asset_key)
        metadata = node.metadata
        model.tables[key] = MeshTable(
            key=key,
            location=location,
            owners=tuple(node.owners),
            upstream=tuple(
                k for k in (_parse(parent) for parent in sorted(node.parent_keys)) if k is not None
            ),
            reads=_reads(metadata.get(READS_METADATA)),
            declared_columns=_declared_columns(metadata.get("dagster/column_schema")),
        )


def _layout_problem(location: str, asset_key: AssetKey) -> Violation:
    return Violation(
        rule_id="key-layout",
        level=Level.ERROR,
        domain=location,
        subject="/".join(asset_key.path),
        message=f"asset key {asset_key.to_user_string()} is not "
        f"[{location}, raw|curated|product, table]",
        fix="declare tables through platform_lib (@table, CsvSource), which names them",
    )


def _parse(asset_key: AssetKey) -> TableKey | None:
    try:
        return TableKey.from_asset_key(asset_key)
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
