"""The ODCS JSON schema of each ``apiVersion`` the platform checks, read offline.

A contract is valid ODCS by the schema of the version it declares, not by the newest one: the
versions differ both ways (v3.2.0 allows ``schema.table.column`` relationship targets that v3.1.0
rejects, and its rule for ``logicalType: map`` rejects columns without a logical type, valid in
v3.1.0). The schemas are the standard's released files, kept as package data in
``platform_lib/contracts/odcs_schemas/`` (its README names their source), except v3.2.0's, which
ships with the ``open-data-contract-standard`` package the platform depends on.
"""

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class OdcsSchemaFile:
    """Where the JSON schema that checks one ``apiVersion`` is: a package and a path in it."""

    api_version: str
    package: str
    path: tuple[str, ...]


def _vendored(api_version: str, file_name: str) -> OdcsSchemaFile:
    return OdcsSchemaFile(api_version, "platform_lib.contracts", ("odcs_schemas", file_name))


SCHEMA_FILES: tuple[OdcsSchemaFile, ...] = (
    # v3.0.1 is the patch release of v3.0.0 that only added optional fields (top-level and
    # description authoritativeDefinitions, role and description customProperties).
    _vendored("v3.0.0", "odcs-json-schema-v3.0.1.json"),
    _vendored("v3.0.1", "odcs-json-schema-v3.0.1.json"),
    _vendored("v3.0.2", "odcs-json-schema-v3.0.2.json"),
    _vendored("v3.1.0", "odcs-json-schema-v3.1.0.json"),
    OdcsSchemaFile("v3.2.0", "open_data_contract_standard", ("schema.json",)),
)
"""One entry per supported ``apiVersion``, oldest first."""
SUPPORTED_API_VERSIONS: tuple[str, ...] = tuple(entry.api_version for entry in SCHEMA_FILES)
"""The ``apiVersion`` values a contract may declare, oldest first."""
LATEST_API_VERSION = SUPPORTED_API_VERSIONS[-1]
"""The version whose schema checks a document that declares no ``apiVersion``."""
_SCHEMA_FILE_OF = {entry.api_version: entry for entry in SCHEMA_FILES}


def supported_versions_text(last_joined_by: str = "and") -> str:
    """The supported versions as prose: ``v3.0.0, v3.0.1, ... and v3.2.0`` (or ``or v3.2.0``)."""
    *first, last = SUPPORTED_API_VERSIONS
    return f"{', '.join(first)} {last_joined_by} {last}"


def later_versions(api_version: str) -> tuple[str, ...]:
    """The supported versions after ``api_version`` (a supported one), oldest first."""
    return SUPPORTED_API_VERSIONS[SUPPORTED_API_VERSIONS.index(api_version) + 1 :]


@functools.cache
def odcs_json_schema(api_version: str) -> dict[str, Any]:
    """The ODCS JSON schema that checks contracts declaring ``api_version``.

    Raises:
        KeyError: ``api_version`` is not one of ``SUPPORTED_API_VERSIONS``.
    """
    entry = _SCHEMA_FILE_OF.get(api_version)
    if entry is None:
        raise KeyError(f"no ODCS JSON schema for apiVersion {api_version!r}")
    resource = resources.files(entry.package)
    for part in entry.path:
        resource = resource.joinpath(part)
    text = resource.read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
