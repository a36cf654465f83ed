"""One quarantine receives rejected rows judged by every validation tier over time.

The engine picks a tier per batch (the polars aggregate for a clean typed batch, the polars split
for a typed batch with breakers, the DuckDB query where polars would judge a rule differently,
here a later version of the contract; the stream for large inputs), and a table's quarantine gets
the rejected rows of each run by a first append, then by MERGEs and empty commits. Whatever tier
judged a batch, its rejected rows fit the quarantine the others wrote: the contract's columns as
text, the envelope after them.
"""

from pathlib import Path

import pyarrow as pa
import pytest

from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.lake.committer import WriteMode
from platform_lib.lake.publish.stream import publish_stream
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.reader import read_arrow
from platform_lib.quality.engine import Tier, validate_with
from platform_lib.quality.violations import VIOLATIONS_COLUMN
from tests.conftest import MeshEnv, contract_for, publish_request

KEY = TableKey.parse("shop/curated/orders")
ORDERS = """schema:
  - name: orders
    physicalType: table
    properties:
      - name: id
        logicalType: string
        physicalType: string
        required: true{pattern}
      - {{name: n, logicalType: integer, physicalType: int64}}
"""
CASE_BLIND = """
        logicalTypeOptions: {pattern: "(?i)[a-z][0-9]"}"""
"""A pattern with a flag: polars reads it unlike DuckDB's RE2, so the DuckDB query judges it."""


@pytest.fixture
def contract(tmp_path: Path) -> TableContract:
    """Judged by the polars tiers."""
    return contract_for(tmp_path / "polars", str(KEY), ORDERS.format(pattern=""))


@pytest.fixture
def case_blind(tmp_path: Path) -> TableContract:
    """A later version of the contract, with a rule only the DuckDB query judges."""
    return contract_for(tmp_path / "query", str(KEY), ORDERS.format(pattern=CASE_BLIND))


ORDER_SCHEMA = pa.schema([pa.field("id", pa.string()), pa.field("n", pa.int64())])


def orders(ids: list[str | None], n: list[int]) -> pa.Table:
    """Rows of the contract's types, as a curated table's asset returns them."""
    return pa.table({"id": ids, "n": n}, schema=ORDER_SCHEMA)


def first_tier(batch: pa.Table, contract: TableContract) -> Tier:
    """The tier ``validate_batch`` takes for ``batch``: the first that can judge it."""
    return next(tier for tier in Tier if validate_with(tier, batch, contract) is not None)


def test_rows_rejected_by_every_tier_go_to_one_quarantine(
    mesh_env: MeshEnv, contract: TableContract, case_blind: TableContract
) -> None:
    settings = mesh_env.settings

    def publish_by(tier: Tier, run_id: str, rules: TableContract, batch: pa.Table) -> None:
        assert first_tier(batch, rules) is tier, run_id
        outcome = publish(
            publish_request(KEY, rules, settings, run_id=run_id, mode=WriteMode.APPEND), batch
        )
        assert outcome.committed, run_id

    # the first publish creates the quarantine; then a MERGE, an empty commit
    publish_by(Tier.DUCKDB_QUERY, "1-query", case_blind, orders(["q1", "bad"], [1, 2]))
    publish_by(Tier.POLARS_SPLIT, "2-polars-split", contract, orders(["p1", None], [3, 4]))
    publish_by(Tier.AGGREGATE, "3-aggregate", contract, orders(["c1", "c2"], [5, 6]))
    streamed = publish_stream(
        publish_request(KEY, contract, settings, run_id="4-stream", mode=WriteMode.APPEND),
        pa.RecordBatchReader.from_batches(ORDER_SCHEMA, orders([None, "s2"], [7, 8]).to_batches()),
    )
    assert streamed.committed
    publish_by(Tier.DUCKDB_QUERY, "5-query", case_blind, orders(["q5", "q 5"], [9, 10]))

    quarantine = read_arrow(KEY.quarantine.uri(settings)).sort_by("run_id")
    assert quarantine.select(["run_id", "id", "n", VIOLATIONS_COLUMN]).to_pylist() == [
        {"run_id": "1-query", "id": "bad", "n": "2", VIOLATIONS_COLUMN: ["id_pattern"]},
        {"run_id": "2-polars-split", "id": None, "n": "4", VIOLATIONS_COLUMN: ["id_required"]},
        {"run_id": "4-stream", "id": None, "n": "7", VIOLATIONS_COLUMN: ["id_required"]},
        {"run_id": "5-query", "id": "q 5", "n": "10", VIOLATIONS_COLUMN: ["id_pattern"]},
    ]
    published = read_arrow(KEY.uri(settings)).sort_by("n")["id"].to_pylist()
    assert published == ["q1", "p1", "c1", "c2", "s2", "q5"]
