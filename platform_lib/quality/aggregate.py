"""Tier one: a typed batch in which no row breaks a rule, settled by one polars aggregate pass.

When every column already has its contract type, one polars ``select`` counts, per rule, the rows
that break it (and the rows each table-level metric counts), with the masks of ``polars_rules.py``.
If no row breaks a row-level rule, that pass is the whole validation (:func:`clean_split`): the
batch is published as it is. A typed batch with breakers is split by the next tier
(``polars_split.py``, from the same pass's counts); one that needs casting, or has a rule polars
would judge differently, by the DuckDB query (``duckdb_query.py``).
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.rules import MetricThreshold, RowRule, Unique
from platform_lib.quality.polars_rules import metric_mask, polars_type, rule_mask
from platform_lib.quality.split import BatchSplit
from platform_lib.quality.violations import VIOLATIONS_TYPE

ROWS = "__mesh_rows"
"""The key of the row count in :func:`count_breakers_lazy`'s answer."""


@dataclass(frozen=True)
class AggregatePass:
    """A typed batch's one aggregate pass: its contract columns in polars, and what they break."""

    frame: pl.DataFrame
    """The batch's contract columns (:func:`contract_frame`)."""
    counts: dict[str, int]
    """Rows breaking each row-level rule and counted by each metric (:func:`count_breakers`)."""


def aggregate_pass(
    batch: pa.Table, contract: TableContract, taken: Mapping[str, pa.Array]
) -> AggregatePass | None:
    """The one aggregate pass over ``batch`` (which has the contract's columns), or None when
    the polars tiers cannot judge it (see :func:`count_breakers`)."""
    frame = contract_frame(batch, contract)
    counts = count_breakers(frame, contract, taken)
    return None if counts is None else AggregatePass(frame=frame, counts=counts)


def clean_split(
    batch: pa.Table, contract: TableContract, counted: AggregatePass
) -> BatchSplit | None:
    """Every row of ``batch`` valid, as its aggregate pass found; None when a row breaks a
    row-level rule (the polars split or the query must find which)."""
    if any(counted.counts[rule.id] for rule in contract.row_rules):
        return None
    return BatchSplit(
        typed=batch.select(list(contract.column_names)),
        is_valid=None,
        violations=pa.array([], VIOLATIONS_TYPE),
        breakers=Counter(),
        metric_hits=Counter(counted.counts),
    )


def count_breakers(
    batch: pa.Table | pl.DataFrame,
    contract: TableContract,
    taken: Mapping[str, pa.Array] | None = None,
) -> dict[str, int] | None:
    """Rows breaking each row-level rule and counted by each metric, by rule id.

    A unique rule's count is the number of repeated 64-bit hashes: exact unless two distinct
    values share a hash (then larger), so zero is always exact. ``taken`` holds, per unique
    column, values published outside the batch; a row repeating one counts as breaking the
    unique rule (a row may then be counted twice). Metric counts are exact.
    Returns None when the polars tiers do not apply: a column needs casting, or polars would
    judge a rule differently from the engine's query (see
    :mod:`~platform_lib.quality.polars_rules`: e.g. a date bound given as text, a float compared
    as text, a pattern outside the subset RE2 and Rust's regex read alike).

    Args:
        batch: The rows, or :func:`contract_frame` of them.
        contract: The rules.
        taken: Per unique column, values published outside the batch.
    """
    frame = contract_frame(batch, contract) if isinstance(batch, pa.Table) else batch
    counts = count_breakers_lazy(frame.lazy(), contract)
    if counts is not None:
        counts.pop(ROWS)
        for rule in contract.row_rules:
            if isinstance(rule, Unique) and rule.column in (taken or {}):
                values = pl.Series(taken[rule.column])  # type: ignore[index]
                if values.dtype != frame.schema[rule.column]:
                    return None  # compared as the query compares them
                counts[rule.id] += int(frame[rule.column].is_in(values.implode()).sum())
    return counts


def contract_frame(batch: pa.Table, contract: TableContract) -> pl.DataFrame:
    """The contract's columns of ``batch`` (which has them all) as a polars frame."""
    frame = pl.from_arrow(batch.select(list(contract.column_names)))
    assert isinstance(frame, pl.DataFrame)
    return frame


def count_breakers_lazy(rows: pl.LazyFrame, contract: TableContract) -> dict[str, int] | None:
    """Like :func:`count_breakers` over a lazy scan (e.g. ``pl.scan_delta``), plus the row count
    under :data:`ROWS`: one streaming pass, nothing materialised (a second pass counts the
    repeats of a ``duplicateValues`` metric exactly, when its hashes repeat)."""
    schema = rows.collect_schema()
    for column in contract.columns:
        if schema.get(column.name) != polars_type(column.type_name):
            return None
    expressions: list[pl.Expr] = [pl.len().alias(ROWS)]
    for rule in contract.row_rules:
        expression = _breakers(rule, schema)
        if expression is None:
            return None
        expressions.append(expression.alias(rule.id))
    repeats: list[MetricThreshold] = []
    for metric in contract.table_rules:
        if isinstance(metric, MetricThreshold):
            expression = _metric_hits(metric, schema)
            if expression is None:
                return None
            expressions.append(expression.alias(metric.id))
            if metric.metric == "duplicateValues":
                repeats.append(metric)
    if len({e.meta.output_name() for e in expressions}) != len(expressions):
        return None  # rule ids repeat (only in a hand-made contract)
    found = rows.select(expressions).collect().row(0, named=True)
    counts = {rule_id: int(count or 0) for rule_id, count in found.items()}
    recount = [metric for metric in repeats if counts[metric.id]]
    if recount:
        exact = rows.select([_repeats(pl.col(m.column)).alias(m.id) for m in recount]).collect()
        counts.update({rule_id: int(count) for rule_id, count in exact.row(0, named=True).items()})
    return counts


def _hashed_repeats(column: pl.Expr) -> pl.Expr:
    """Non-null values whose hash repeats an earlier one's: at least the values that repeat one
    (equal values hash alike), and exactly those unless two distinct values' hashes collide.
    Hashing is much cheaper than grouping the values themselves (text above all)."""
    present = column.drop_nulls()
    return present.len() - present.hash().n_unique()


def _repeats(column: pl.Expr) -> pl.Expr:
    """Non-null values that repeat an earlier one, exactly."""
    present = column.drop_nulls()
    return present.len() - present.n_unique()


def _breakers(rule: RowRule, schema: Mapping[str, pl.DataType]) -> pl.Expr | None:
    if isinstance(rule, Unique):  # only zero is needed exactly
        return _hashed_repeats(pl.col(rule.column))
    mask = rule_mask(rule, schema)
    return None if mask is None else mask.sum()


def _metric_hits(rule: MetricThreshold, schema: Mapping[str, pl.DataType]) -> pl.Expr | None:
    if rule.metric == "duplicateValues":  # recounted exactly when not zero
        return _hashed_repeats(pl.col(rule.column))
    mask = metric_mask(rule, schema)
    return None if mask is None else mask.sum()
