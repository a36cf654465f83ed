"""The validation engine against contracts: casts, per-row verdicts, table-level rules."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from platform_lib.contracts.loader import load_contract
from platform_lib.contracts.model import TableContract
from platform_lib.quality.aggregate import count_breakers
from platform_lib.quality.engine import validate_batch
from platform_lib.quality.violations import VIOLATIONS_COLUMN
from tests.conftest import contract_for, write_contract

ORDERS = """schema:
  - name: orders
    physicalType: table
    quality:
      - {id: has_rows, metric: rowCount, mustBeGreaterThan: 1, severity: error}
      - id: few_gifts
        type: sql
        query: SELECT count(*) FROM ${table} WHERE amount = 0
        mustBeLessThan: 2
        severity: warning
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true, unique: true}
      - name: amount
        logicalType: number
        physicalType: "decimal(10,2)"
        logicalTypeOptions: {minimum: 0}
      - {name: at, logicalType: timestamp, physicalType: timestamp_tz}
      - name: currency
        logicalType: string
        physicalType: string
        quality:
          - id: currency_known
            metric: invalidValues
            arguments: {validValues: [EUR, "it's"]}
            mustBe: 0
      - name: code
        logicalType: string
        physicalType: string
        logicalTypeOptions: {pattern: "^[A-Z]{2}$"}
        quality:
          - {id: code_mostly_present, metric: nullValues, mustBeLessThan: 50, unit: percent}
