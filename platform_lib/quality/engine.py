"""The validation engine: every rule of a table checked in one DuckDB pass over the Arrow batch.

Each row-level rule compiles to a SQL expression that yields the rule's id when the row breaks it;
one query collects them per row into ``_violations``. Rows with an empty list are valid, the others
are quarantined. Identifiers are quoted and every value (valid sets, bounds, rule ids) is bound as
a parameter, never formatted into the SQL.
"""

from collections import Counter
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict

from platform_lib.errors import MeshError
from platform_lib.lake.sql import quote_identifier
from platform_lib.quality.rules import (
    AcceptedValues,
    NotNull,
    Range,
    RowCount,
    RowRule,
    Rule,
    Unique,
)

VIOLATIONS_COLUMN = "_violations"
_ROW_INDEX = "__mesh_row"
_BATCH_VIEW = "__mesh_batch"


class RuleResult(BaseModel):
    """The outcome of one rule over one batch."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    kind: str
    blocking: bool
    passed: bool
    failed_rows: int | None = None
    """Rows breaking a row-level rule (they are quarantined); None for table-level rules."""
    observed: float | None = None
    """The measured value of a table-level rule (for example the row count)."""
    message: str


class ValidationResult(BaseModel):
    """Every rule's outcome for one batch."""

    model_config = ConfigDict(frozen=True)

    rows_in: int
    rows_valid: int
    rows_rejected: int
    rules: tuple[RuleResult, ...]

    @property
    def blocked(self) -> bool:
        """Whether a blocking rule failed, so nothing may be committed."""
        return any(r.blocking and not r.passed for r in self.rules)

    @property
    def rejected_by_rule(self) -> dict[str, int]:
        """Rows rejected per row-level rule (a row breaking two rules counts for both)."""
        return {r.rule_id: r.failed_rows for r in self.rules if r.failed_rows}


@dataclass(frozen=True)
class CheckedBatch:
    """A batch split by the rules: rows to publish, rows to quarantine, and the verdicts."""

    valid: pa.Table
    rejected: pa.Table
    """The rejected rows with every input column plus ``_violations`` (the rule ids broken)."""
    result: ValidationResult


def validate_batch(batch: pa.Table, rules: tuple[Rule, ...]) -> CheckedBatch:
    """Check ``batch`` against ``rules`` in one query and split it into valid and rejected rows."""
    _check_columns_exist(batch, rules)
    row_rules = [rule for rule in rules if not isinstance(rule, RowCount)]
    indexed = batch.append_column(_ROW_INDEX, pa.array(range(batch.num_rows), pa.int64()))
    flagged = _flag_rows(indexed, row_rules)
    broken = pc.list_value_length(flagged.column(VIOLATIONS_COLUMN))
    is_valid = pc.equal(pc.fill_null(broken, 0), 0)
    valid = flagged.filter(is_valid).drop_columns([VIOLATIONS_COLUMN])
    rejected = flagged.filter(pc.invert(is_valid))
    counts = Counter(pc.list_flatten(rejected.column(VIOLATIONS_COLUMN)).to_pylist())
    results = [_row_rule_result(rule, counts[rule.id]) for rule in row_rules]
    results += [
        _row_count_result(rule, valid.num_rows) for rule in rules if isinstance(rule, RowCount)
    ]
    return CheckedBatch(
        valid=valid.cast(batch.schema),
        rejected=rejected,
        result=ValidationResult(
            rows_in=batch.num_rows,
            rows_valid=valid.num_rows,
            rows_rejected=rejected.num_rows,
            rules=tuple(results),
        ),
    )


def _flag_rows(indexed: pa.Table, row_rules: list[RowRule]) -> pa.Table:
    params: list[object] = []
    expressions = [_violation_expression(rule, params) for rule in row_rules]
    listed = f"[{', '.join(expressions)}]::VARCHAR[]" if expressions else "[]::VARCHAR[]"
    sql = (
        f"SELECT * EXCLUDE ({_ROW_INDEX}), "  # noqa: S608 - only quoted identifiers
        f"list_filter({listed}, lambda v: v IS NOT NULL) AS {VIOLATIONS_COLUMN} "
        f"FROM {_BATCH_VIEW} ORDER BY {_ROW_INDEX}"
    )
    with duckdb.connect(":memory:") as connection:
        connection.register(_BATCH_VIEW, indexed)
        return connection.execute(sql, params).to_arrow_table()


def _violation_expression(rule: RowRule, params: list[object]) -> str:
    """SQL yielding the rule id when a row breaks ``rule``; appends bound values to ``params``."""
    column = quote_identifier(rule.column)
    match rule:
        case NotNull():
            condition = f"{column} IS NULL"
        case Unique():
            condition = (
                f"{column} IS NOT NULL AND row_number() OVER "
                f"(PARTITION BY {column} ORDER BY {_ROW_INDEX}) > 1"
            )
        case AcceptedValues():
            params.append(list(rule.values))
            condition = f"{column} IS NOT NULL AND NOT list_contains(?, CAST({column} AS VARCHAR))"
        case Range():
            bounds = [
                (op, value)
                for op, value in (
                    (">", rule.greater_than),
                    (">=", rule.at_least),
                    ("<", rule.less_than),
                    ("<=", rule.at_most),
                )
                if value is not None
            ]
            params.extend(value for _, value in bounds)
            within = " AND ".join(f"{column} {op} ?" for op, _ in bounds)
            condition = f"{column} IS NOT NULL AND NOT ({within})"
    params.append(rule.id)
    return f"CASE WHEN {condition} THEN ? END"


def _row_rule_result(rule: RowRule, failed_rows: int) -> RuleResult:
    passed = failed_rows == 0
    message = (
        "every row passes"
        if passed
        else f"{failed_rows} row(s) break {rule.kind} on {rule.column!r} and were quarantined"
    )
    return RuleResult(
        rule_id=rule.id,
        kind=rule.kind,
        blocking=rule.blocking,
        passed=passed,
        failed_rows=failed_rows,
        message=message,
    )


def _row_count_result(rule: RowCount, rows: int) -> RuleResult:
    too_few = rule.minimum is not None and rows < rule.minimum
    too_many = rule.maximum is not None and rows > rule.maximum
    passed = not (too_few or too_many)
    expected = f"between {rule.minimum} and {rule.maximum}".replace("None", "-")
    return RuleResult(
        rule_id=rule.id,
        kind=rule.kind,
        blocking=rule.blocking,
        passed=passed,
        observed=float(rows),
        message=f"{rows} valid row(s), expected {expected}",
    )


def _check_columns_exist(batch: pa.Table, rules: tuple[Rule, ...]) -> None:
    for rule in rules:
        column = getattr(rule, "column", None)
        if column is not None and column not in batch.column_names:
            raise MeshError(
                f"rule {rule.id!r} checks column {column!r}, which the batch does not have "
                f"(columns: {', '.join(batch.column_names)})",
                fix=f"return a {column!r} column from the asset or fix the rule's column",
            )
