"""ODCS ``logicalTypeOptions`` the engine enforces, on every tier: string lengths, bounds."""

from pathlib import Path

import pyarrow as pa

from platform_lib.quality.engine import Tier, validate_batch, validate_with
from platform_lib.quality.stream import validate_stream
from platform_lib.quality.violations import VIOLATIONS_COLUMN
from tests.conftest import contract_for

CODES = """schema:
  - name: codes
    physicalType: table
    properties:
      - name: code
        logicalType: string
        physicalType: string
        logicalTypeOptions: {minLength: 2, maxLength: 3}
      - name: note
        logicalType: string
        physicalType: string
        logicalTypeOptions: {maxLength: 1}
"""


def test_min_length_and_max_length_are_enforced_in_characters(tmp_path: Path) -> None:
    """minLength and maxLength were accepted and ignored: every value was published."""
    contract = contract_for(tmp_path, "shop/curated/codes", CODES)
    batch = pa.table(
        {
            "code": ["SE", "S", "SEK", "SEKX", "日本", None, "e\u0301x"],
            "note": ["a", "ab", "", "é", None, "x", "y"],
            "_line_number": pa.array(range(7), pa.int64()),
        }
    )

    checked = validate_batch(batch, contract)

    assert checked.valid["code"].to_pylist() == ["SE", "SEK", "日本", None, "e\u0301x"]
    assert checked.rejected.select(["_line_number", VIOLATIONS_COLUMN]).to_pylist() == [
        {"_line_number": 1, VIOLATIONS_COLUMN: ["code_length", "note_length"]},
        {"_line_number": 3, VIOLATIONS_COLUMN: ["code_length"]},
    ]
    results = {r.rule_id: r.failed_rows for r in checked.result.rules}
    assert (results["code_length"], results["note_length"]) == (2, 1)


def test_every_tier_judges_lengths_alike(tmp_path: Path) -> None:
    contract = contract_for(tmp_path, "shop/curated/codes", CODES)
    batch = pa.table(
        {
            "code": pa.array(["SE", "S", "SEK", "SEKX", "日本", None] * 50, pa.string()),
            "note": pa.array(["a", "bc", None, "é", "", "x"] * 50, pa.string()),
        }
    )
    clean = batch.filter(pa.array([True, False, True, False, True, True] * 50))
    assert validate_with(Tier.AGGREGATE, batch, contract) is None  # it has breakers

    by_query = validate_with(Tier.DUCKDB_QUERY, batch, contract)
    in_polars = validate_with(Tier.POLARS_SPLIT, batch, contract)
    streamed = validate_stream([batch.slice(0, 100), batch.slice(100)], contract, batch.schema)
    assert by_query is not None and in_polars is not None
    assert in_polars.valid.equals(by_query.valid) and in_polars.result == by_query.result
    assert in_polars.rejected.equals(by_query.rejected)
    assert streamed.result == by_query.result
    assert by_query.rejected.num_rows == 100
    aggregate = validate_with(Tier.AGGREGATE, clean, contract)
    assert aggregate is not None and aggregate.valid.num_rows == 200
