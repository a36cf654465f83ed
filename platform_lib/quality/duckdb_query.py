"""Tier three: any batch, typed or text, cast and judged by one DuckDB query.

A batch that needs casting (text inputs, other types), or has a rule polars would judge
differently from DuckDB, takes one query that casts every column to its contract type and lists,
per row, the row-level rules the row breaks (``violated_rules``) and the table-level metrics it
counts towards. It is also the exact reference the polars tiers are held to. Text casts by the
text forms below; a typed value of another type casts only exactly (``typed_casts.py``). A value
that does not cast is null in the typed column and breaks the column's type rule.

Identifiers are quoted and every value (valid sets, bounds, patterns, rule ids) is bound as a
parameter, never formatted into the SQL.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.rules import (
    AcceptedValues,
    Length,
    MetricThreshold,
    NotNull,
    Pattern,
    Range,
    RowRule,
    TypeConforms,
    Unique,
)
from platform_lib.quality.contract_schema import column_type
from platform_lib.quality.split import BatchSplit
from platform_lib.quality.typed_casts import TEXT_TYPE, typed_cast_expression
from platform_lib.quality.violations import VIOLATIONS_COLUMN
from platform_lib.sql import quote_identifier, use_utc

_ROW = "__mesh_row"
_HITS = "__mesh_metric_hits"
_BATCH = "__mesh_batch"
TIMESTAMP_WITH_OFFSET = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6}0*)?)?(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)$"
)
"""Text cast to ``timestamp_tz`` must carry its offset (less than 24 hours; DuckDB alone reads
``+99`` as 99 hours); one without is ambiguous, so invalid. Seconds have at most six decimals
(then only zeros): DuckDB alone drops the rest."""
TEXT_FORMS = {
    "int32": r"^[+-]?[0-9]+$",
    "int64": r"^[+-]?[0-9]+$",
    "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "timestamp": (
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6}0*)?)?)?$"
    ),
}
"""The text a value of these types must be (trimmed) to cast: DuckDB alone would also round
``1.5`` into an integer, keep ``2026-01-05 10:00`` as a date, read ``infinity`` as a date or
timestamp no Arrow value holds, drop the offset of a timestamp given one, and drop a timestamp's
digits beyond the microsecond. Any other text is
invalid. A decimal's text is a number with at most the scale's digits after the point (trailing
zeros aside: ``1.005`` is not a ``decimal(18,2)``); see :func:`decimal_text_form`."""


@dataclass(frozen=True)
class Uncastable:
    """A batch DuckDB cannot even try to cast (e.g. a column of a type with no cast)."""

    problem: str
    """What went wrong, for the schema verdict."""


def split_by_query(
    batch: pa.Table, contract: TableContract, taken: Mapping[str, pa.Array]
) -> BatchSplit | Uncastable:
    """The valid rows of ``batch`` and the rules its other rows break, from the one query.

    Args:
        batch: The rows, with the contract's columns, typed or as text.
        contract: The rules.
        taken: For a ``unique`` column, values published outside the batch: a row repeating
            one breaks the unique rule too.
    """
    row_index = pl.int_range(batch.num_rows, dtype=pl.Int64, eager=True).to_arrow()
    indexed = batch.append_column(_ROW, row_index)
    try:
        flagged = _flag_rows(indexed, contract, taken)
    except duckdb.Error as error:
        first_line = str(error).splitlines()[0]
        return Uncastable(f"the batch cannot be cast: {first_line}")
    broken = pc.list_value_length(flagged.column(VIOLATIONS_COLUMN))
    is_valid = pc.equal(pc.fill_null(broken, 0), 0)
    violations = flagged.column(VIOLATIONS_COLUMN).filter(pc.invert(is_valid))
    return BatchSplit(
        typed=flagged.select(list(contract.column_names)),
        is_valid=is_valid,
        violations=violations,
        breakers=Counter(pc.list_flatten(violations).to_pylist()),
        metric_hits=Counter(pc.list_flatten(flagged.column(_HITS)).to_pylist()),
    )


def _flag_rows(
    indexed: pa.Table, contract: TableContract, taken: Mapping[str, pa.Array]
) -> pa.Table:
    with duckdb.connect(":memory:") as connection:
        connection.execute("SET enable_progress_bar = false")
        # The machine's time zone must not matter: a timestamp_tz compared as text (valid values,
        # patterns) is written in UTC.
        use_utc(connection)
        connection.register(_BATCH, indexed)
        views = {column: f"__mesh_taken_{n}" for n, column in enumerate(taken)}
        for column, view in views.items():
            connection.register(view, pa.table({"v": taken[column]}))
        described = connection.execute(f"DESCRIBE {_BATCH}").fetchall()  # our own name
        input_types = {str(row[0]): str(row[1]) for row in described}
        params: list[Any] = []
        sql = _query(contract, input_types, views, params)
        return connection.execute(sql, params).to_arrow_table()


def _query(
    contract: TableContract,
    input_types: Mapping[str, str],
    views: Mapping[str, str],
    params: list[Any],
) -> str:
    """The one query: every column cast, the rules each row breaks, the metrics it counts."""
    casts = {
        c.name: _cast_expression(c.name, input_types[c.name], c.type_name, params)
        for c in contract.columns
    }
    typed_columns = ", ".join(
        f"{expression} AS {quote_identifier('__typed_' + name)}"
        for name, expression in casts.items()
    )
    violations = [_violation_expression(rule, params, views) for rule in contract.row_rules]
    metric_hits = [
        _metric_expression(rule, params)
        for rule in contract.table_rules
        if isinstance(rule, MetricThreshold)
    ]
    outputs = ", ".join(
        f"{quote_identifier('__typed_' + name)} AS {quote_identifier(name)}" for name in casts
    )
    return (
        f"WITH typed AS (SELECT *, {typed_columns} FROM {_BATCH}) "  # noqa: S608 - quoted names
        f"SELECT {_ROW}, {outputs}, "
        f"{_list(violations)} AS {VIOLATIONS_COLUMN}, {_list(metric_hits)} AS {_HITS} "
        f"FROM typed ORDER BY {_ROW}"
    )


def _list(expressions: list[str]) -> str:
    if not expressions:
        return "[]::VARCHAR[]"
    return f"list_filter([{', '.join(expressions)}]::VARCHAR[], lambda v: v IS NOT NULL)"


def _cast_expression(column: str, input_type: str, type_name: str, params: list[Any]) -> str:
    """The column (of DuckDB type ``input_type``) cast to its contract type, NULL where it
    does not cast: text by the text forms, a typed value only exactly (``typed_casts.py``)."""
    target = column_type(type_name)
    source = quote_identifier(column)
    if input_type != TEXT_TYPE:
        return typed_cast_expression(source, input_type, target.duckdb)
    text = f"trim({source})"
    if target.name == "string":
        return source
    if target.name == "timestamp_tz":
        params.append(TIMESTAMP_WITH_OFFSET)
        return f"CASE WHEN regexp_matches({text}, ?) THEN TRY_CAST({text} AS TIMESTAMPTZ) END"
    form = TEXT_FORMS.get(target.name)
    if pa.types.is_decimal(target.arrow):
        form = decimal_text_form(target.arrow.scale)
    if form is not None:
        params.append(form)
        return f"CASE WHEN regexp_matches({text}, ?) THEN TRY_CAST({text} AS {target.duckdb}) END"
    return f"TRY_CAST(NULLIF({text}, '') AS {target.duckdb})"


def decimal_text_form(scale: int) -> str:
    """The text of a decimal of ``scale`` (a regular expression): digits, at most ``scale`` of
    them after the point (then only zeros), an optional sign; no exponent."""
    fraction = rf"|[0-9]*\.[0-9]{{1,{scale}}}0*" if scale else ""
    return rf"^[+-]?([0-9]+(\.0*)?{fraction})$"


def _typed(column: str) -> str:
    return quote_identifier("__typed_" + column)


def _violation_expression(rule: RowRule, params: list[Any], taken: Mapping[str, str]) -> str:
    """SQL yielding the rule id when a row breaks ``rule``; appends bound values to ``params``.

    ``taken`` names, per unique column, the view of values already published elsewhere."""
    value = _typed(rule.column)
    match rule:
        case TypeConforms():
            original = quote_identifier(rule.column)
            condition = f"{original} IS NOT NULL AND {value} IS NULL"
            if rule.type_name != "string":
                condition = f"NULLIF(trim(CAST({original} AS VARCHAR)), '') IS NOT NULL " + (
                    f"AND {value} IS NULL"
                )
        case NotNull():
            condition = _missing_condition(value, rule.missing_values, params)
        case Unique():
            repeated = f"row_number() OVER (PARTITION BY {value} ORDER BY {_ROW}) > 1"
            if rule.column in taken:
                view = taken[rule.column]  # our own name, never user text
                repeated += f" OR {value} IN (SELECT v FROM {view})"  # noqa: S608
            condition = f"{value} IS NOT NULL AND ({repeated})"
        case AcceptedValues():
            params.append(list(rule.values))
            condition = f"{value} IS NOT NULL AND NOT list_contains(?, CAST({value} AS VARCHAR))"
        case Pattern():
            params.append(rule.pattern)
            condition = (
                f"{value} IS NOT NULL AND NOT regexp_full_match(CAST({value} AS VARCHAR), ?)"
            )
        case Length():
            condition = _length_condition(rule, value, params)
        case Range():
            condition = _range_condition(rule, value, params)
    params.append(rule.id)
    return f"CASE WHEN {condition} THEN ? END"


def _missing_condition(value: str, missing: tuple[str, ...], params: list[Any]) -> str:
    if not missing:
        return f"{value} IS NULL"
    params.append(list(missing))
    return f"({value} IS NULL OR list_contains(?, CAST({value} AS VARCHAR)))"


def _length_condition(rule: Length, value: str, params: list[Any]) -> str:
    """A string's length in characters (code points) outside the rule's bounds."""
    within = []
    for operator, bound in ((">=", rule.at_least), ("<=", rule.at_most)):
        if bound is not None:
            params.append(bound)
            within.append(f"length({value}) {operator} ?")
    return f"{value} IS NOT NULL AND NOT ({' AND '.join(within) or 'true'})"


def _range_condition(rule: Range, value: str, params: list[Any]) -> str:
    params.extend(bound for _, bound in rule.bounds)
    within = " AND ".join(f"{value} {op} ?" for op, _ in rule.bounds)
    return f"{value} IS NOT NULL AND NOT ({within})"


def _metric_expression(rule: MetricThreshold, params: list[Any]) -> str:
    """SQL yielding the rule id when a row counts towards the metric of ``rule``."""
    value = _typed(rule.column)
    match rule.metric:
        case "nullValues":
            condition = f"{value} IS NULL"
        case "missingValues":
            condition = _missing_condition(value, rule.missing_values or ("",), params)
        case "duplicateValues":
            condition = (
                f"{value} IS NOT NULL AND row_number() OVER "
                f"(PARTITION BY {value} ORDER BY {_ROW}) > 1"
            )
        case "invalidValues":
            text = f"CAST({value} AS VARCHAR)"
            if rule.valid_values:
                params.append(list(rule.valid_values))
                condition = f"{value} IS NOT NULL AND NOT list_contains(?, {text})"
            else:
                params.append(rule.pattern)
                condition = f"{value} IS NOT NULL AND NOT regexp_full_match({text}, ?)"
    params.append(rule.id)
    return f"CASE WHEN {condition} THEN ? END"
