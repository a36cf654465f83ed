"""One quarantine shape on every layer: the contract's columns as text, then the envelope.

A curated table built from landing files hands the engine text; a product function hands it typed
values (decimals, dates, zoned timestamps). Whatever arrived, the quarantine keeps each contract
column as the text of the original value (exactly: a decimal with its scale, a timestamp in
ISO-8601 with its zone), so every quarantine of the lake has the same shape, and a row read back
from it casts to the value it had. A quarantine an earlier version wrote with typed columns is
converted to text, losslessly and keeping its row hashes, the first time a run adds to it.
"""

import datetime as dt
import decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.lake.committer import Committer, WriteMode
from platform_lib.lake.partitions import PartitionWrite, daily
from platform_lib.lake.publish.quarantine import row_hashes
from platform_lib.lake.publish.stream import publish_stream
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.reader import read_arrow
from platform_lib.quality.engine import validate_batch
from platform_lib.quality.violations import VIOLATIONS_COLUMN
from tests.conftest import MeshEnv, contract_for, publish_request

PRODUCT = TableKey.parse("shop/product/payouts")
CURATED = TableKey.parse("shop/curated/payouts")
PAYOUTS = """schema:
  - name: payouts
    physicalType: table
    properties:
      - {{name: id, logicalType: string, physicalType: string, required: true}}
      - name: amount
        logicalType: number
        physicalType: "decimal(38,2)"{bound}
      - {{name: day, logicalType: date, physicalType: date}}
      - {{name: paid_at, logicalType: timestamp, physicalType: timestamp_tz}}
      - {{name: local_at, logicalType: timestamp, physicalType: timestamp}}
      - {{name: n, logicalType: integer, physicalType: int64}}
      - {{name: ratio, logicalType: number, physicalType: float64}}
      - {{name: paid, logicalType: boolean, physicalType: boolean}}
"""
POSITIVE = """
        logicalTypeOptions: {minimum: 0}"""
CONTRACT_COLUMNS = ["id", "amount", "day", "paid_at", "local_at", "n", "ratio", "paid"]
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def product(tmp_path: Path) -> TableContract:
    """Amounts must not be negative."""
    return contract_for(tmp_path / "product", str(PRODUCT), PAYOUTS.format(bound=POSITIVE))


@pytest.fixture
def curated(tmp_path: Path) -> TableContract:
    """The same contract for a curated table."""
    return contract_for(tmp_path / "curated", str(CURATED), PAYOUTS.format(bound=POSITIVE))


@pytest.fixture
def any_amount(tmp_path: Path) -> TableContract:
    """The contract without the amount's bound: every row of the fixtures passes."""
    return contract_for(tmp_path / "any", str(PRODUCT), PAYOUTS.format(bound=""))


def typed_payouts() -> pa.Table:
    """What a product function returns: typed values, rows 2 and 3 with a negative amount."""
    return pa.table(
        {
            "id": ["p1", "p2", "p3", "p4", "p5"],
            "amount": pa.array(
                [
                    decimal.Decimal("1.50"),
                    decimal.Decimal("-0.05"),
                    decimal.Decimal("-1234.10"),
                    decimal.Decimal("0"),
                    None,
                ],
                pa.decimal128(38, 2),
            ),
            "day": [dt.date(2026, 3, 1), dt.date(2026, 3, 2), None, None, None],
            "paid_at": pa.array(
                [
                    dt.datetime(2026, 3, 1, 12, 0, tzinfo=PARIS),
                    dt.datetime(2026, 3, 2, 23, 30, 5, 120000, tzinfo=PARIS),
                    None,
                    None,
                    None,
                ],
                pa.timestamp("us", tz="Europe/Paris"),
            ),
            "local_at": [
                dt.datetime(2026, 3, 1, 9),
                dt.datetime(2026, 3, 2, 9, 0, 0, 7),
                None,
                None,
                None,
            ],
            "n": pa.array([1, 2, 3, 4, 5], pa.int64()),
            "ratio": [0.5, 0.1, 1e-7, None, None],
            "paid": [True, False, None, None, None],
            "_line_number": pa.array([1, 2, 3, 4, 5], pa.int64()),
        }
    )


