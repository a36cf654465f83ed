"""platform_lib: the mesh's shared library. Everything a domain needs is importable from here.

Example:
    >>> from platform_lib import Layer, domain_definitions, reads, table
"""

from platform_lib.conventions import Layer, TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.raw_ingest import CsvSource, JsonlSource
from platform_lib.lake.writer import WriteMode
from platform_lib.orchestration.domain import domain_definitions, package_definitions
from platform_lib.orchestration.table_spec import Read, TableSpec, reads, table
from platform_lib.settings import MeshSettings, resolve_settings

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
    "domain_definitions",
    "package_definitions",
    "reads",
    "resolve_settings",
    "table",
]