"""


@pytest.fixture
def orders(tmp_path: Path) -> TableContract:
    return contract_for(tmp_path, "shop/curated/orders", ORDERS)


def batch(**overrides: list[object]) -> pa.Table:
    columns: dict[str, list[object]] = {
        "id": ["a", "b", "a", None, "c"],
        "amount": ["1.50", "0", "2", "3", "-1"],
        "at": ["2026-11-01T12:00:00+02:00", "2026-11-01 10:00Z", "x", None, "2026-11-01T00:00Z"],
        "currency": ["EUR", "it's", "EUR", "EUR", "XXX"],
        "code": ["SE", None, "NO", "DK", "toolong"],
        "_line_number": [1, 2, 3, 4, 5],
    }
    columns.update(overrides)
    return pa.table(columns)


def test_rows_are_cast_and_every_broken_rule_is_listed(orders: TableContract) -> None:
    checked = validate_batch(batch(), orders)

    assert checked.valid["id"].to_pylist() == ["a", "b"]
    assert checked.valid.schema.field("amount").type == pa.decimal128(10, 2)
    assert checked.valid["at"].to_pylist()[0] == dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)
    assert checked.valid.schema.field("id").nullable is False
    broken = dict(
        zip(
            checked.rejected["_line_number"].to_pylist(),
            checked.rejected[VIOLATIONS_COLUMN].to_pylist(),
            strict=True,
        )
    )
    assert broken == {
        3: ["id_unique", "at_type"],
        4: ["id_required"],
        5: ["amount_range", "currency_known", "code_pattern"],
    }


def test_rejected_rows_keep_their_original_values(orders: TableContract) -> None:
    checked = validate_batch(batch(amount=["1", "1", "1", "1", "abc"]), orders)

    rejected = checked.rejected.to_pylist()
    assert rejected[-1]["amount"] == "abc"
    assert "amount_type" in rejected[-1][VIOLATIONS_COLUMN]
    assert checked.result.rows_valid + checked.result.rows_rejected == 5


def test_table_level_rules_report_observed_values_and_thresholds(orders: TableContract) -> None:
    results = {r.rule_id: r for r in validate_batch(batch(), orders).result.rules}

    assert results["has_rows"].passed and results["has_rows"].observed == 2
    assert results["few_gifts"].observed == 1 and results["few_gifts"].passed
    assert results["code_mostly_present"].observed == pytest.approx(20.0)
    assert results["id_unique"].samples == ("_line_number=3",)
    assert results["quarantine_threshold"].observed == pytest.approx(0.6)
    assert not results["quarantine_threshold"].passed


def test_too_many_rejected_rows_block_the_batch(orders: TableContract) -> None:
    checked = validate_batch(batch(), orders)

    assert checked.result.blocked
    assert [r.rule_id for r in checked.result.failed_blocking] == ["quarantine_threshold"]


def test_a_missing_or_extra_column_blocks_with_a_schema_failure(orders: TableContract) -> None:
    checked = validate_batch(
        batch().drop_columns(["code"]).append_column("x", pa.array([1] * 5)), orders
    )

    assert checked.result.blocked
    (schema,) = checked.result.rules
    assert schema.rule_id == "schema"
    assert "missing column(s) code" in schema.message
    assert "not in the contract: x" in schema.message


def test_values_are_bound_not_formatted_into_sql(orders: TableContract) -> None:
    checked = validate_batch(batch(currency=["it's"] * 5), orders)

    assert "currency_known" not in {
        rule for rules in checked.rejected[VIOLATIONS_COLUMN].to_pylist() for rule in rules
    }


def test_typed_input_is_not_cast_again(orders: TableContract) -> None:
    typed = batch(amount=[1.5, 1.0, 2.0, 3.0, 4.0])

    checked = validate_batch(typed, orders)

    assert checked.valid["amount"].to_pylist()[0] == pytest.approx(1.5)


def test_a_column_of_an_uncastable_type_blocks_instead_of_crashing(orders: TableContract) -> None:
    checked = validate_batch(batch(amount=[[1], [2], [3], [4], [5]]), orders)

    results = {r.rule_id: r for r in checked.result.rules}
    assert checked.result.blocked
    assert results["amount_type"].failed_rows == 5
    assert not results["quarantine_threshold"].passed


def typed(ids: list[str | None], amounts: list[float | None], codes: list[str | None]) -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "amount": pa.array(amounts, pa.decimal128(10, 2)),
            "at": pa.array(
                [dt.datetime(2026, 11, 1, tzinfo=dt.UTC)] * n, pa.timestamp("us", "UTC")
            ),
            "currency": pa.array(["EUR"] * n, pa.string()),
            "code": pa.array(codes, pa.string()),
        }
    )


def test_a_clean_typed_batch_takes_the_aggregate_pass_only(orders: TableContract) -> None:
    clean = typed(["a", "b", "c"], [1, 2, 3], ["SE", "NO", None])

    counts = count_breakers(clean, orders)
    checked = validate_batch(clean, orders)

    assert counts is not None and not any(counts[r.id] for r in orders.row_rules)
    assert checked.valid.to_pylist() == clean.to_pylist()
    assert checked.rejected.num_rows == 0
    assert {r.rule_id: r.observed for r in checked.result.rules}["code_mostly_present"] == (
        pytest.approx(100 / 3)
    )


def test_the_aggregate_pass_counts_what_the_per_row_pass_finds(orders: TableContract) -> None:
    dirty = typed(["a", "a", None, "b"], [1, -1, 2, None], ["SE", "s", "NO", "DK"])

    counts = count_breakers(dirty, orders)
    per_row = {r.rule_id: r.failed_rows for r in validate_batch(dirty, orders).result.rules}

    assert counts is not None
    for rule in orders.row_rules:
        assert counts[rule.id] == per_row[rule.id], rule.id


def test_an_unquoted_no_in_valid_values_is_a_finding_not_a_silent_false(tmp_path: Path) -> None:
    path = write_contract(
        tmp_path,
        "shop/curated/countries",
        """schema:
  - name: countries
    properties:
      - name: code
        logicalType: string
        physicalType: string
        quality:
          - {id: code_known, metric: invalidValues, arguments: {validValues: [SE, NO]}, mustBe: 0}
""",
    )

    findings = load_contract(path).findings

    assert [f.rule_id for f in findings] == ["metric-arguments"]
    assert "quote the values" in findings[0].fix


LOSSY_TEXT = """schema:
  - name: readings
    physicalType: table
    properties:
      - {name: n, logicalType: integer, physicalType: int64}
      - {name: day, logicalType: date, physicalType: date}
      - {name: at, logicalType: timestamp, physicalType: timestamp}
      - {name: price, logicalType: number, physicalType: "decimal(10,2)"}
