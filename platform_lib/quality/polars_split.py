"""Tier two: a typed batch with breakers, split in polars, one boolean mask per rule.

When every column already has its contract type, nothing needs casting, and each row-level rule
is a boolean mask over the typed columns (``polars_rules.py``). Only the rules the aggregate pass
(``aggregate.py``) found breakers of get a mask; valid rows are the ones no mask marks, and
``violated_rules`` is built only for the rejected rows. The split says exactly what the engine's
DuckDB query says; where polars would judge a rule differently, :func:`split_in_polars` returns
None and the query (``duckdb_query.py``) splits the batch instead.

A unique rule's breakers are looked for among the rows whose hash repeats (:func:`repeats`);
``taken`` values are compared with ``is_in`` when they have the column's type (else the query).
"""

from collections import Counter
from collections.abc import Mapping

import polars as pl
import pyarrow as pa

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.rules import MetricThreshold, TypeConforms, Unique
from platform_lib.quality.aggregate import AggregatePass
from platform_lib.quality.polars_rules import polars_type, rule_mask
from platform_lib.quality.split import BatchSplit

_MASK = "__mesh_mask_{}"


def split_in_polars(
    batch: pa.Table,
    contract: TableContract,
    taken: Mapping[str, pa.Array],
    counted: AggregatePass,
) -> BatchSplit | None:
    """The valid rows of a typed batch and the rules its other rows break, found in polars.

    Args:
        batch: The rows, with the contract's columns, each of its contract type (else None is
            returned).
        contract: The rules.
        taken: For a ``unique`` column, values published outside the batch.
        counted: The batch's aggregate pass: a rule it finds no breaker of (zero is exact)
            needs no mask.

    Returns:
        None when polars would judge a rule differently from the engine's query (see
        :mod:`~platform_lib.quality.polars_rules`), or when no row-level rule has breakers
        (the aggregate pass settles that batch): the query or the aggregate must split it.
    """
    found = _breach_flags(counted.frame, contract, taken, counted.counts)
    if found is None:
        return None
    flags, rule_ids = found
    broken = flags.select(pl.any_horizontal(pl.all())).to_series()
    breakers: Counter[str] = Counter()
    for rule_id, count in zip(rule_ids, flags.sum().row(0), strict=True):
        if count:
            breakers[rule_id] += int(count)
    lists = (
        flags.filter(broken)
        .select(
            pl.concat_list(
                [
                    pl.when(pl.col(name)).then(pl.lit(rule_id))
                    for name, rule_id in zip(flags.columns, rule_ids, strict=True)
                ]
            ).list.drop_nulls()
        )
        .to_series()
    )
    hits = Counter(
        {
            rule.id: counted.counts[rule.id]
            for rule in contract.table_rules
            if isinstance(rule, MetricThreshold) and counted.counts[rule.id]
        }
    )
    return BatchSplit(
        typed=batch.select(list(contract.column_names)),
        is_valid=(~broken).to_arrow(),
        violations=lists.to_arrow(),
        breakers=breakers,
        metric_hits=hits,
    )


def repeats(values: pl.Series) -> pl.Series:
    """Whether each value is non-null and repeats an earlier one (in row order), exactly as
    ``row_number() OVER (PARTITION BY value ORDER BY row) > 1``.

    Equal values hash alike, so only rows whose 64-bit hash occurs twice can repeat a value:
    those (found by sorting the hashes, far cheaper than grouping text) are compared by value.
    """
    hashes = values.hash()
    ordered = hashes.sort()
    twice = ordered.filter(ordered == ordered.shift(1)).unique()
    candidates = pl.arg_where(hashes.is_in(twice.implode()), eager=True)
    among = values.gather(candidates)
    again = candidates.filter(among.is_not_null() & ~among.is_first_distinct())
    return pl.repeat(False, values.len(), eager=True).scatter(again, True)


def _breach_flags(
    frame: pl.DataFrame,
    contract: TableContract,
    taken: Mapping[str, pa.Array],
    counts: Mapping[str, int],
) -> tuple[pl.DataFrame, list[str]] | None:
    """Per row, a flag per row-level rule with breakers (a column each, in rule order) and the
    rules' ids; None when polars would judge a rule differently, or no rule has breakers."""
    schema = frame.schema
    for column in contract.columns:
        if schema.get(column.name) != polars_type(column.type_name):
            return None
    if len({rule.id for rule in contract.row_rules}) != len(contract.row_rules):
        return None  # compiled contracts have unique ids; a hand-made one takes the query
    masks: dict[str, pl.Expr | pl.Series] = {}  # by mask column, in rule order
    rule_ids: list[str] = []  # in rule order
    for index, rule in enumerate(contract.row_rules):
        mask = rule_mask(rule, schema)
        if mask is None:
            return None
        if isinstance(rule, TypeConforms) or not counts.get(rule.id):
            continue  # no row breaks it
        name = _MASK.format(index)
        if isinstance(rule, Unique):
            values = frame.get_column(rule.column)
            found = repeats(values)
            if rule.column in taken:
                published = pl.Series(taken[rule.column])
                if published.dtype != values.dtype:
                    return None
                found = found | (values.is_not_null() & values.is_in(published.implode()))
            masks[name] = found.fill_null(False).alias(name)
        else:
            masks[name] = mask.fill_null(False).alias(name)  # as CASE WHEN: null is no breach
        rule_ids.append(rule.id)
    if not rule_ids:  # a clean batch: the aggregate pass settles it
        return None
    expressions = [mask for mask in masks.values() if isinstance(mask, pl.Expr)]
    computed = frame.select(expressions)
    flags = pl.DataFrame(
        [m if isinstance(m, pl.Series) else computed.get_column(n) for n, m in masks.items()]
    )
    return flags, rule_ids
