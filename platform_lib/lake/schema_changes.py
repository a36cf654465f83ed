"""How a Delta version's schema differs from the schema a table should have.

Both sides are compared in Delta's own types (an Arrow ``string`` and ``large_string`` are both
Delta ``string``; a UTC timestamp is ``timestamp``, a naive one ``timestamp_ntz``), column by
column and by name: a column missing on either side, of another type, or nullable on one side
only is a change. Column order is not.
"""

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.schema import Field, PrimitiveType, Schema
from pydantic import BaseModel, ConfigDict


class ColumnChange(BaseModel):
    """One column whose definition differs between a table version and the expected schema."""

    model_config = ConfigDict(frozen=True)

    column: str
    at_version: str | None
    """Its type at the version, e.g. ``decimal(19,2) not null`` (None: the column is absent)."""
    expected: str | None
    """Its type in the expected schema (None: the column is absent)."""

    def render(self) -> str:
        """``column: <at version> -> <expected>`` (``absent`` for a missing side)."""
        return f"{self.column}: {self.at_version or 'absent'} -> {self.expected or 'absent'}"


def version_schema_changes(
    uri: str, version: int, expected: pa.Schema, storage_options: dict[str, str] | None = None
) -> list[ColumnChange]:
    """The columns of the table at ``uri`` whose definition at ``version`` differs from
    ``expected``, sorted by name (empty when the version has exactly the expected columns)."""
    held = _definitions(DeltaTable(uri, version=version, storage_options=storage_options).schema())
    wanted = _definitions(Schema.from_arrow(expected))
    return [
        ColumnChange(column=name, at_version=held.get(name), expected=wanted.get(name))
        for name in sorted(held.keys() | wanted.keys())
        if held.get(name) != wanted.get(name)
    ]


def _definitions(schema: Schema) -> dict[str, str]:
    return {field.name: _definition(field) for field in schema.fields}


def _definition(field: Field) -> str:
    kind = field.type.type if isinstance(field.type, PrimitiveType) else str(field.type)
    return kind if field.nullable else f"{kind} not null"
