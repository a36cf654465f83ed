"""How a domain declares a table: what it reads and how it computes its rows.

A domain writes a plain function and decorates it with :func:`table`; platform_lib turns the
declaration into a Dagster asset with the mesh's conventions (see ``assets.py``).

Example:
    >>> @table(
    ...     Layer.PRODUCT,
    ...     reads={"tx": reads("payments/curated/transactions", columns=["amount", "currency"])},
    ... )
    ... def revenue(duckdb: DuckDBPyConnection) -> pa.Table:
    ...     return duckdb.sql("SELECT currency, sum(amount) AS total FROM tx GROUP BY 1").arrow()
"""

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import duckdb
import polars as pl
import pyarrow as pa

from platform_lib.conventions import Layer, TableKey, check_name
from platform_lib.errors import MeshError
from platform_lib.lake.committer import WriteMode
from platform_lib.lake.partitions import DailyPartition

TableLike: TypeAlias = pa.Table | pa.RecordBatchReader | duckdb.DuckDBPyRelation | pl.DataFrame
CONTEXT_PARAMETER = "context"
DUCKDB_PARAMETER = "duckdb"
PARTITION_PARAMETER = "partition_date"
"""A partitioned table's function may take the day being written (a ``datetime.date``)."""


@dataclass(frozen=True)
class Read:
    """A declared read of another table: the Dagster dependency, the input load, and the entry in
    the mesh graph that ``mesh check`` verifies (access, major, columns)."""

    table: TableKey
    """The table read: the producer's table for the accepted major."""
    major: int | None = None
    """The contract major accepted (None: whatever the table publishes, for same-domain reads)."""
    columns: dict[str, str | None] | None = None
    """Column -> expected type (None: any type). Only these are loaded; None loads every column."""

    @property
    def column_names(self) -> tuple[str, ...] | None:
        """The columns to load, or None for all."""
        return tuple(self.columns) if self.columns is not None else None


def reads(
    table: str,
    *,
    major: int | None = None,
    columns: Sequence[str] | Mapping[str, str] | None = None,
) -> Read:
    """Declare a read of ``table`` (``domain/layer/table``) at contract ``major``.

    Args:
        table: The producer's table, as ``mesh tables`` names it (its major 1 name).
        major: The contract major the consumer accepts; ``major=2`` reads ``<table>_v2``.
        columns: The columns read, as names or as ``{name: expected type}``.

    Example:
        >>> reads("payments/product/settlements", major=2, columns={"net_amount": "decimal(18,2)"})
    """
    key = TableKey.parse(table)
    if major is not None:
        if major < 1:
            raise MeshError(
                f"read of {table}: major {major} is not a version",
                fix="accept a major version of 1 or more",
            )
        key = key.for_major(major)
    declared: dict[str, str | None] | None = None
    if isinstance(columns, Mapping):
        declared = dict(columns)
    elif columns is not None:
        declared = dict.fromkeys(columns)
    return Read(key, major, declared)


@dataclass(frozen=True)
class TableSpec:
    """A domain's table: its compute function and everything the platform needs around it."""

    layer: Layer
    name: str
    compute: Callable[..., TableLike]
    reads: Mapping[str, Read] = field(default_factory=dict)
    mode: WriteMode = WriteMode.OVERWRITE
    partition_by: tuple[str, ...] = ()
    description: str = ""
    partition: DailyPartition | None = None
    """Daily partitions: each run writes one day (see :mod:`platform_lib.lake.partitions`)."""

    def key(self, domain: str) -> TableKey:
        """The table's mesh key inside ``domain``."""
        return TableKey(domain=domain, layer=self.layer, table=self.name)


def table(
    layer: Layer,
    *,
    name: str | None = None,
    reads: Mapping[str, Read] | None = None,
    mode: WriteMode = WriteMode.OVERWRITE,
    partition_by: Sequence[str] = (),
    description: str | None = None,
    partition: DailyPartition | None = None,
) -> Callable[[Callable[..., TableLike]], TableSpec]:
    """Declare a table computed by the decorated function.

    The table's schema, rules, owners and SLA come from its contract,
    ``contracts/<domain>/<layer>/<name>.odcs.yaml``; the function only computes the rows. They may
    arrive as text: the platform casts them to the contract's types, and a value that does not cast
    is a row-level violation (the row is quarantined, not lost).

    The function may take any of: ``context`` (Dagster's ``AssetExecutionContext``), ``duckdb``
    (an in-memory DuckDB connection where every read is a view named after its key in ``reads``),
    and one parameter per read, by that name, receiving the rows as an Arrow table. It returns
    the table's rows as Arrow, a DuckDB relation or a polars DataFrame.

    Args:
        layer: ``curated`` or ``product`` (raw tables come from landing sources).
        name: The table name; defaults to the function's name.
        reads: Input name -> :func:`reads` declaration.
        mode: How the rows are written.
        partition_by: Partition columns; ``REPLACE_PARTITIONS`` needs one date column.
        description: Shown in the UI; defaults to the function's docstring.
        partition: ``daily(column, start=...)``: each materialisation writes one UTC day and
            the function may take ``partition_date``; ``mode`` and ``partition_by`` then follow
            from it.
    """

    def declare(compute: Callable[..., TableLike]) -> TableSpec:
        table_name = check_name(name or compute.__name__, "table name")
        if layer is Layer.RAW:
            raise MeshError(
                f"table {table_name!r} is declared in the raw layer",
                fix="declare raw tables as landing sources (CsvSource, JsonlSource): raw is the "
                "platform's",
            )
        declared = dict(reads or {})
        if partition is not None and (mode is not WriteMode.OVERWRITE or partition_by):
            raise MeshError(
                f"table {table_name!r} sets mode or partition_by besides partition=daily(...)",
                fix="drop mode and partition_by: a daily-partitioned table replaces a day per run",
            )
        _check_parameters(compute, table_name, declared, partitioned=partition is not None)
        return TableSpec(
            layer=layer,
            name=table_name,
            compute=compute,
            reads=declared,
            mode=mode,
            partition_by=tuple(partition_by),
            description=description or inspect.getdoc(compute) or "",
            partition=partition,
        )

    return declare


def _check_parameters(
    compute: Callable[..., Any], name: str, declared: Mapping[str, Read], *, partitioned: bool
) -> None:
    allowed = {CONTEXT_PARAMETER, DUCKDB_PARAMETER, *declared}
    if partitioned:
        allowed.add(PARTITION_PARAMETER)
    for input_name in declared:
        check_name(input_name, f"input of table {name!r}")
    unknown = [p for p in inspect.signature(compute).parameters if p not in allowed]
    if unknown:
        raise MeshError(
            f"table {name!r}: parameter(s) {', '.join(unknown)} are not declared reads",
            fix=f"declare them in reads=..., or use only: {', '.join(sorted(allowed))}",
        )
