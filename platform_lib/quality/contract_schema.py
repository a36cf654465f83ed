"""The contract's columns as Arrow: the schema every tier's valid rows are published with."""

import pyarrow as pa

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.types import ColumnType, parse_column_type


def contract_arrow_schema(contract: TableContract) -> pa.Schema:
    """The Arrow schema of the published table: contract columns, types and nullability."""
    return pa.schema(
        [
            pa.field(c.name, column_type(c.type_name).arrow, nullable=not c.required)
            for c in contract.columns
        ]
    )


def column_type(name: str) -> ColumnType:
    """The supported column type ``name`` of a compiled contract.

    Raises:
        ValueError: The type is not supported (compiled contracts use supported types only).
    """
    found = parse_column_type(name)
    if found is None:
        raise ValueError(f"unsupported column type {name!r}")
    return found
