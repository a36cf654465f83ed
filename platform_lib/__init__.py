"""platform_lib: the mesh's shared library. Everything a domain needs is importable from here.

Names are imported on first use (PEP 562), so a tool that needs only part of the library, such
as ``mesh check`` reading its cache, does not pay for Dagster, Delta and polars.

Example:
    >>> from platform_lib import Layer, domain_definitions, reads, table
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from platform_lib.conventions import Layer, TableKey
    from platform_lib.errors import MeshError
    from platform_lib.lake.committer import WriteMode
    from platform_lib.lake.partitions import daily
    from platform_lib.lake.raw_ingest import CsvSource, JsonlSource
    from platform_lib.orchestration.domain import domain_definitions, package_definitions
    from platform_lib.orchestration.table_spec import Read, TableSpec, reads, table
    from platform_lib.settings import MeshSettings, resolve_settings

_HOMES = {
    "CsvSource": "platform_lib.lake.raw_ingest",
    "JsonlSource": "platform_lib.lake.raw_ingest",
    "Layer": "platform_lib.conventions",
    "MeshError": "platform_lib.errors",
    "MeshSettings": "platform_lib.settings",
    "Read": "platform_lib.orchestration.table_spec",
    "TableKey": "platform_lib.conventions",
    "TableSpec": "platform_lib.orchestration.table_spec",
    "WriteMode": "platform_lib.lake.committer",
    "daily": "platform_lib.lake.partitions",
    "domain_definitions": "platform_lib.orchestration.domain",
    "package_definitions": "platform_lib.orchestration.domain",
    "reads": "platform_lib.orchestration.table_spec",
    "resolve_settings": "platform_lib.settings",
    "table": "platform_lib.orchestration.table_spec",
}
"""Each public name and the module that defines it."""

__all__ = [
    "CsvSource",
    "JsonlSource",
    "Layer",
    "MeshError",
    "MeshSettings",
    "Read",
    "TableKey",
    "TableSpec",
    "WriteMode",
    "daily",
    "domain_definitions",
    "package_definitions",
    "reads",
    "resolve_settings",
    "table",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'platform_lib' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
