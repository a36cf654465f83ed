"""Typed inputs are cast as strictly as text: a value that would change is a type violation.

Each case gives one column of a typed Arrow type the contract's column does not have, and says
which values cast (and to what) and which break the column's type rule. Every tier must agree:
the polars tiers decline a batch that needs casting, so the engine, the DuckDB query and the
stream give the same rows and verdicts.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.types import parse_column_type
from platform_lib.quality.engine import CheckedBatch, Tier, validate_batch, validate_with
from platform_lib.quality.stream import validate_stream
from platform_lib.quality.violations import VIOLATIONS_COLUMN
from tests.conftest import contract_for

PARIS = dt.timezone(dt.timedelta(hours=1))
CASES: dict[str, tuple[str, pa.Array, list[Any], list[int]]] = {
    # name: (contract type, typed input, the valid rows' values, the rejected rows' positions)
    "float to integer only when integral": (
        "int64",
        pa.array([1.5, 2.0, -0.0, float("nan"), float("inf"), 1e20, -7.0], pa.float64()),
        [2, 0, -7],
        [0, 3, 4, 5],
    ),
    "integer overflow": (
        "int32",
        pa.array([2**31, -(2**31) - 1, 7, 2**31 - 1, -(2**31)], pa.int64()),
        [7, 2**31 - 1, -(2**31)],
        [0, 1],
    ),
    "unsigned overflow": (
        "int64",
        pa.array([2**64 - 1, 2**63, 5], pa.uint64()),
        [5],
        [0, 1],
    ),
    "integer into float only when exact": (
        "float64",
        pa.array([2**53 + 1, 2**53, -3], pa.int64()),
        [float(2**53), -3.0],
        [0],
    ),
    "decimal scale without rounding": (
        "decimal(18,2)",
        pa.array([Decimal("1.005"), Decimal("1.010"), Decimal("-0.500")], pa.decimal128(18, 3)),
        [Decimal("1.01"), Decimal("-0.50")],
        [0],
    ),
    "decimal precision": (
        "decimal(18,2)",
        pa.array([Decimal("1E+17"), Decimal("9999999999999999.99")], pa.decimal128(20, 2)),
        [Decimal("9999999999999999.99")],
        [0],
    ),
    "float into decimal only when exact at the scale": (
        "decimal(18,2)",
        pa.array([0.1, 1.005, 1e17, 12.5, float("nan")], pa.float64()),
        [Decimal("0.10"), Decimal("12.50")],
        [1, 2, 4],
    ),
    "decimal into integer only when integral": (
        "int64",
        pa.array([Decimal("1.50"), Decimal("2.00")], pa.decimal128(10, 2)),
        [2],
        [0],
    ),
    "naive timestamp into timestamp_tz": (
        "timestamp_tz",
        pa.array([dt.datetime(2026, 1, 5, 10)], pa.timestamp("us")),
        [],
        [0],
    ),
    "date into timestamp_tz": (
        "timestamp_tz",
        pa.array([dt.date(2026, 1, 5)], pa.date32()),
        [],
        [0],
    ),
    "zoned timestamp into timestamp_tz keeps the instant": (
        "timestamp_tz",
        pa.array([dt.datetime(2026, 1, 5, 10)], pa.timestamp("ms", "Europe/Paris")),
        [dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)],
        [],
    ),
    "zoned timestamp into timestamp": (
        "timestamp",
        pa.array([dt.datetime(2026, 1, 5, 10, tzinfo=PARIS)], pa.timestamp("us", "UTC")),
        [],
        [0],
    ),
    "zoned timestamp into date": (
        "date",
        pa.array([dt.datetime(2026, 1, 5, tzinfo=dt.UTC)], pa.timestamp("us", "UTC")),
        [],
        [0],
    ),
    "timestamp into date only at midnight": (
        "date",
        pa.array([dt.datetime(2026, 1, 5), dt.datetime(2026, 1, 5, 10)], pa.timestamp("s")),
        [dt.date(2026, 1, 5)],
        [1],
    ),
    "date into timestamp": (
        "timestamp",
        pa.array([dt.date(2026, 1, 5)], pa.date32()),
        [dt.datetime(2026, 1, 5)],
        [],
    ),
    "nanoseconds into microseconds only when whole": (
        "timestamp",
        pa.array([1_000_000_001, 2_000_000_000], pa.timestamp("ns")),
        [dt.datetime(1970, 1, 1, 0, 0, 2)],
        [0],
    ),
    "zoned nanoseconds into microseconds only when whole": (
        "timestamp_tz",
        pa.array([1_000_000_001, 2_000_000_000], pa.timestamp("ns", "UTC")),
        [dt.datetime(1970, 1, 1, 0, 0, 2, tzinfo=dt.UTC)],
        [0],
    ),
    "booleans and numbers do not mix": (
        "int64",
        pa.array([True, False], pa.bool_()),
        [],
        [0, 1],
    ),
    "numbers are not booleans": (
        "boolean",
        pa.array([1, 0], pa.int64()),
        [],
        [0, 1],
    ),
    "numbers are not dates": (
        "date",
        pa.array([20_000], pa.int32()),
        [],
        [0],
    ),
    "any value as text": (
        "string",
        pa.array([1.5, 2.0], pa.float64()),
        ["1.5", "2.0"],
        [],
    ),
}


def one_column(tmp_path: Path, type_name: str) -> TableContract:
    column_type = parse_column_type(type_name)
    assert column_type is not None
    return contract_for(
        tmp_path,
        "shop/curated/values",
        "schema:\n  - name: values\n    physicalType: table\n    properties:\n"
        f"      - {{name: v, logicalType: {column_type.logical}, physicalType: '{type_name}'}}\n",
    )


def same(found: CheckedBatch, expected: CheckedBatch) -> bool:
    """The same rows (NaN equal to NaN), types and verdicts, however the rows are chunked."""
    return (
        all(
            getattr(found, part).schema == getattr(expected, part).schema
            and values_text(getattr(found, part)) == values_text(getattr(expected, part))
            for part in ("valid", "rejected")
        )
        and found.result == expected.result
    )


def values_text(table: pa.Table) -> list[str]:
    return [
        str(pa.concat_arrays([*column.chunks, pa.array([], column.type)]))
        for column in table.columns
    ]


def by_every_tier(batch: pa.Table, contract: TableContract) -> CheckedBatch:
    """The engine's answer, after checking every tier gives it (the polars tiers decline)."""
    checked = validate_batch(batch, contract)
    by_query = validate_with(Tier.DUCKDB_QUERY, batch, contract)
    assert by_query is not None
    assert same(by_query, checked)
    for tier in (Tier.AGGREGATE, Tier.POLARS_SPLIT):
        assert validate_with(tier, batch, contract) is None, tier
    slices = [batch.slice(0, 1), batch.slice(1)]
    streamed = validate_stream(slices, contract, batch.schema)
    assert same(streamed, checked)
    return checked