def text_payouts() -> pa.Table:
    """What a curated table built from landing files returns: the same rows, as text."""
    return pa.table(
        {
            "id": ["p1", "p2", "p3", "p4", "p5"],
            "amount": ["1.50", "-0.05", "-1234.10", "0", None],
            "day": ["2026-03-01", "2026-03-02", None, None, None],
            "paid_at": [
                "2026-03-01T11:00:00+00:00",
                "2026-03-02T22:30:05.12+00:00",
                None,
                None,
                None,
            ],
            "local_at": ["2026-03-01 09:00:00", "2026-03-02 09:00:00.000007", None, None, None],
            "n": ["1", "2", "3", "4", "5"],
            "ratio": ["0.5", "0.1", "1e-7", None, None],
            "paid": ["true", "false", None, None, None],
            "_line_number": pa.array([1, 2, 3, 4, 5], pa.int64()),
        }
    )


def quarantine_of(key: TableKey, env: MeshEnv) -> pa.Table:
    return read_arrow(key.quarantine.uri(env.settings)).sort_by("_line_number")


def envelope_and_text(table: pa.Table) -> dict[str, str]:
    """Each column's type, by name."""
    return {field.name: str(field.type) for field in table.schema}


def test_a_product_quarantine_holds_the_contract_columns_as_text_like_a_curated_one(
    mesh_env: MeshEnv, product: TableContract, curated: TableContract
) -> None:
    settings = mesh_env.settings

    publish(publish_request(PRODUCT, product, settings), typed_payouts())
    publish(publish_request(CURATED, curated, settings), text_payouts())

    from_product, from_curated = quarantine_of(PRODUCT, mesh_env), quarantine_of(CURATED, mesh_env)
    assert envelope_and_text(from_product) == {
        **{name: "string" for name in CONTRACT_COLUMNS},
        "_line_number": "int64",
        VIOLATIONS_COLUMN: "list<element: string>",
        "run_id": "string",
        "row_hash": "string",
    }
    assert envelope_and_text(from_curated) == envelope_and_text(from_product)
    assert from_product.select(CONTRACT_COLUMNS).to_pylist() == [
        {
            "id": "p2",
            "amount": "-0.05",
            "day": "2026-03-02",
            "paid_at": "2026-03-02T23:30:05.120000+01:00",
            "local_at": "2026-03-02T09:00:00.000007",
            "n": "2",
            "ratio": "0.1",
            "paid": "false",
        },
        {
            "id": "p3",
            "amount": "-1234.10",
            "day": None,
            "paid_at": None,
            "local_at": None,
            "n": "3",
            "ratio": "1e-7",
            "paid": None,
        },
    ]


def test_the_quarantined_text_casts_back_to_the_values_that_arrived(
    mesh_env: MeshEnv, product: TableContract, any_amount: TableContract
) -> None:
    publish(publish_request(PRODUCT, product, mesh_env.settings), typed_payouts())
    kept = quarantine_of(PRODUCT, mesh_env).select([*CONTRACT_COLUMNS, "_line_number"])

    back = validate_batch(kept, any_amount)
    original = validate_batch(typed_payouts().slice(1, 2), any_amount)

    assert back.rejected.num_rows == 0
    assert back.valid.equals(original.valid)


def test_the_stream_quarantines_the_same_text_rows(
    mesh_env: MeshEnv, product: TableContract
) -> None:
    settings = mesh_env.settings
    other = TableKey.parse("shop/product/payouts_streamed")
    batch = typed_payouts()

    publish(publish_request(PRODUCT, product, settings), batch)
    streamed = publish_stream(
        publish_request(other, product, settings),
        pa.RecordBatchReader.from_batches(batch.schema, batch.to_batches(max_chunksize=1)),
        batch_rows=1,
    )

    assert streamed.committed
    assert quarantine_of(other, mesh_env).equals(quarantine_of(PRODUCT, mesh_env))


def write_typed_quarantine(key: TableKey, env: MeshEnv, rows: pa.Table, **envelope: str) -> None:
    """A quarantine as earlier versions wrote it: the rejected rows in the types they arrived."""
    kept = rows.append_column(VIOLATIONS_COLUMN, pa.array([["amount_range"]] * rows.num_rows))
    kept = kept.append_column("run_id", pa.array(["old-run"] * rows.num_rows))
    hashes = row_hashes(kept.drop_columns(["run_id"]))
    kept = kept.append_column("row_hash", hashes)
    for name, value in envelope.items():
        kept = kept.append_column(name, pa.array([value] * rows.num_rows))
    Committer.for_table(key.quarantine, env.settings).write_table(kept, mode=WriteMode.APPEND)