"""


def test_text_that_casts_only_by_losing_or_inventing_data_is_a_type_violation(
    tmp_path: Path,
) -> None:
    """Found by fuzzing: DuckDB alone rounds 1.5 into an integer, keeps a date of a timestamp,
    reads "infinity" as a date no Arrow value holds and drops a naive timestamp's offset."""
    contract = contract_for(tmp_path, "shop/curated/readings", LOSSY_TEXT)
    rows = pa.table(
        {
            "n": [" 42 ", "1.5", "1e3", "0x10", "1_000", "-7"],
            "day": ["2026-01-05", "2026-01-05 10:00", "infinity", "2026-1-5", "-2026-01-01", ""],
            "at": [
                "2026-01-05T10:00:00",
                "2026-01-05T10:00:00+02:00",
                "infinity",
                "epoch",
                "2026-01-05 10:00",
                "2026-01-05",
            ],
            "price": ["1.50", "1.005", "1.500", "1e3", ".5", "-3"],
        }
    )
    checked = validate_batch(rows, contract)
    violations = checked.rejected.column(VIOLATIONS_COLUMN).to_pylist()
    assert violations == [
        ["n_type", "day_type", "at_type", "price_type"],
        ["n_type", "day_type", "at_type"],
        ["n_type", "day_type", "at_type", "price_type"],
        ["n_type", "day_type"],
    ]
    assert checked.valid.to_pylist() == [
        {
            "n": 42,
            "day": dt.date(2026, 1, 5),
            "at": dt.datetime(2026, 1, 5, 10),
            "price": Decimal("1.50"),
        },
        {"n": -7, "day": None, "at": dt.datetime(2026, 1, 5), "price": Decimal("-3.00")},
    ]


def test_a_utc_offset_of_24_hours_or_more_is_a_type_violation(tmp_path: Path) -> None:
    """Found by fuzzing: DuckDB reads ``+99`` as an offset of 99 hours, ``+05:75`` as 6:15."""
    contract = contract_for(
        tmp_path,
        "shop/curated/events",
        "schema:\n  - name: events\n    physicalType: table\n    properties:\n"
        "      - {name: at, logicalType: timestamp, physicalType: timestamp_tz}\n",
    )
    texts = ["2026-03-01 12:00+23:59", "2026-03-01 12:00+24:00", "2026-03-01 12:00+99"]
    texts += ["2026-03-01 12:00-05:75", "2026-03-01 12:00-0530"]
    checked = validate_batch(pa.table({"at": texts}), contract)
    assert checked.rejected["at"].to_pylist() == texts[1:4]
    assert checked.valid["at"].to_pylist() == [
        dt.datetime(2026, 2, 28, 12, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC),
    ]


@pytest.mark.usefixtures("tokyo_time")
def test_the_machines_time_zone_does_not_change_the_verdicts(tmp_path: Path) -> None:
    """Found by fuzzing: DuckDB used the machine's zone to read a naive timestamp as timestamp_tz
    and to write a timestamp_tz as text for valid values and patterns. A naive timestamp is now
    refused by a timestamp_tz column (as text without an offset is), whatever the machine's zone.
    """
    contract = contract_for(
        tmp_path,
        "shop/curated/events",
        "schema:\n  - name: events\n    physicalType: table\n    properties:\n"
        "      - name: at\n        logicalType: timestamp\n        physicalType: timestamp_tz\n"
        "        quality:\n          - id: at_ten_utc\n            metric: invalidValues\n"
        "            arguments: {validValues: ['2026-01-05 10:00:00+00']}\n"
        "            mustBe: 0\n",
    )
    naive = pa.table({"at": pa.array([dt.datetime(2026, 1, 5, 10)])})
    aware = pa.table({"at": pa.array([dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)])})

    checked = validate_batch(aware, contract)
    assert checked.rejected.num_rows == 0
    assert checked.valid["at"].to_pylist() == [dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)]
    refused = validate_batch(naive, contract)
    assert refused.rejected[VIOLATIONS_COLUMN].to_pylist() == [["at_type"]]
