"""The validation engine: per-row verdicts and table-level rules, on real DuckDB."""

import pyarrow as pa
import pytest

from platform_lib.errors import MeshError
from platform_lib.quality.engine import VIOLATIONS_COLUMN, validate_batch
from platform_lib.quality.rules import AcceptedValues, NotNull, Range, RowCount, Unique


def batch() -> pa.Table:
    return pa.table(
        {
            "id": ["a", "b", "a", None, "c", "d"],
            "currency": ["EUR", "it's", "EUR", "EUR", "SEK", "XXX"],
            "amount": pa.array([1.0, 2.0, 3.0, 4.0, -1.0, None], pa.float64()),
        }
    )


def test_each_row_lists_the_rules_it_breaks_and_valid_rows_keep_the_schema() -> None:
    rules = (
        NotNull(id="id_present", column="id"),
        Unique(id="id_unique", column="id"),
        AcceptedValues(id="currency_known", column="currency", values=("EUR", "SEK", "it's")),
        Range(id="amount_positive", column="amount", greater_than=0),
    )

    checked = validate_batch(batch(), rules)

    assert checked.valid.schema == batch().schema
    assert checked.valid["id"].to_pylist() == ["a", "b"]
    rejected = dict(
        zip(
            checked.rejected["amount"].to_pylist(),
            checked.rejected[VIOLATIONS_COLUMN].to_pylist(),
            strict=True,
        )
    )
    assert rejected == {
        3.0: ["id_unique"],
        4.0: ["id_present"],
        -1.0: ["amount_positive"],
        None: ["currency_known"],
    }
    assert checked.result.rejected_by_rule == {
        "id_unique": 1,
        "id_present": 1,
        "amount_positive": 1,
        "currency_known": 1,
    }
    assert checked.result.rows_valid + checked.result.rows_rejected == batch().num_rows


def test_unique_keeps_the_first_row_in_batch_order() -> None:
    table = pa.table({"id": ["x", "y", "x", "x"], "line": [1, 2, 3, 4]})

    checked = validate_batch(table, (Unique(id="id_unique", column="id"),))

    assert checked.valid["line"].to_pylist() == [1, 2]
    assert checked.rejected["line"].to_pylist() == [3, 4]


def test_values_are_bound_not_formatted_into_sql() -> None:
    hostile = "x'); DROP TABLE t; --"
    table = pa.table({"v": [hostile, "ok"]})

    checked = validate_batch(table, (AcceptedValues(id="v_known", column="v", values=(hostile,)),))

    assert checked.valid["v"].to_pylist() == [hostile]


def test_a_failing_row_count_blocks_while_row_rules_do_not() -> None:
    # Only the row with a null amount passes the range rule: one valid row, two required.
    rules = (
        Range(id="amount_positive", column="amount", greater_than=100),
        RowCount(id="enough_rows", minimum=2),
    )

    checked = validate_batch(batch(), rules)

    assert checked.result.blocked
    verdicts = {r.rule_id: (r.passed, r.blocking) for r in checked.result.rules}
    assert verdicts == {"amount_positive": (False, False), "enough_rows": (False, True)}


def test_a_rule_on_a_missing_column_names_the_rule_and_column() -> None:
    with pytest.raises(MeshError, match="rule 'x_present' checks column 'x'"):
        validate_batch(batch(), (NotNull(id="x_present", column="x"),))


def test_no_rules_means_every_row_is_valid() -> None:
    checked = validate_batch(batch(), ())

    assert checked.valid.num_rows == batch().num_rows
    assert not checked.result.blocked
