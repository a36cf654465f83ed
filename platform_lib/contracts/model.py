"""A contract as the platform uses it: one table, its columns, its rules and its promises.

Compiled from an ODCS v3 document (see ``compile.py``); everything the engine, the writer and the
Dagster integration need, typed, with the contract field each fact came from.
"""

import datetime as dt
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from platform_lib.contracts.findings import FieldPath
from platform_lib.contracts.rules import RowRule, Rule, TableRule, split_rules
from platform_lib.conventions import TableKey

DEFAULT_QUARANTINE_THRESHOLD = 0.5
"""Share of rejected rows above which nothing is committed, when a contract does not say."""


class Access(StrEnum):
    """Who may read a table: ``public`` (a data product), ``internal``, ``private`` (default)."""

    PUBLIC = "public"
    INTERNAL = "internal"
    PRIVATE = "private"


class ReadPurpose(BaseModel):
    """A consumer's declared reason to read restricted columns of another domain's table.

    From the consumer contract's ``customProperties`` ``readPurposes`` entry
    ``{table: domain/layer/table, purpose: ..., columns: [...]}``; it unmasks those columns only
    when the producer's contract lists the purpose in ``allowedPurposes``.
    """

    model_config = ConfigDict(frozen=True)

    table: TableKey
    purpose: str
    columns: tuple[str, ...]
    field: FieldPath = ()


class ColumnContract(BaseModel):
    """One column: its type and the promises about it."""

    model_config = ConfigDict(frozen=True)

    name: str
    type_name: str
    """Canonical type name (see ``platform_lib.contracts.types``)."""
    logical_type: str
    required: bool = False
    unique: bool = False
    primary_key: bool = False
    partitioned: bool = False
    classification: str | None = None
    description: str = ""
    field: FieldPath = ()


class TableContract(BaseModel):
    """The contract of one table of the mesh."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: str
    key: TableKey
    source: Path
    """The contract file."""
    name: str = ""
    description: str = ""
    status: str = "active"
    owners: tuple[str, ...] = ()
    """Dagster owners (``team:<name>`` or e-mail addresses), from the contract's ``team``."""
    columns: tuple[ColumnContract, ...]
    rules: tuple[Rule, ...] = ()
    access: Access = Access.PRIVATE
    quarantine_threshold: float = DEFAULT_QUARANTINE_THRESHOLD
    freshness: dt.timedelta | None = None
    """Maximum age of the newest data (from ``slaProperties`` freshness/latency)."""
    freshness_field: FieldPath = ()
    deprecation_date: dt.date | None = None
    """From ``customProperties`` ``deprecationDate``: consumers must have moved on by then."""
    allowed_purposes: tuple[str, ...] = ()
    """From ``customProperties`` ``allowedPurposes``: the purposes for which another domain may
    read this table's restricted columns in clear (see ``platform_lib.contracts.access``)."""
    read_purposes: tuple[ReadPurpose, ...] = ()
    """From ``customProperties`` ``readPurposes``: why this table reads others' restricted
    columns."""
    alert_webhooks: tuple[str, ...] = ()
    """URLs of the ``support`` entries with ``tool: webhook``: where the table's alerts are
    posted (see ``platform_lib.orchestration.alerts``)."""
    server_path: str | None = None
    """The ``path`` of the local Delta server entry (relative: to the lake root for mesh tables,
    to the contract's folder for external ones)."""

    @property
    def major_version(self) -> int:
        """The major part of the semantic version."""
        return int(self.version.split(".", 1)[0])

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns in contract order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnContract | None:
        """The column called ``name``, if the contract has it."""
        return next((c for c in self.columns if c.name == name), None)

    @property
    def row_rules(self) -> tuple[RowRule, ...]:
        """Rules judging single rows (their breakers are quarantined)."""
        return split_rules(self.rules)[0]

    @property
    def table_rules(self) -> tuple[TableRule, ...]:
        """Rules judging the batch as a whole."""
        return split_rules(self.rules)[1]
