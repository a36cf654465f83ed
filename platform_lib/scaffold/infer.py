"""A draft ODCS v3.1.0 contract inferred from an existing Delta table: its schema and its values.

One polars pass over the table's Arrow dataset profiles every column (nulls, distinct values,
min/max of numbers and dates, the values of low-cardinality text columns). The draft says only
what that data shows, in this platform's conventions, for a person to review:

- each column's ``physicalType`` from its Arrow type (an Arrow type with no contract type is
  declared ``string``, with a comment saying so);
- ``required`` when no value is null, ``unique`` when no value repeats (identifier-like types:
  text, integers, dates and timestamps), an ``invalidValues`` rule listing the ``validValues`` of
  a text column with few distinct values, and a ``rowCount`` rule refusing an empty table;
- what was observed (nulls, distinct values, min and max) in each column's description.

Lineage columns (``_...``) are kept as they are, with their types and ``required``; their values
change with every batch, so no value rule is inferred for them. A raw table keeps every record as
it arrived, so its source columns get their types only.
"""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import yaml

from platform_lib.contracts.model import Access
from platform_lib.contracts.types import ColumnType, column_type_of_arrow, parse_column_type
from platform_lib.conventions import Layer, TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.reader import open_dataset, table_exists, table_state
from platform_lib.quality.engine import LINEAGE_PREFIX
from platform_lib.settings import MeshSettings

__all__ = [
    "DEFAULT_MAX_VALID_VALUES",
    "DRAFT_QUARANTINE_THRESHOLD",
    "infer_contract",
    "key_of_uri",
    "require_table",
]

DEFAULT_MAX_VALID_VALUES = 20
"""A text column with at most this many distinct values gets a ``validValues`` rule."""
DRAFT_QUARANTINE_THRESHOLD = 0.1
ODCS_API_VERSION = "v3.1.0"
_ORDERED = {"integer", "number", "date", "timestamp"}
"""Logical types whose min and max are reported."""
_IDENTIFYING = {"string", "int32", "int64", "date", "timestamp", "timestamp_tz"}
"""Types whose all-distinct values make a ``unique`` column (not measures such as amounts)."""
_COMMENT_KEY = "__mesh_comment_{}__"
_COMMENT_LINE = re.compile(r"^(?P<indent> *)__mesh_comment_(?P<index>\d+)__: null$", re.MULTILINE)


@dataclass(frozen=True)
class _ColumnProfile:
    """What one pass observed in one column."""

    name: str
    arrow: pa.DataType
    column_type: ColumnType | None
    """None when the Arrow type has no contract type."""
    nulls: int
    distinct: int | None
    minimum: Any = None
    maximum: Any = None
    values: tuple[str, ...] | None = None
    """The distinct non-null values of a text column, when there are few of them."""


def key_of_uri(uri: str, settings: MeshSettings) -> TableKey:
    """The mesh table at ``uri``: its ``<domain>/<layer>/<table>`` below the lake root.

    Raises:
        MeshError: ``uri`` is not a table's location under the lake root.
    """
    root = settings.lake_root.rstrip("/")
    location = _normalised(uri).rstrip("/")
    relative = location[len(root) + 1 :] if location.startswith(root + "/") else None
    ask = f"pass --key <domain>/<layer>/{Path(location).name}, the table it is"
    if relative is None or relative.count("/") != 2:
        raise MeshError(
            f"cannot tell the table of {uri}: it is not <domain>/<layer>/<table> under the lake "
            f"root {root}",
            fix=ask,
        )
    try:
        return TableKey.parse(relative)
    except MeshError as error:
        raise MeshError(f"cannot tell the table of {uri}: {error.message}", fix=ask) from error


