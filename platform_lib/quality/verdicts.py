"""The verdict of every rule over a judged batch, whichever tier judged it.

Row-level rules pass when no row breaks them (their breakers are quarantined, with a few keys as
samples); table-level metrics compare their counts (or shares of all rows) with the contract's
threshold; ``rowCount`` counts the rows to publish; a contract's own SQL rules run over them
(``sql_rules.py``); the quarantine threshold bounds the share of rejected rows; and the schema
verdict says whether the batch had the contract's columns.
"""

from collections.abc import Mapping

import pyarrow as pa
import pyarrow.dataset as pads

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.rules import (
    SCHEMA_RULE,
    THRESHOLD_RULE,
    MetricThreshold,
    RowCount,
    RowRule,
    Severity,
    SqlCheck,
)
from platform_lib.quality.results import RuleResult, ValidationResult
from platform_lib.quality.sql_rules import run_sql_rule
from platform_lib.quality.violations import VIOLATIONS_COLUMN

SAMPLE_SIZE = 5
"""Keys of failing rows given as a row-level rule's samples."""
SAMPLE_ROWS = 10_000
"""The first rejected rows looked at for samples."""


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
    results.append(schema_result(None))
    return ValidationResult(
        rows_in=rows_in,
        rows_valid=rows_valid,
        rows_rejected=rejected.num_rows,
        rules=tuple(results),
    )


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
    head = rejected.slice(0, SAMPLE_ROWS)
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


def schema_result(problem: str | None) -> RuleResult:
    """The schema verdict: passed without a ``problem``, else blocking with it as the message."""
    return RuleResult(
        rule_id=SCHEMA_RULE,
        kind="schema",
        severity=Severity.ERROR,
        blocking=True,
        passed=problem is None,
        threshold="the contract's columns, no others (lineage columns _* aside)",
        message=problem or "the batch has the contract's columns",
    )
