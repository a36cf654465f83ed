"""Names and values that look like SQL stay data: quoted or bound, never formatted into a query."""

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from platform_lib.contracts.loader import load_contract
from platform_lib.conventions import TableKey
from platform_lib.lake.duckdb_inputs import mask_columns, register_input
from platform_lib.lake.partitions import daily
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.reader import read_arrow
from platform_lib.settings import MeshSettings
from platform_lib.sql import quote_literal
from tests.conftest import contract_for, publish_request, write_contract

HOSTILE = "we\"ird'; DROP TABLE batch; --"
"""A name closing both kinds of quote, then a second statement."""
HOSTILE_VALUE = "x'); DROP TABLE batch; --"


def settings_for(root: Path) -> MeshSettings:
    return MeshSettings(
        project_root=root,
        lake_root=str(root / "lake"),
        landing_root=root / "landing",
        dagster_home=root / "dagster",
    )


def test_hostile_values_are_validated_and_published_as_data(tmp_path: Path) -> None:
    contract = contract_for(
        tmp_path,
        "shop/curated/orders",
        f"""schema:
  - name: orders
    properties:
      - name: kind
        logicalType: string
        physicalType: string
        required: true
        quality:
          - id: known_kind
            type: library
            metric: invalidValues
            arguments:
              validValues: ['ok', '{HOSTILE_VALUE.replace("'", "''")}']
            mustBe: 0
      - {{name: amount, logicalType: integer, physicalType: int64}}
""",
    )
    batch = pa.table({"kind": ["ok", HOSTILE_VALUE, "other", None], "amount": ["1", "2", "3", "4"]})
    key = TableKey.parse("shop/curated/orders")

    outcome = publish(publish_request(key, contract, settings_for(tmp_path)), batch)

    assert outcome.committed
    published = read_arrow(key.uri(settings_for(tmp_path))).sort_by("amount")
    assert published["kind"].to_pylist() == ["ok", HOSTILE_VALUE]
    quarantine = read_arrow(key.quarantine.uri(settings_for(tmp_path)))
    assert sorted(map(str, quarantine["kind"].to_pylist())) == ["None", "other"]


def test_a_hostile_column_name_is_a_contract_finding(tmp_path: Path) -> None:
    path = write_contract(
        tmp_path,
        "shop/curated/orders",
        f"""schema:
  - name: orders
    properties:
      - name: '{HOSTILE.replace("'", "''")}'
        logicalType: string
        physicalType: string
""",
    )

    load = load_contract(path)

    assert load.contract is None
    assert [f.rule_id for f in load.findings] == ["column-name"]


def test_a_hostile_read_column_is_exposed_under_its_own_name() -> None:
    data = pa.table({HOSTILE: [1, 2], "other": [3, 4]})
    with duckdb.connect(":memory:") as connection:
        register_input(connection, "src", data, (HOSTILE,))
        rows = connection.sql("SELECT * FROM src").to_arrow_table()

    assert rows.column_names == [HOSTILE]
    assert rows[HOSTILE].to_pylist() == [1, 2]


def test_a_hostile_column_is_masked_like_any_other() -> None:
    masked = mask_columns(pa.table({HOSTILE: ["a", None], "n": [1, 2]}), None, {HOSTILE})

    assert masked.column_names == [HOSTILE, "n"]
    assert masked[HOSTILE].to_pylist()[1] is None
    assert len(masked[HOSTILE].to_pylist()[0]) == 64


def test_a_daily_partition_predicate_on_a_hostile_column_replaces_one_day(tmp_path: Path) -> None:
    uri = str(tmp_path / "days")
    days = [dt.date(2026, 1, 1), dt.date(2026, 1, 2)]
    write_deltalake(uri, pa.table({HOSTILE: days, "n": [1, 2]}))

    predicate = daily(HOSTILE, start="2026-01-01").predicate(dt.date(2026, 1, 1), "date")
    DeltaTable(uri).delete(predicate)

    assert read_arrow(uri).to_pylist() == [{HOSTILE: dt.date(2026, 1, 2), "n": 2}]


def test_a_hostile_value_is_one_literal() -> None:
    with duckdb.connect(":memory:") as connection:
        value = connection.sql(f"SELECT {quote_literal(HOSTILE_VALUE)}").fetchall()

    assert value == [(HOSTILE_VALUE,)]