def test_a_typed_quarantine_of_an_earlier_version_is_converted_to_text_once(
    mesh_env: MeshEnv, product: TableContract
) -> None:
    settings = mesh_env.settings
    batch = typed_payouts()
    required_id = batch.schema.set(0, pa.field("id", pa.string(), nullable=False))
    write_typed_quarantine(PRODUCT, mesh_env, batch.slice(1, 2).cast(required_id))
    typed_hashes = read_arrow(PRODUCT.quarantine.uri(settings)).sort_by("_line_number")["row_hash"]

    for run in ("run-1", "run-2"):
        outcome = publish(
            publish_request(PRODUCT, product, settings, run_id=run, mode=WriteMode.APPEND), batch
        )
        assert outcome.committed, run

    kept = quarantine_of(PRODUCT, mesh_env)
    assert kept["run_id"].to_pylist() == ["old-run", "old-run"]  # the same rows: nothing twice
    assert kept["row_hash"].equals(typed_hashes)
    assert {kept.schema.field(name) for name in CONTRACT_COLUMNS} == {
        pa.field(name, pa.string()) for name in CONTRACT_COLUMNS
    }  # text, and a missing value can be kept
    assert kept["amount"].to_pylist() == ["-0.05", "-1234.10"]
    # the old rows read as UTC timestamps from the lake; their text keeps the zone they hold
    assert kept["paid_at"].to_pylist() == ["2026-03-02T22:30:05.120000+00:00", None]
    conversions = [
        entry for entry in DeltaTable(PRODUCT.quarantine.uri(settings)).history()
        if entry.get("mesh.quarantine") == "as-text"
    ]  # fmt: skip
    assert len(conversions) == 1


def test_a_typed_day_of_a_partitioned_quarantine_is_converted_before_a_day_is_replaced(
    mesh_env: MeshEnv, tmp_path: Path
) -> None:
    settings = mesh_env.settings
    key = PRODUCT
    contract = contract_for(tmp_path / "daily", str(key), PAYOUTS.format(bound=POSITIVE))
    partition = daily("day", start="2026-03-01")
    march_2 = typed_payouts().slice(1, 1)
    write_typed_quarantine(key, mesh_env, march_2, partition_key="2026-03-02")
    first = typed_payouts().slice(0, 1)
    march_1 = pa.concat_tables([first, first, first]).set_column(
        0, "id", pa.array(["p1", "p6", "p7"])
    )
    amounts = [decimal.Decimal("-2.00"), decimal.Decimal("1"), decimal.Decimal("2")]
    march_1 = march_1.set_column(1, "amount", pa.array(amounts, pa.decimal128(38, 2)))

    write = PartitionWrite(partition, dt.date(2026, 3, 1), "date")
    outcome = publish(publish_request(key, contract, settings, partition=write), march_1)

    assert outcome.committed
    kept = read_arrow(key.quarantine.uri(settings)).sort_by("partition_key")
    assert kept.select(["amount", "day", "partition_key"]).to_pylist() == [
        {"amount": "-2.00", "day": "2026-03-01", "partition_key": "2026-03-01"},
        {"amount": "-0.05", "day": "2026-03-02", "partition_key": "2026-03-02"},
    ]


def test_a_quarantine_with_a_required_text_column_takes_a_row_missing_its_value(
    mesh_env: MeshEnv, curated: TableContract
) -> None:
    settings = mesh_env.settings
    rows = text_payouts()
    required_id = rows.schema.set(0, pa.field("id", pa.string(), nullable=False))
    write_typed_quarantine(CURATED, mesh_env, rows.slice(1, 1).cast(required_id))
    without_id = rows.set_column(0, "id", pa.array([None, "p2", "p3", "p4", "p5"], pa.string()))
    without_id = pa.concat_tables([without_id, rows.slice(3, 2)])  # under the threshold

    outcome = publish(
        publish_request(CURATED, curated, settings, mode=WriteMode.APPEND), without_id
    )

    assert outcome.committed
    kept = quarantine_of(CURATED, mesh_env)
    assert kept.select(["id", "_line_number", VIOLATIONS_COLUMN]).to_pylist() == [
        {"id": None, "_line_number": 1, VIOLATIONS_COLUMN: ["id_required"]},
        {"id": "p2", "_line_number": 2, VIOLATIONS_COLUMN: ["amount_range"]},
        {"id": "p3", "_line_number": 3, VIOLATIONS_COLUMN: ["amount_range"]},
    ]
