"""The column types a contract may use, and how each maps to DuckDB and Arrow.

A contract's ``physicalType`` names the stored type; the engine casts what a domain returns to it
(a value that does not cast is a row-level violation). Names are matched case-insensitively, and
common synonyms are accepted (``varchar`` for ``string``, ``bigint`` for ``int64``, ...).
"""

import re
from dataclasses import dataclass

import pyarrow as pa

_DECIMAL = re.compile(r"^(?:decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")


@dataclass(frozen=True)
class ColumnType:
    """A supported column type: canonical name, DuckDB type, Arrow type, ODCS logical type."""

    name: str
    duckdb: str
    arrow: pa.DataType
    logical: str


_SIMPLE: dict[str, ColumnType] = {
    t.name: t
    for t in (
        ColumnType("string", "VARCHAR", pa.string(), "string"),
        ColumnType("int32", "INTEGER", pa.int32(), "integer"),
        ColumnType("int64", "BIGINT", pa.int64(), "integer"),
        ColumnType("float64", "DOUBLE", pa.float64(), "number"),
        ColumnType("boolean", "BOOLEAN", pa.bool_(), "boolean"),
        ColumnType("date", "DATE", pa.date32(), "date"),
        ColumnType("timestamp_tz", "TIMESTAMPTZ", pa.timestamp("us", tz="UTC"), "timestamp"),
        ColumnType("timestamp", "TIMESTAMP", pa.timestamp("us"), "timestamp"),
    )
}
_SYNONYMS = {
    "varchar": "string",
    "text": "string",
    "str": "string",
    "integer": "int32",
    "int": "int32",
    "bigint": "int64",
    "long": "int64",
    "double": "float64",
    "float": "float64",
    "bool": "boolean",
    "timestamptz": "timestamp_tz",
    "timestamp with time zone": "timestamp_tz",
    "timestamp without time zone": "timestamp",
}
SUPPORTED_TYPES = (*_SIMPLE, "decimal(p,s)")
"""The canonical names, as an error message lists them."""


def parse_column_type(text: str) -> ColumnType | None:
    """The column type named ``text``, or None when the engine does not support it."""
    name = " ".join(text.strip().lower().split())
    name = _SYNONYMS.get(name, name)
    if name in _SIMPLE:
        return _SIMPLE[name]
    match = _DECIMAL.match(name)
    if match:
        precision, scale = int(match.group(1)), int(match.group(2))
        if 0 < precision <= 38 and 0 <= scale <= precision:
            return ColumnType(
                f"decimal({precision},{scale})",
                f"DECIMAL({precision},{scale})",
                pa.decimal128(precision, scale),
                "number",
            )
    return None


def column_type_of_arrow(arrow: pa.DataType) -> ColumnType | None:
    """The supported column type holding Arrow ``arrow`` values, if any."""
    if pa.types.is_decimal(arrow):
        return parse_column_type(f"decimal({arrow.precision},{arrow.scale})")
    if pa.types.is_timestamp(arrow):
        return _SIMPLE["timestamp_tz" if arrow.tz else "timestamp"]
    if pa.types.is_large_string(arrow) or pa.types.is_string_view(arrow):
        return _SIMPLE["string"]
    for column_type in _SIMPLE.values():
        if column_type.arrow.equals(arrow):
            return column_type
    return None