@pytest.mark.parametrize("case", CASES)
def test_a_typed_value_that_would_change_is_a_type_violation(case: str, tmp_path: Path) -> None:
    type_name, values, valid, rejected = CASES[case]
    contract = one_column(tmp_path, type_name)
    batch = pa.table({"v": values, "_line_number": pa.array(range(len(values)), pa.int64())})

    checked = by_every_tier(batch, contract)

    assert checked.valid["v"].to_pylist() == valid
    assert checked.rejected["_line_number"].to_pylist() == rejected  # kept as they arrived:
    assert checked.rejected[VIOLATIONS_COLUMN].to_pylist() == [["v_type"]] * len(rejected)
    original = values.take(pa.array(rejected, pa.int64()))
    assert str(checked.rejected["v"].combine_chunks()) == str(original)


def test_a_float_with_a_fraction_is_never_rounded_into_an_integer(tmp_path: Path) -> None:
    """The issue's example: 1.5 into an int64 column became 2."""
    contract = one_column(tmp_path, "int64")

    checked = validate_batch(pa.table({"v": pa.array([1.5], pa.float64())}), contract)

    assert checked.valid.num_rows == 0
    assert checked.rejected["v"].to_pylist() == [1.5]


@pytest.mark.parametrize("type_name", ["timestamp", "timestamp_tz"])
def test_text_with_a_fraction_of_a_microsecond_is_a_type_violation(
    type_name: str, tmp_path: Path
) -> None:
    """DuckDB alone drops the seventh digit of ``10:00:00.1234567``; zeros after six are exact."""
    contract = one_column(tmp_path, type_name)
    offset = "Z" if type_name == "timestamp_tz" else ""
    texts = [f"2026-01-05 10:00:00.1234567{offset}", f"2026-01-05 10:00:00.1234560{offset}"]

    checked = by_every_tier(pa.table({"v": texts}), contract)

    assert checked.rejected["v"].to_pylist() == texts[:1]
    (valid,) = checked.valid["v"].to_pylist()
    assert valid.replace(tzinfo=None) == dt.datetime(2026, 1, 5, 10, 0, 0, 123456)
