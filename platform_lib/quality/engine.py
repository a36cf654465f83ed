"""The validation engine: a contract checked in one pass over the Arrow batch.

A typed batch in which no row breaks a rule is settled by one aggregate pass (``fast_path.py``).
A typed batch with breakers is split in polars, one boolean mask per rule that has breakers
(``typed_path.py``), with the results the query below gives. Any other batch (one that needs
casting, or a rule polars would judge differently) takes one DuckDB query that casts every column
to its contract type and lists, per row, the row-level rules the row breaks (``violated_rules``)
and the table-level metrics it counts towards. Valid rows are the ones with an empty list; the
others are quarantined with their original values. Table-level metrics (null, missing, invalid
and duplicate counts with a tolerance) are counted from the same pass; only a contract's own SQL
rules run as further queries, over the rows to publish.

Identifiers are quoted and every value (valid sets, bounds, patterns, rule ids) is bound as a
parameter, never formatted into the SQL.
"""

import os
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.rules import (
    SCHEMA_RULE,
    THRESHOLD_RULE,
    AcceptedValues,
    MetricThreshold,
    NotNull,
    Pattern,
    Range,
    RowCount,
    RowRule,
    Severity,
    SqlCheck,
    TypeConforms,
    Unique,
)
from platform_lib.contracts.types import ColumnType, parse_column_type
from platform_lib.quality.fast_path import contract_frame, count_breakers
from platform_lib.quality.results import RuleResult, ValidationResult
from platform_lib.quality.sql_rules import run_sql_rule
from platform_lib.quality.typed_path import split_typed
from platform_lib.quality.violations import VIOLATIONS_COLUMN, VIOLATIONS_TYPE
from platform_lib.sql import quote_identifier, use_utc

LINEAGE_PREFIX = "_"
SAMPLE_SIZE = 5
_ROW = "__mesh_row"
_HITS = "__mesh_metric_hits"
_BATCH = "__mesh_batch"
_THREADED_ROWS = 100_000
"""From this many rows, the valid rows of a typed batch are copied a column per thread."""
TIMESTAMP_WITH_OFFSET = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)$"
)
"""Text cast to ``timestamp_tz`` must carry its offset (less than 24 hours; DuckDB alone reads
``+99`` as 99 hours); one without is ambiguous, so invalid."""
TEXT_FORMS = {
    "int32": r"^[+-]?[0-9]+$",
    "int64": r"^[+-]?[0-9]+$",
    "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "timestamp": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?$",
}
"""The text a value of these types must be (trimmed) to cast: DuckDB alone would also round
``1.5`` into an integer, keep ``2026-01-05 10:00`` as a date, read ``infinity`` as a date or
timestamp no Arrow value holds, and drop the offset of a timestamp given one. Any other text is
invalid. A decimal's text is a number with at most the scale's digits after the point (trailing
zeros aside: ``1.005`` is not a ``decimal(18,2)``); see :func:`decimal_text_form`."""


@dataclass(frozen=True)
class CheckedBatch:
    """A batch split by its contract: rows to publish, rows to quarantine, and the verdicts."""

    valid: pa.Table
    """The rows to publish: the contract's columns, cast to the contract's types."""
    rejected: pa.Table
    """The rejected rows as they arrived (lineage columns included) plus ``violated_rules``."""
    result: ValidationResult


def validate_batch(
    batch: pa.Table, contract: TableContract, *, taken: Mapping[str, pa.Array] | None = None
) -> CheckedBatch:
    """Check ``batch`` against ``contract`` and split it into valid and rejected rows.

    Args:
        batch: The rows, typed or as text (they are cast to the contract's types).
        contract: The rules.
        taken: For a ``unique`` column, values already published outside this batch (the other
            days of a partitioned table): a row repeating one breaks the unique rule too.
    """
    schema_problem = _schema_problem(batch, contract)
    if schema_problem is not None:
        return _blocked_by_schema(batch, contract, schema_problem)
    taken = taken or {}
    frame = contract_frame(batch, contract)
    counts = count_breakers(frame, contract, taken)
    if counts is not None and not any(counts[rule.id] for rule in contract.row_rules):
        valid = batch.select(list(contract.column_names)).cast(contract_arrow_schema(contract))
        rejected = batch.slice(0, 0).append_column(VIOLATIONS_COLUMN, pa.array([], VIOLATIONS_TYPE))
        return _checked(contract, valid, rejected, batch.num_rows, Counter(), Counter(counts))
    if counts is not None:
        checked = _checked_in_polars(batch, frame, contract, taken, counts)
        if checked is not None:
            return checked
    return _checked_by_query(batch, contract, taken)