def infer_contract(
    uri: str,
    key: TableKey,
    *,
    max_valid_values: int = DEFAULT_MAX_VALID_VALUES,
    server_path: str | None = None,
) -> str:
    """Draft the ODCS v3.1.0 contract of the Delta table at ``uri`` from its schema and values.

    Args:
        uri: The table's location (a local path or a URI).
        key: The mesh table it is (``domain/layer/table``): names the contract, its owner (the
            domain's team) and its layer.
        max_valid_values: A text column with at most this many distinct values (and fewer
            than half as many as rows) gets an ``invalidValues`` rule listing them; 0 for none.
        server_path: The ``path`` of the contract's local Delta server entry (default: the
            mesh's own ``<domain>/<layer>/<table>``, relative to the lake root); an absolute
            path lets ``mesh test <file>`` find a table outside the project's contracts.

    Returns:
        The contract as YAML text, headed by a comment saying where and when it was inferred.

    Raises:
        MeshError: There is no Delta table at ``uri``.

    Example:
        >>> text = infer_contract(".lake/payments/curated/transactions",
        ...                       TableKey.parse("payments/curated/transactions"))
        >>> "id: payments.curated.transactions" in text
        True
    """
    location = require_table(uri)
    state = table_state(location)
    if state is None:  # deleted since
        raise _no_table(location)
    rows, profiles = _profile(open_dataset(location), max_valid_values)
    comments: list[str] = []
    document = _document(key, rows, profiles, server_path or str(key), comments)
    body = yaml.dump(
        document, Dumper=_ContractDumper, sort_keys=False, allow_unicode=True, width=100
    )
    body = _COMMENT_LINE.sub(
        lambda m: m.group("indent") + "# " + comments[int(m.group("index"))], body
    )
    today = dt.datetime.now(dt.UTC).date().isoformat()
    header = (
        f"# DRAFT contract of {key}, inferred from {location} at version {state.version} on "
        f"{today}\n"
        "# by `mesh contracts infer`: to be reviewed. Types, required, unique and valid values\n"
        "# describe only the data seen so far; keep the promises you mean, add a purpose and an "
        "SLA.\n"
    )
    return header + body


def require_table(uri: str) -> str:
    """The table's location (a local path made absolute), checking a Delta table is there.

    Raises:
        MeshError: There is no Delta table at ``uri``.
    """
    location = _normalised(uri)
    if not table_exists(location):
        raise _no_table(location)
    return location


def _no_table(location: str) -> MeshError:
    return MeshError(
        f"no Delta table at {location}",
        fix="check the path (the folder holding _delta_log), or materialise the table first "
        "(mesh materialize --select domain/layer/table)",
    )


def _normalised(uri: str) -> str:
    """``uri`` as given when it has a scheme, else the absolute local path."""
    if "://" in uri:
        return uri
    return str(Path(uri).expanduser().resolve())


# -- the one pass ---------------------------------------------------------------------------------


def _profile(dataset: pads.Dataset, max_valid_values: int) -> tuple[int, list[_ColumnProfile]]:
    """The row count and every column's profile, from one polars ``select`` over the table."""
    schema = dataset.schema
    expressions: list[pl.Expr] = [pl.len().alias("rows")]
    types = [column_type_of_arrow(field.type) for field in schema]
    for index, (field, column_type) in enumerate(zip(schema, types, strict=True)):
        column = pl.col(field.name)
        expressions.append(column.null_count().alias(f"{index}:nulls"))
        if column_type is None:
            continue
        expressions.append(column.drop_nulls().n_unique().alias(f"{index}:distinct"))
        if column_type.logical in _ORDERED:
            expressions.append(column.min().alias(f"{index}:min"))
            expressions.append(column.max().alias(f"{index}:max"))
        if column_type.name == "string" and max_valid_values > 0:
            some = column.drop_nulls().unique().head(max_valid_values).implode()
            expressions.append(some.alias(f"{index}:values"))
    found = pl.scan_pyarrow_dataset(dataset).select(expressions).collect().row(0, named=True)
    rows = int(found["rows"])
    profiles = []
    for index, (field, column_type) in enumerate(zip(schema, types, strict=True)):
        distinct = found.get(f"{index}:distinct")
        values = found.get(f"{index}:values")
        few = (
            values is not None
            and distinct is not None
            and 0 < distinct <= max_valid_values
            and distinct < rows / 2
        )
        profiles.append(
            _ColumnProfile(
                name=field.name,
                arrow=field.type,
                column_type=column_type,
                nulls=int(found[f"{index}:nulls"]),
                distinct=None if distinct is None else int(distinct),
                minimum=found.get(f"{index}:min"),
                maximum=found.get(f"{index}:max"),
                values=tuple(sorted(str(v) for v in values)) if few and values else None,
            )
        )
    return rows, profiles


# -- the document, in contract field order --------------------------------------------------------


