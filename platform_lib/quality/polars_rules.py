"""The contract's rules as polars masks over typed columns, judged as the DuckDB query judges them.

When every column already has its contract type, each row-level rule (and each table-level
metric) is a boolean expression over the typed columns, used by the aggregate pass
(``aggregate.py``) to count breakers and by the polars split (``polars_split.py``) to find them.
A mask says exactly what the engine's DuckDB query (``duckdb_query.py``) says. Where polars would
judge a value differently from DuckDB, :func:`rule_mask` and :func:`metric_mask` return None and
the batch takes the query instead:

- **values compared as text** (accepted values, patterns, missing values): DuckDB compares
  ``CAST(value AS VARCHAR)``. Strings, integers, booleans and decimals with an integer digit
  (``scale < precision``) render alike in both; dates are compared as dates (a value that is
  not an ISO date of years 1-9999 cannot equal DuckDB's text of such a date; any other value
  falls back, as does a pattern on a date). Floats (``nan`` vs ``NaN``, ``1e-07`` vs ``1e-7``),
  timestamps (polars always prints microseconds) and decimals without an integer digit
  (DuckDB prints ``.50``) fall back.
- **patterns**: translated from RE2 to Rust's ``regex`` where both read them alike
  (``regex_translation.py``); any other pattern falls back.
- **ranges**: DuckDB compares a number column with a number bound as ``DOUBLE`` (the column
  is cast; NaN sorts above every number in both); date bounds on date columns and datetime
  bounds on timestamp columns of the same kind (aware on ``timestamp_tz``, naive on
  ``timestamp``) compare alike. Text bounds, NaN bounds and mixed kinds fall back.
- **lengths**: characters are Unicode code points in both (``length``, ``str.len_chars``); a
  length rule on a column that is not text falls back.
- **uniqueness**: every non-null value after its first occurrence in row order breaks it, as
  ``row_number() OVER (PARTITION BY value ORDER BY row) > 1``; both engines group -0.0 with 0.0
  and NaN with NaN.
"""

import datetime as dt
import re
from collections.abc import Mapping

import polars as pl

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
from platform_lib.contracts.types import parse_column_type
from platform_lib.quality.regex_translation import rust_full_match

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBERS = (pl.Int32, pl.Int64, pl.Float64)


def polars_type(type_name: str) -> pl.DataType | None:
    """The polars type of a column of contract type ``type_name``."""
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


# -- rules as masks -----------------------------------------------------------------------------


def rule_mask(rule: RowRule, schema: Mapping[str, pl.DataType]) -> pl.Expr | None:
    """True where a row breaks ``rule`` (never null), or None where polars would judge
    differently from the engine's query. ``taken`` values are not part of a unique rule's mask
    (the polars split adds them, and finds the same repeats by hash first)."""
    column = pl.col(rule.column)
    dtype = schema[rule.column]
    present = column.is_not_null()
    match rule:
        case TypeConforms():
            return pl.lit(False)
        case NotNull():
            return _missing(column, dtype, rule.missing_values)
        case Unique():
            return present & ~column.is_first_distinct()
        case AcceptedValues():
            accepted = _text_in(column, dtype, rule.values)
            return None if accepted is None else present & ~accepted
        case Pattern():
            matches = _full_match(column, dtype, rule.pattern)
            return None if matches is None else present & ~matches
        case Length():
            if dtype != pl.String:
                return None
            characters = column.str.len_chars()
            long_enough = characters >= (rule.at_least or 0)
            if rule.at_most is not None:
                long_enough = long_enough & (characters <= rule.at_most)
            return present & ~long_enough
        case Range():
            in_range = _within(rule, column, dtype)
            return None if in_range is None else present & ~in_range
    return None


def metric_mask(rule: MetricThreshold, schema: Mapping[str, pl.DataType]) -> pl.Expr | None:
    """True where a row counts towards the metric of ``rule``, or None (as :func:`rule_mask`)."""
    column = pl.col(rule.column)
    dtype = schema[rule.column]
    present = column.is_not_null()
    match rule.metric:
        case "nullValues":
            return column.is_null()
        case "missingValues":
            return _missing(column, dtype, rule.missing_values or ("",))
        case "duplicateValues":
            return present & ~column.is_first_distinct()
        case "invalidValues":
            if rule.valid_values:
                valid = _text_in(column, dtype, rule.valid_values)
            elif rule.pattern is not None:
                valid = _full_match(column, dtype, rule.pattern)
            else:
                return None
            return None if valid is None else present & ~valid
    return None