def _checked_in_polars(
    batch: pa.Table,
    frame: pl.DataFrame,
    contract: TableContract,
    taken: Mapping[str, pa.Array],
    counts: Mapping[str, int],
) -> CheckedBatch | None:
    """A typed batch split by one boolean mask per rule (``typed_path.py``), with the results
    :func:`_checked_by_query` gives; None when polars would judge a rule differently.

    ``frame`` is :func:`contract_frame` of ``batch``, ``counts`` :func:`count_breakers` of it."""
    split = split_typed(frame, contract, taken, counts)
    if split is None:
        return None
    valid = _rows_where(batch.select(list(contract.column_names)), split.is_valid)
    valid = valid.cast(contract_arrow_schema(contract))
    rejected = batch.filter(pc.invert(split.is_valid)).append_column(
        VIOLATIONS_COLUMN, split.violations
    )
    hits = Counter(
        {
            rule.id: counts[rule.id]
            for rule in contract.table_rules
            if isinstance(rule, MetricThreshold) and counts[rule.id]
        }
    )
    return _checked(contract, valid, rejected, batch.num_rows, split.breakers, hits)


def _rows_where(table: pa.Table, mask: pa.Array) -> pa.Table:
    """``table.filter(mask)``, a column per thread: Arrow's filter runs on one core and copies
    every value (most of a batch's valid rows' cost); its kernels release the GIL."""
    workers = min(table.num_columns, os.cpu_count() or 1)
    if workers < 2 or table.num_rows < _THREADED_ROWS:
        return table.filter(mask)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        columns = list(pool.map(lambda column: pc.filter(column, mask), table.columns))
    return pa.Table.from_arrays(columns, schema=table.schema)


def _checked_by_query(
    batch: pa.Table, contract: TableContract, taken: Mapping[str, pa.Array]
) -> CheckedBatch:
    """Any batch (typed or text) split by the one DuckDB query that casts and flags every row."""
    row_index = pl.int_range(batch.num_rows, dtype=pl.Int64, eager=True).to_arrow()
    indexed = batch.append_column(_ROW, row_index)
    try:
        flagged = _flag_rows(indexed, contract, taken)
    except duckdb.Error as error:  # a column DuckDB cannot even try to cast
        first_line = str(error).splitlines()[0]
        return _blocked_by_schema(batch, contract, f"the batch cannot be cast: {first_line}")
    broken = pc.list_value_length(flagged.column(VIOLATIONS_COLUMN))
    is_valid = pc.equal(pc.fill_null(broken, 0), 0)
    valid = (
        flagged.filter(is_valid)
        .select(list(contract.column_names))
        .cast(contract_arrow_schema(contract))
    )
    violations = flagged.column(VIOLATIONS_COLUMN).filter(pc.invert(is_valid))
    rejected = batch.filter(pc.invert(is_valid)).append_column(VIOLATIONS_COLUMN, violations)
    breakers = Counter(pc.list_flatten(violations).to_pylist())
    hits = Counter(pc.list_flatten(flagged.column(_HITS)).to_pylist())
    return _checked(contract, valid, rejected, batch.num_rows, breakers, hits)


def _checked(
    contract: TableContract,
    valid: pa.Table,
    rejected: pa.Table,
    rows_in: int,
    breakers: Counter[str],
    metric_hits: Counter[str],
) -> CheckedBatch:
    """The split batch and the verdict of every rule."""
    return CheckedBatch(
        valid=valid,
        rejected=rejected,
        result=verdicts(contract, rows_in, valid, rejected, breakers, metric_hits),
    )


def verdicts(
    contract: TableContract,
    rows_in: int,
    valid: pa.Table | pads.Dataset,
    rejected: pa.Table,
    breakers: Mapping[str, int],
    metric_hits: Mapping[str, int],
) -> ValidationResult:
    """The verdict of every rule, from the per-rule counts of one pass.

    Args:
        contract: The rules.
        rows_in: Rows judged.
        valid: The rows to publish (a table, or a lazy dataset the SQL rules may scan).
        rejected: The rejected rows with ``violated_rules`` (for samples).
        breakers: Rows breaking each row-level rule, by rule id.
        metric_hits: Rows counted by each table-level metric, by rule id.
    """
    rows_valid = valid.num_rows if isinstance(valid, pa.Table) else valid.count_rows()
    results = [
        _row_rule_result(rule, breakers.get(rule.id, 0), rejected, contract)
        for rule in contract.row_rules
    ]
    results += _table_rule_results(contract, valid, rows_valid, rows_in, metric_hits)
    results.append(_threshold_result(contract, rejected.num_rows, rows_in))
    results.append(_schema_result(None))
    return ValidationResult(
        rows_in=rows_in,
        rows_valid=rows_valid,
        rows_rejected=rejected.num_rows,
        rules=tuple(results),
    )