def _document(
    key: TableKey,
    rows: int,
    profiles: list[_ColumnProfile],
    server_path: str,
    comments: list[str],
) -> dict[str, Any]:
    def comment(text: str) -> dict[str, None]:
        comments.append(text)
        return {_COMMENT_KEY.format(len(comments) - 1): None}

    server: dict[str, Any] = {
        "server": "local",
        "type": "local",
        "format": "delta",
        "path": server_path,
    }
    if server_path == str(key):
        server["description"] = "Relative to MESH_LAKE_ROOT."
    return {
        "apiVersion": ODCS_API_VERSION,
        "kind": "DataContract",
        "id": f"{key.domain}.{key.layer.value}.{key.table}",
        "name": key.table.replace("_", " ").capitalize(),
        "version": f"{key.major}.0.0",
        "status": "draft",
        "domain": key.domain,
        "description": {
            "purpose": f"To be written (what {key} is for); inferred from {rows:,} rows.",
        },
        "team": {"name": key.domain},
        "servers": [server],
        "customProperties": [
            {"property": "layer", "value": key.layer.value},
            {
                "property": "access",
                "value": Access.PRIVATE.value,
                **comment(
                    "private, the default: widen it deliberately (internal, or public: "
                    "a promise to consumers)"
                ),
            },
            {"property": "quarantineThreshold", "value": DRAFT_QUARANTINE_THRESHOLD},
        ],
        "schema": [
            {
                "name": key.table,
                "physicalName": key.table,
                "physicalType": "table",
                "quality": [
                    {
                        "id": "has_rows",
                        "metric": "rowCount",
                        "mustBeGreaterThan": 0,
                        "severity": "error",
                        "description": "An empty table is an upstream failure, not a quiet day.",
                    }
                ],
                "properties": [_property(p, key.layer, rows, comment) for p in profiles],
            }
        ],
    }


def _property(
    profile: _ColumnProfile, layer: Layer, rows: int, comment: Callable[[str], dict[str, None]]
) -> dict[str, Any]:
    column_type = profile.column_type or parse_column_type("string")
    assert column_type is not None
    prop: dict[str, Any] = {
        "name": profile.name,
        "logicalType": column_type.logical,
        "physicalType": column_type.name,
    }
    if profile.column_type is None:
        prop.update(
            comment(
                f"Arrow type {profile.arrow} has no contract type: declared as string, review it"
            )
        )
    lineage = profile.name.startswith(LINEAGE_PREFIX)
    # A raw table's source columns are text as it arrived: no promise about their values.
    as_arrived = layer is Layer.RAW and not lineage
    if rows > 0 and profile.nulls == 0 and not as_arrived:
        prop["required"] = True
    non_null = rows - profile.nulls
    if (
        not (lineage or as_arrived)
        and column_type.name in _IDENTIFYING
        and profile.distinct == non_null
        and non_null > 1
    ):
        prop["unique"] = True
    prop["description"] = _observed(profile, rows)
    if profile.values and not (lineage or as_arrived):
        prop["quality"] = [
            {
                "id": f"{profile.name}_known",
                "metric": "invalidValues",
                "arguments": {"validValues": _FlowList(profile.values)},
                "mustBe": 0,
                "description": f"The {len(profile.values)} value(s) {profile.name} held when "
                "the contract was inferred.",
            }
        ]
    return prop


def _observed(profile: _ColumnProfile, rows: int) -> str:
    """What the pass saw in the column, for the reviewer."""
    parts = [f"{profile.nulls:,} null(s) in {rows:,} row(s)"]
    if profile.distinct is not None:
        parts.append(f"{profile.distinct:,} distinct value(s)")
    if profile.minimum is not None:
        parts.append(f"min {_text(profile.minimum)}, max {_text(profile.maximum)}")
    return "Observed " + "; ".join(parts) + "."


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


class _FlowList(list[str]):
    """A list written on one line, ``[a, b]`` (valid values)."""


class _ContractDumper(yaml.SafeDumper):
    """Safe YAML with block lists indented under their key, as the project's contracts are."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_ContractDumper.add_representer(
    _FlowList,
    lambda dumper, data: dumper.represent_sequence(
        "tag:yaml.org,2002:seq", list(data), flow_style=True
    ),
)