def _missing(column: pl.Expr, dtype: pl.DataType, missing: tuple[str, ...]) -> pl.Expr | None:
    if not missing:
        return column.is_null()
    listed = _text_in(column, dtype, missing)
    return None if listed is None else column.is_null() | listed


# -- values as DuckDB's text --------------------------------------------------------------------


def _as_text(column: pl.Expr, dtype: pl.DataType) -> pl.Expr | None:
    """The column as ``CAST(value AS VARCHAR)`` renders it, where polars renders it alike."""
    if dtype == pl.String:
        return column
    if dtype in (pl.Int32, pl.Int64, pl.Boolean):
        return column.cast(pl.String)
    if isinstance(dtype, pl.Decimal) and (dtype.scale or 0) < (dtype.precision or 38):
        return column.cast(pl.String)
    return None


def _text_in(column: pl.Expr, dtype: pl.DataType, values: tuple[str, ...]) -> pl.Expr | None:
    """Whether the value, as text, is one of ``values`` (null where the value is null)."""
    if dtype == pl.Date:
        dates = [_iso_date(value) for value in values]
        if any(date is None for date in dates):
            return None
        return column.is_in(pl.Series(dates, dtype=pl.Date).implode())
    text = _as_text(column, dtype)
    return None if text is None else text.is_in(pl.Series(values, dtype=pl.String).implode())


def _iso_date(value: str) -> dt.date | None:
    """The date DuckDB renders as ``value`` (``YYYY-MM-DD``, years 1-9999), if any."""
    if not _ISO_DATE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


# -- patterns -----------------------------------------------------------------------------------


def _full_match(column: pl.Expr, dtype: pl.DataType, pattern: str) -> pl.Expr | None:
    """Whether the value, as text, matches ``pattern`` as a whole (RE2 semantics)."""
    text = _as_text(column, dtype)
    regex = rust_full_match(pattern)
    if text is None or regex is None:
        return None
    return text.str.contains(regex)


# -- ranges -------------------------------------------------------------------------------------


def _within(rule: Range, column: pl.Expr, dtype: pl.DataType) -> pl.Expr | None:
    """Whether the value lies within the bounds, compared as DuckDB compares them."""
    literals: list[pl.Expr] = []
    for _, bound in rule.bounds:
        literal = _bound(bound, dtype)
        if literal is None:
            return None
        literals.append(literal)
    value = column
    if dtype in _NUMBERS or isinstance(dtype, pl.Decimal):
        value = column.cast(pl.Float64)  # DuckDB: CAST(column AS DOUBLE) <op> bound
    within = pl.lit(True)
    for (op, _), literal in zip(rule.bounds, literals, strict=True):
        compared = {
            ">": value > literal,
            ">=": value >= literal,
            "<": value < literal,
            "<=": value <= literal,
        }[op]
        within = within & compared
    return within


def _bound(bound: object, dtype: pl.DataType) -> pl.Expr | None:
    if dtype in _NUMBERS or isinstance(dtype, pl.Decimal):
        if type(bound) is float and bound == bound:  # not NaN
            return pl.lit(bound, dtype=pl.Float64)
        return None
    if dtype == pl.Date:
        if isinstance(bound, dt.date) and not isinstance(bound, dt.datetime):
            return pl.lit(bound, dtype=pl.Date)
        return None
    if isinstance(dtype, pl.Datetime) and isinstance(bound, dt.datetime):
        if dtype.time_zone is not None and bound.tzinfo is not None:
            return pl.lit(bound.astimezone(dt.UTC), dtype=pl.Datetime("us", "UTC"))
        if dtype.time_zone is None and bound.tzinfo is None:
            return pl.lit(bound, dtype=pl.Datetime("us"))
    return None