def contract_arrow_schema(contract: TableContract) -> pa.Schema:
    """The Arrow schema of the published table: contract columns, types and nullability."""
    return pa.schema(
        [
            pa.field(c.name, _column_type(c.type_name).arrow, nullable=not c.required)
            for c in contract.columns
        ]
    )


def _column_type(name: str) -> ColumnType:
    column_type = parse_column_type(name)
    if column_type is None:  # contracts are compiled with supported types only
        raise ValueError(f"unsupported column type {name!r}")
    return column_type


# -- the one query ------------------------------------------------------------------------------


def _flag_rows(
    indexed: pa.Table, contract: TableContract, taken: Mapping[str, pa.Array]
) -> pa.Table:
    params: list[Any] = []
    views = {column: f"__mesh_taken_{n}" for n, column in enumerate(taken)}
    casts = {
        c.name: _cast_expression(c.name, indexed.schema.field(c.name).type, c.type_name, params)
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
    sql = (
        f"WITH typed AS (SELECT *, {typed_columns} FROM {_BATCH}) "  # noqa: S608 - quoted names
        f"SELECT {_ROW}, {outputs}, "
        f"{_list(violations)} AS {VIOLATIONS_COLUMN}, {_list(metric_hits)} AS {_HITS} "
        f"FROM typed ORDER BY {_ROW}"
    )
    with duckdb.connect(":memory:") as connection:
        connection.execute("SET enable_progress_bar = false")
        # The machine's time zone must not matter: a naive timestamp cast to timestamp_tz is read
        # as UTC, and a timestamp_tz compared as text (valid values, patterns) is written in UTC.
        use_utc(connection)
        connection.register(_BATCH, indexed)
        for column, view in views.items():
            connection.register(view, pa.table({"v": taken[column]}))
        return connection.execute(sql, params).to_arrow_table()


def _list(expressions: list[str]) -> str:
    if not expressions:
        return "[]::VARCHAR[]"
    return f"list_filter([{', '.join(expressions)}]::VARCHAR[], lambda v: v IS NOT NULL)"


def _cast_expression(
    column: str, arrow_type: pa.DataType, type_name: str, params: list[Any]
) -> str:
    """The column cast to its contract type (NULL where it does not cast)."""
    target = _column_type(type_name)
    source = quote_identifier(column)
    if arrow_type.equals(target.arrow) or (
        pa.types.is_timestamp(arrow_type)
        and pa.types.is_timestamp(target.arrow)
        and (arrow_type.tz is None) == (target.arrow.tz is None)
    ):
        return source
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
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
            return (
                f"CASE WHEN regexp_matches({text}, ?) THEN TRY_CAST({text} AS {target.duckdb}) END"
            )
        return f"TRY_CAST(NULLIF({text}, '') AS {target.duckdb})"
    return f"TRY_CAST({source} AS {target.duckdb})"


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
        case Range():
            condition = _range_condition(rule, value, params)
    params.append(rule.id)
    return f"CASE WHEN {condition} THEN ? END"


def _missing_condition(value: str, missing: tuple[str, ...], params: list[Any]) -> str:
    if not missing:
        return f"{value} IS NULL"
    params.append(list(missing))
    return f"({value} IS NULL OR list_contains(?, CAST({value} AS VARCHAR)))"


def _range_condition(rule: Range, value: str, params: list[Any]) -> str:
    bounds = [
        (op, bound)
        for op, bound in (
            (">", rule.greater_than),
            (">=", rule.at_least),
            ("<", rule.less_than),
            ("<=", rule.at_most),
        )
        if bound is not None
    ]
    params.extend(bound for _, bound in bounds)
    within = " AND ".join(f"{value} {op} ?" for op, _ in bounds)
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


# -- results ------------------------------------------------------------------------------------


def _row_rule_result(
    rule: RowRule, failed_rows: int, rejected: pa.Table, contract: TableContract
) -> RuleResult:
    passed = failed_rows == 0
    return RuleResult(
        rule_id=rule.id,
        kind=rule.kind,
        severity=rule.severity,
        blocking=False,
        passed=passed,
        observed=float(failed_rows),
        threshold="0 rows (breakers are quarantined)",
        failed_rows=failed_rows,
        samples=() if passed else _samples(rule.id, rejected, contract),
        message="every row passes"
        if passed
        else f"{failed_rows} row(s) break {rule.kind} on {rule.column!r}; quarantined",
    )


def _samples(rule_id: str, rejected: pa.Table, contract: TableContract) -> tuple[str, ...]:
    """A few keys of rejected rows breaking ``rule_id``: primary key, else line or row number."""
    keys = [c.name for c in contract.columns if c.primary_key and c.name in rejected.column_names]
    key_column = keys[0] if keys else None
    if key_column is None and "_line_number" in rejected.column_names:
        key_column = "_line_number"
    head = rejected.slice(0, 10_000)
    lists = head.column(VIOLATIONS_COLUMN).to_pylist()
    values = head.column(key_column).to_pylist() if key_column else list(range(len(lists)))
    samples: list[str] = []
    for broken, value in zip(lists, values, strict=True):
        if rule_id in broken:
            samples.append(f"{key_column or 'row'}={value}")
            if len(samples) == SAMPLE_SIZE:
                break
    return tuple(samples)


def _table_rule_results(
    contract: TableContract,
    valid: pa.Table | pads.Dataset,
    rows_valid: int,
    rows_in: int,
    hits: Mapping[str, int],
) -> list[RuleResult]:
    results = []
    observed: float | None
    for rule in contract.table_rules:
        if isinstance(rule, MetricThreshold):
            count = hits.get(rule.id, 0)
            observed = 100.0 * count / rows_in if rule.percent and rows_in else float(count)
        elif isinstance(rule, RowCount):
            observed = float(rows_valid)
        elif isinstance(rule, SqlCheck):
            outcome = run_sql_rule(rule.query, valid)
            if outcome.error is not None:
                results.append(_result(rule, False, None, f"the query failed: {outcome.error}"))
                continue
            observed = outcome.value
        passed = observed is not None and rule.comparison.holds(observed)
        results.append(_result(rule, passed, observed, f"observed {observed}, {rule.comparison}"))
    return results


def _result(
    rule: MetricThreshold | RowCount | SqlCheck,
    passed: bool,
    observed: float | None,
    message: str,
) -> RuleResult:
    return RuleResult(
        rule_id=rule.id,
        kind=rule.kind,
        severity=rule.severity,
        blocking=rule.blocking,
        passed=passed,
        observed=observed,
        threshold=str(rule.comparison),
        message=message,
    )


def _threshold_result(contract: TableContract, rejected: int, rows_in: int) -> RuleResult:
    share = rejected / rows_in if rows_in else 0.0
    passed = share <= contract.quarantine_threshold
    return RuleResult(
        rule_id=THRESHOLD_RULE,
        kind="quarantine_threshold",
        severity=Severity.ERROR,
        blocking=True,
        passed=passed,
        observed=round(share, 6),
        threshold=f"<= {contract.quarantine_threshold}",
        failed_rows=rejected,
        message=f"{rejected} of {rows_in} row(s) rejected ({share:.1%}); "
        f"threshold {contract.quarantine_threshold:.1%}"
        + ("" if passed else ": nothing committed"),
    )


def _schema_problem(batch: pa.Table, contract: TableContract) -> str | None:
    names = set(batch.column_names)
    missing = [c for c in contract.column_names if c not in names]
    extra = [
        c
        for c in batch.column_names
        if c not in contract.column_names and not c.startswith(LINEAGE_PREFIX)
    ]
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"column(s) not in the contract: {', '.join(extra)}")
    return "; ".join(problems) or None


def _schema_result(problem: str | None) -> RuleResult:
    return RuleResult(
        rule_id=SCHEMA_RULE,
        kind="schema",
        severity=Severity.ERROR,
        blocking=True,
        passed=problem is None,
        threshold="the contract's columns, no others (lineage columns _* aside)",
        message=problem or "the batch has the contract's columns",
    )


def _blocked_by_schema(batch: pa.Table, contract: TableContract, problem: str) -> CheckedBatch:
    empty = contract_arrow_schema(contract).empty_table()
    return CheckedBatch(
        valid=empty,
        rejected=batch.slice(0, 0),
        result=ValidationResult(
            rows_in=batch.num_rows,
            rows_valid=0,
            rows_rejected=0,
            rules=(_schema_result(problem),),
        ),
    )
