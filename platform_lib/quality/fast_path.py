"""The common case first: a typed batch where no row breaks a rule costs one aggregate pass.

When every column already has its contract type, one polars ``select`` counts, per rule, the rows
that break it (and the rows each table-level metric counts). If no row breaks a row-level rule,
that pass is the whole validation: the batch is published as it is. Only a batch with breakers,
or one that needs casting, takes the engine's per-row pass that splits valid from rejected rows.
"""

from collections.abc import Mapping

import polars as pl
import pyarrow as pa

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.types import parse_column_type
from platform_lib.quality.rules import (
    AcceptedValues,
    MetricThreshold,
    NotNull,
    Pattern,
    Range,
    RowRule,
    TypeConforms,
    Unique,
)

ROWS = "__mesh_rows"
"""The key of the row count in :func:`count_breakers_lazy`'s answer."""


def count_breakers(
    batch: pa.Table, contract: TableContract, taken: Mapping[str, pa.Array] | None = None
) -> dict[str, int] | None:
    """Rows breaking each row-level rule and counted by each metric, by rule id.

    ``taken`` holds, per unique column, values published outside the batch; a row repeating one
    counts as breaking the unique rule (a row may then be counted twice: only zero is exact).
    Returns None when the fast path does not apply: a column needs casting, or a rule compares
    with a value polars would read differently (a date bound given as text).
    """
    frame = pl.from_arrow(
        batch.select([c for c in batch.column_names if c in contract.column_names])
    )
    assert isinstance(frame, pl.DataFrame)
    counts = count_breakers_lazy(frame.lazy(), contract)
    if counts is not None:
        counts.pop(ROWS)
        for rule in contract.row_rules:
            if isinstance(rule, Unique) and rule.column in (taken or {}):
                values = pl.Series(taken[rule.column])  # type: ignore[index]
                counts[rule.id] += int(frame[rule.column].is_in(values).sum())
    return counts


def count_breakers_lazy(rows: pl.LazyFrame, contract: TableContract) -> dict[str, int] | None:
    """Like :func:`count_breakers` over a lazy scan (e.g. ``pl.scan_delta``), plus the row count
    under :data:`ROWS`: one streaming pass, nothing materialised."""
    schema = rows.collect_schema()
    for column in contract.columns:
        if schema.get(column.name) != _polars_type(column.type_name):
            return None
    expressions: list[pl.Expr] = [pl.len().alias(ROWS)]
    for rule in contract.row_rules:
        expression = _breakers(rule)
        if expression is None:
            return None
        expressions.append(expression.alias(rule.id))
    for metric in contract.table_rules:
        if isinstance(metric, MetricThreshold):
            expressions.append(_metric_hits(metric).alias(metric.id))
    counts = rows.select(expressions).collect().row(0, named=True)
    return {rule_id: int(count or 0) for rule_id, count in counts.items()}


def _polars_type(type_name: str) -> pl.DataType | None:
    column_type = parse_column_type(type_name)
    if column_type is None:
        return None
    if column_type.name.startswith("decimal"):
        arrow = column_type.arrow
        return pl.Decimal(arrow.precision, arrow.scale)
    return {
        "string": pl.String(),
        "int32": pl.Int32(),
        "int64": pl.Int64(),
        "float64": pl.Float64(),
        "boolean": pl.Boolean(),
        "date": pl.Date(),
        "timestamp_tz": pl.Datetime("us", "UTC"),
        "timestamp": pl.Datetime("us"),
    }.get(column_type.name)


def _duplicates(column: pl.Expr) -> pl.Expr:
    """Non-null values that repeat an earlier one. Distinct hashes prove distinct values (equal
    values always hash alike), so the exact, costlier count runs only when hashes collide."""
    present = column.drop_nulls()
    hashes_distinct = present.hash().n_unique() == present.len()
    return (
        pl.when(hashes_distinct)
        .then(pl.lit(0, pl.UInt32))
        .otherwise(present.len() - present.n_unique())
    )


def _breakers(rule: RowRule) -> pl.Expr | None:
    column = pl.col(rule.column)
    present = column.is_not_null()
    match rule:
        case TypeConforms():
            return pl.lit(0)
        case NotNull():
            missing = column.is_null()
            if rule.missing_values:
                missing = missing | column.cast(pl.String).is_in(list(rule.missing_values))
            return missing.sum()
        case Unique():
            return _duplicates(column)
        case AcceptedValues():
            return (present & ~column.cast(pl.String).is_in(list(rule.values))).sum()
        case Pattern():
            matches = column.cast(pl.String).str.contains(f"^(?:{rule.pattern})$")
            return (present & ~matches).sum()
        case Range():
            bounds = (rule.greater_than, rule.at_least, rule.less_than, rule.at_most)
            if any(isinstance(bound, str) for bound in bounds):
                return None
            within = pl.lit(True)
            if rule.greater_than is not None:
                within = within & (column > rule.greater_than)
            if rule.at_least is not None:
                within = within & (column >= rule.at_least)
            if rule.less_than is not None:
                within = within & (column < rule.less_than)
            if rule.at_most is not None:
                within = within & (column <= rule.at_most)
            return (present & ~within).sum()
    return None


def _metric_hits(rule: MetricThreshold) -> pl.Expr:
    column = pl.col(rule.column)
    present = column.is_not_null()
    match rule.metric:
        case "nullValues":
            return column.is_null().sum()
        case "missingValues":
            missing = list(rule.missing_values or ("",))
            return (column.is_null() | column.cast(pl.String).is_in(missing)).sum()
        case "duplicateValues":
            return _duplicates(column)
        case "invalidValues":
            text = column.cast(pl.String)
            if rule.valid_values:
                return (present & ~text.is_in(list(rule.valid_values))).sum()
            return (present & ~text.str.contains(f"^(?:{rule.pattern})$")).sum()
