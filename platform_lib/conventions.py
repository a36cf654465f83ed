"""The mesh's naming conventions: layers, table keys, locations, owners, tags.

Every table of the mesh is named ``domain/layer/table``. That one name gives its Dagster asset key
(``[domain, layer, table]``, converted in :mod:`platform_lib.orchestration.keys`), its group (the
domain) and its place in the lake (``<lake root>/<domain>/<layer>/<table>``). Rows a table
rejects live beside it in the table ``<domain>/<layer>/<table>__quarantine``.
"""

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

from platform_lib.errors import MeshError
from platform_lib.settings import MeshSettings

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
QUARANTINE_SUFFIX = "__quarantine"
MAJOR_SUFFIX = re.compile(r"^(?P<base>.+)_v(?P<major>[2-9]|[1-9][0-9]+)$")
"""A table published at major N >= 2 is named ``<table>_v<N>``; major 1 has no suffix."""
DELTA_KIND = "delta"
ARRIVAL_SEQUENCE = "_arrival_seq"
"""The envelope column numbering raw records in the order they arrived (see
:mod:`platform_lib.lake.raw_ingest`): "first" means the lowest number, everywhere the platform
decides which of two records wins."""


class Layer(StrEnum):
    """The three layers of a domain. Raw is owned by the platform and readable by every domain."""

    RAW = "raw"
    CURATED = "curated"
    PRODUCT = "product"


def check_name(value: str, what: str) -> str:
    """Return ``value`` if it is a valid mesh name (lower-case identifier), else raise."""
    if not NAME_PATTERN.match(value):
        raise MeshError(
            f"{what} {value!r} is not a valid name",
            fix="use lower-case letters, digits and underscores, starting with a letter",
        )
    return value


class TableKey(BaseModel):
    """The name of one table of the mesh: ``domain/layer/table``."""

    model_config = ConfigDict(frozen=True)

    domain: str
    layer: Layer
    table: str

    @field_validator("domain", "table")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return check_name(value, "name")

    @classmethod
    def parse(cls, text: str) -> "TableKey":
        """Parse ``domain/layer/table`` (as ``mesh tables`` prints it)."""
        parts = text.strip().strip("/").split("/")
        if len(parts) != 3:
            raise MeshError(
                f"table name {text!r} is not of the form domain/layer/table",
                fix="name a table as `mesh tables` prints it, e.g. payments/curated/transactions",
            )
        domain, layer, table = parts
        if layer not in Layer.__members__.values():
            raise MeshError(
                f"table name {text!r} has unknown layer {layer!r}",
                fix=f"use one of: {', '.join(m.value for m in Layer)}",
            )
        return cls(domain=domain, layer=Layer(layer), table=table)

    def uri(self, settings: MeshSettings) -> str:
        """Where the table's Delta log lives."""
        return settings.table_uri(self.domain, self.layer.value, self.table)

    @property
    def quarantine(self) -> "TableKey":
        """The table keeping the rows this table rejected."""
        return TableKey(domain=self.domain, layer=self.layer, table=self.table + QUARANTINE_SUFFIX)

    @property
    def base_name(self) -> str:
        """The table's name without its major suffix (``settlements_v2`` -> ``settlements``)."""
        match = MAJOR_SUFFIX.match(self.table)
        return match.group("base") if match else self.table

    @property
    def major(self) -> int:
        """The contract major this table publishes, from its name (1 without a suffix)."""
        match = MAJOR_SUFFIX.match(self.table)
        return int(match.group("major")) if match else 1

    def for_major(self, major: int) -> "TableKey":
        """The table publishing ``major`` of this table's contract."""
        name = self.base_name if major == 1 else f"{self.base_name}_v{major}"
        return TableKey(domain=self.domain, layer=self.layer, table=name)

    @property
    def is_quarantine(self) -> bool:
        """Whether this is a quarantine table."""
        return self.table.endswith(QUARANTINE_SUFFIX)

    def __str__(self) -> str:
        return f"{self.domain}/{self.layer.value}/{self.table}"


def owner_for_domain(domain: str) -> str:
    """The default owner of a domain's assets: the Dagster team ``team:<domain>``."""
    return f"team:{domain}"


def standard_tags(key: TableKey) -> dict[str, str]:
    """Tags every mesh asset carries, so the UI can filter by domain and layer."""
    return {"mesh/domain": key.domain, "mesh/layer": key.layer.value}
