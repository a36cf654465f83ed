"""Streaming write-audit-publish: the same tables, quarantines and verdicts as the whole-table path,
nothing committed when the end of the stream blocks, and the automatic choice between the two."""

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.committer import WriteMode
from platform_lib.lake.partitions import PartitionWrite, daily
from platform_lib.lake.publish import publish_rows
from platform_lib.lake.publish.outcome import PublishOutcome, WritePath
from platform_lib.lake.publish.stream import publish_stream, read_ahead
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.reader import read_arrow, table_state
from platform_lib.quality.engine import validate_batch
from platform_lib.quality.stream import KeySet, rebatch, row_keys, validate_stream
from tests.conftest import MeshEnv, contract_for, publish_request

WHOLE = TableKey.parse("shop/curated/orders")
STREAM = TableKey.parse("shop/curated/orders_streamed")
ORDERS = """schema:
  - name: orders
    physicalType: table
    quality:
      - {{id: has_rows, metric: rowCount, mustBeGreaterThan: {min_rows}, severity: error}}
      - id: few_large
        type: sql
        query: SELECT count(*) FROM ${{table}} WHERE n > {large}
        mustBe: 0
        severity: {sql_severity}
    properties:
      - name: id
        logicalType: string
        physicalType: string
        required: true
        unique: true
        primaryKey: true
        logicalTypeOptions: {{pattern: "^o[0-9]+$"}}
      - name: n
        logicalType: integer
        physicalType: int64
        unique: true
        logicalTypeOptions: {{minimum: 0}}
      - name: amount
        logicalType: number
        physicalType: decimal(10,2)
        quality:
          - {{id: amount_repeats, metric: duplicateValues, mustBeLessThan: 90, unit: percent}}
      - name: kind
        logicalType: string
        physicalType: string
        quality:
          - id: kind_known
            metric: invalidValues
            arguments: {{validValues: [a, b]}}
            mustBeLessThan: 10
            unit: percent
          - {{id: kind_present, metric: nullValues, mustBeLessThan: 5}}
      - name: booked_at
        logicalType: timestamp
        physicalType: timestamp_tz
"""
DEFECTS = (
    "null_id",
    "repeated_id",
    "bad_id",
    "n_not_a_number",
    "negative_n",
    "repeated_n",
    "amount_not_a_number",
    "no_offset",
)


def orders_contract(
    folder: Path, *, min_rows: int = 0, large: int = 10**9, sql_severity: str = "warning"
) -> TableContract:
    body = ORDERS.format(min_rows=min_rows, large=large, sql_severity=sql_severity)
    return contract_for(folder, str(WHOLE), body)  # the streamed twin publishes by it too


@pytest.fixture
def contract(tmp_path: Path) -> TableContract:
    return orders_contract(tmp_path)


def orders(rows: int, *, bad_share: float = 0.0, seed: int = 7, start: int = 0) -> pa.Table:
    """Orders as text (the contract casts them), ``bad_share`` of them with one defect each;
    repeats point at any earlier row, so they cross batch boundaries."""
    draw = random.Random(seed)
    ids, ns, amounts, kinds, times = [], [], [], [], []
    for row in range(start, start + rows):
        defect = draw.choice(DEFECTS) if draw.random() < bad_share else None
        earlier = draw.randrange(start, row) if row > start else row
        ids.append(
            None
            if defect == "null_id"
            else f"o{earlier}"
            if defect == "repeated_id"
            else "x"
            if defect == "bad_id"
            else f"o{row}"
        )
        n = {"n_not_a_number": "n/a", "negative_n": "-1", "repeated_n": str(earlier * 3)}
        ns.append(n.get(defect or "", str(row * 3)))
        amount = f"{draw.randrange(1, 500)}.{draw.randrange(100):02d}"
        amounts.append("ten" if defect == "amount_not_a_number" else amount)
        kinds.append(draw.choice(["a", "a", "b", "c"]) if draw.random() > 0.02 else None)
        stamp = f"2026-03-01T{row % 24:02d}:00:00"
        times.append(stamp if defect == "no_offset" else stamp + "+02:00")
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "n": pa.array(ns, pa.string()),
            "amount": pa.array(amounts, pa.string()),
            "kind": pa.array(kinds, pa.string()),
            "booked_at": pa.array(times, pa.string()),
            "_line_number": pa.array(range(start + 1, start + rows + 1), pa.int64()),
        }
    )


def typed(table: pa.Table, contract: TableContract) -> pa.Table:
    """The valid orders already in the contract's types (each batch settled by the aggregate)."""
    valid = validate_batch(table, contract).valid
    return valid.append_column("_line_number", table["_line_number"].slice(0, valid.num_rows))


def reader(table: pa.Table, rows_per_batch: int) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(
        table.schema, table.to_batches(max_chunksize=rows_per_batch)
    )


def dataset(name: str, contract: TableContract) -> pa.Table:
    if name == "clean":
        return orders(600)
    if name == "five_percent_bad":
        return orders(600, bad_share=0.05)
    # Typed rows where rows 300-349 repeat the ids and numbers of rows 250-299.
    first, second = typed(orders(300), contract), typed(orders(300, start=250), contract)
    second = second.set_column(5, "_line_number", pa.array(range(301, 601), pa.int64()))
    return pa.concat_tables([first, second])


DATASETS = ["clean", "five_percent_bad", "typed_with_repeats"]


# -- the validator -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("rows_per_batch", [1, 7, 64, 1000])
def test_a_stream_validates_exactly_as_the_whole_table(
    contract: TableContract, name: str, rows_per_batch: int
) -> None:
    table = dataset(name, contract)
    if rows_per_batch == 1:
        table = table.slice(0, 60)

    whole = validate_batch(table, contract)
    streamed = validate_stream(
        table.to_batches(max_chunksize=rows_per_batch), contract, table.schema
    )

    assert streamed.valid.to_pylist() == whole.valid.to_pylist()
    assert streamed.valid.schema == whole.valid.schema
    assert streamed.rejected.to_pylist() == whole.rejected.to_pylist()
    assert streamed.result == whole.result


def test_repeats_across_batches_are_rejected_with_their_other_rules_in_rule_order(
    contract: TableContract,
) -> None:
    table = pa.table(
        {
            "id": ["o1", "o2", "o2", "o3", "o1", "o4"],
            "n": ["1", "2", "3", "4", "x", "1"],
            "amount": ["1.00"] * 6,
            "kind": ["a"] * 6,
            "booked_at": ["2026-03-01T10:00:00Z"] * 6,
        }
    )

    streamed = validate_stream(rebatch(table.to_batches(), 2), contract, table.schema)

    assert streamed.valid["id"].to_pylist() == ["o1", "o2", "o3"]
    assert streamed.rejected.select(["id", "n", "violated_rules"]).to_pylist() == [
        {"id": "o2", "n": "3", "violated_rules": ["id_unique"]},
        {"id": "o1", "n": "x", "violated_rules": ["id_unique", "n_type"]},
        {"id": "o4", "n": "1", "violated_rules": ["n_unique"]},
    ]
    assert streamed.rejected.to_pylist() == validate_batch(table, contract).rejected.to_pylist()


def test_values_published_elsewhere_break_uniqueness_as_in_the_whole_table(
    contract: TableContract,
) -> None:
    table = orders(200, bad_share=0.05)
    taken = {"id": pa.array(["o3", "o150", "zz"]), "n": pa.array([0, 33], pa.int64())}

    whole = validate_batch(table, contract, taken=taken)
    streamed = validate_stream(
        table.to_batches(max_chunksize=16), contract, table.schema, taken=taken
    )

    assert streamed.rejected.to_pylist() == whole.rejected.to_pylist()
    assert streamed.result == whole.result


def test_key_sets_answer_like_a_set_and_tell_128_bit_keys_apart_by_both_halves() -> None:
    draw = random.Random(3)
    keys, expected = KeySet(), set()
    for _ in range(40):
        values = pl.Series([f"v{draw.randrange(3000)}" for _ in range(draw.choice([1, 50, 400]))])
        batch_keys = row_keys(values)
        by_key = dict(zip(batch_keys.to_list(), values.to_list(), strict=True))
        probe = batch_keys.sort()
        found = keys.contains(probe)
        assert found.to_list() == [by_key[k] in expected for k in probe.to_list()]
        keys.add(probe.filter(~found))
        expected |= set(values.to_list())
    assert len(keys) == len(expected)

    high = 12345 * 2**64
    halves = KeySet()
    halves.add(pl.Series([high + 1, high + 3], dtype=pl.UInt128))
    probe = pl.Series([high + 1, high + 2, high + 4], dtype=pl.UInt128)
    assert halves.contains(probe).to_list() == [True, False, False]


def test_integer_like_keys_are_the_values_themselves() -> None:
    assert row_keys(pl.Series([3, None, -7])).to_list() == [3, None, -7]
    assert row_keys(pl.Series([dt.date(1970, 1, 3)])).to_list() == [2]
    decimals = pl.from_arrow(pa.array([Decimal("1.00"), Decimal("2.5")], pa.decimal128(10, 2)))
    assert isinstance(decimals, pl.Series)
    assert row_keys(decimals).to_list() == [100, 250]


# -- publishing ----------------------------------------------------------------------------------


def published(env: MeshEnv, key: TableKey) -> list[dict[str, object]]:
    return sorted(read_arrow(key.uri(env.settings)).to_pylist(), key=lambda row: str(row["id"]))


def quarantined(env: MeshEnv, key: TableKey) -> list[dict[str, object]]:
    uri = key.quarantine.uri(env.settings)
    if table_state(uri) is None:
        return []
    return read_arrow(uri).sort_by("_line_number").to_pylist()


def assert_same_outcome(streamed: PublishOutcome, whole: PublishOutcome) -> None:
    assert streamed.validation == whole.validation
    assert streamed.committed == whole.committed
    assert streamed.table_rows == whole.table_rows
    assert (streamed.quarantined is None) == (whole.quarantined is None)
    if streamed.quarantined and whole.quarantined:
        assert streamed.quarantined.rows_written == whole.quarantined.rows_written
    if streamed.published and whole.published:
        assert streamed.published.rows_written == whole.published.rows_written


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("mode", [WriteMode.OVERWRITE, WriteMode.APPEND])
def test_streaming_publishes_what_the_whole_table_path_publishes(
    mesh_env: MeshEnv, contract: TableContract, name: str, mode: WriteMode
) -> None:
    settings = mesh_env.settings
    second = orders(100, bad_share=0.1, seed=9, start=5000)
    if name == "typed_with_repeats":  # both runs typed (the quarantine keeps text either way)
        second = typed(second, contract)
    runs = [dataset(name, contract), second]
    for n, table in enumerate(runs):
        run = f"run-{n}"
        whole = publish(publish_request(WHOLE, contract, settings, mode=mode, run_id=run), table)
        streamed = publish_stream(
            publish_request(STREAM, contract, settings, mode=mode, run_id=run),
            reader(table, 37),
            batch_rows=50,
        )

        assert streamed.path is WritePath.STREAM and streamed.batches > 1
        assert_same_outcome(streamed, whole)
        assert published(mesh_env, STREAM) == published(mesh_env, WHOLE)
        assert quarantined(mesh_env, STREAM) == quarantined(mesh_env, WHOLE)
    assert DeltaTable(STREAM.uri(settings)).history(1)[0]["mesh.run_id"] == "run-1"


def test_appending_the_same_rejects_again_adds_nothing_to_the_quarantine(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    table = orders(120, bad_share=0.2)
    for run in ("run-1", "run-2"):
        publish_stream(
            publish_request(STREAM, contract, mesh_env.settings, mode=WriteMode.APPEND, run_id=run),
            reader(table, 25),
        )

    rejects = quarantined(mesh_env, STREAM)
    assert rejects and {row["run_id"] for row in rejects} == {"run-1"}


@pytest.mark.parametrize("blocker", ["has_rows", "few_large", "quarantine_threshold"])
def test_a_stream_blocked_at_its_end_commits_nothing(
    mesh_env: MeshEnv, tmp_path: Path, blocker: str
) -> None:
    settings = mesh_env.settings
    passing = orders_contract(tmp_path / "passing", large=5000, sql_severity="error")
    publish_stream(
        publish_request(STREAM, passing, settings, mode=WriteMode.APPEND),
        reader(orders(100, bad_share=0.1), 30),
    )
    table_before = table_state(STREAM.uri(settings))
    quarantine_before = table_state(STREAM.quarantine.uri(settings))
    files_before = DeltaTable(STREAM.uri(settings)).file_uris()
    assert table_before is not None and quarantine_before is not None
    contract = orders_contract(
        tmp_path / "blocking",
        min_rows=1000 if blocker == "has_rows" else 0,
        large=3500 if blocker == "few_large" else 10**9,
        sql_severity="error",
    )
    rows = orders(400, bad_share=0.6 if blocker == "quarantine_threshold" else 0.05, start=1000)

    outcome = publish_stream(
        publish_request(STREAM, contract, settings, mode=WriteMode.APPEND, run_id="run-2"),
        reader(rows, 30),
        batch_rows=60,
    )

    assert outcome.validation == validate_batch(rows, contract).result
    assert [r.rule_id for r in outcome.validation.failed_blocking] == [blocker]
    assert not outcome.committed and outcome.quarantined is None
    assert table_state(STREAM.uri(settings)) == table_before
    assert table_state(STREAM.quarantine.uri(settings)) == quarantine_before
    assert "run-2" not in {row["run_id"] for row in quarantined(mesh_env, STREAM)}
    assert DeltaTable(STREAM.uri(settings)).file_uris() == files_before


def test_a_stream_with_a_wrong_schema_writes_nothing_and_counts_every_row(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    table = orders(90).drop_columns(["kind"])

    outcome = publish_stream(
        publish_request(STREAM, contract, mesh_env.settings),
        reader(table, 20),
    )

    assert outcome.validation == validate_batch(table, contract).result
    assert outcome.validation.rows_in == 90 and not outcome.committed
    assert table_state(STREAM.uri(mesh_env.settings)) is None


def test_an_empty_stream_is_judged_like_an_empty_table(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    empty = orders(0)

    outcome = publish_stream(
        publish_request(STREAM, contract, mesh_env.settings),
        reader(empty, 10),
    )

    assert outcome.validation == validate_batch(empty, contract).result
    assert not outcome.committed  # has_rows blocks


def test_replacing_partitions_from_a_stream_needs_a_predicate(
    mesh_env: MeshEnv, contract: TableContract
) -> None:
    with pytest.raises(MeshError, match="predicate"):
        publish_stream(
            publish_request(STREAM, contract, mesh_env.settings, mode=WriteMode.REPLACE_PARTITIONS),
            reader(orders(10), 5),
        )
    with pytest.raises(MeshError, match="mode is overwrite"):
        publish_stream(
            publish_request(STREAM, contract, mesh_env.settings),
            reader(orders(10), 5),
            predicate="kind = 'a'",
        )
    assert table_state(STREAM.uri(mesh_env.settings)) is None


BOOKINGS = """schema:
  - name: bookings
    physicalType: table
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true, unique: true}
      - {name: day, logicalType: date, physicalType: date, required: true}
      - {name: amount, logicalType: integer, physicalType: int64}
"""


def bookings(day: dt.date, ids: list[str]) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "day": pa.array([day] * len(ids), pa.date32()),
            "amount": pa.array(range(len(ids)), pa.int64()),
        }
    )


def test_a_predicate_replaces_one_partition_of_the_table(mesh_env: MeshEnv, tmp_path: Path) -> None:
    key = TableKey.parse("shop/curated/bookings")
    contract = contract_for(tmp_path, str(key), BOOKINGS)
    settings = mesh_env.settings
    day_1, day_2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
    start = pa.concat_tables([bookings(day_1, ["a", "b"]), bookings(day_2, ["c"])])
    publish(publish_request(key, contract, settings, run_id="r1", partition_by=("day",)), start)

    outcome = publish_stream(
        publish_request(
            key,
            contract,
            settings,
            mode=WriteMode.REPLACE_PARTITIONS,
            run_id="r2",
            partition_by=("day",),
        ),
        reader(bookings(day_1, ["d", "e", "f"]), 1),
        predicate="day = '2026-03-01'",
    )

    assert outcome.committed and outcome.table_rows == 4
    rows = read_arrow(key.uri(settings)).sort_by("id")
    assert rows["id"].to_pylist() == ["c", "d", "e", "f"]


def test_daily_partitions_stream_as_they_publish_whole(mesh_env: MeshEnv, tmp_path: Path) -> None:
    whole_key, stream_key = (
        TableKey.parse("shop/curated/bookings"),
        TableKey.parse("shop/curated/bookings_streamed"),
    )
    contract = contract_for(tmp_path, str(whole_key), BOOKINGS)
    settings = mesh_env.settings
    partition = daily("day", start="2026-03-01")
    days = {
        dt.date(2026, 3, 1): ["a", "b", "b", "c"],
        dt.date(2026, 3, 2): ["d", "a", "e", "e", "f"],
        dt.date(2026, 3, 3): ["f", "g", "i", "j"],
    }
    for n, (day, ids) in enumerate(days.items()):
        batch = bookings(day, ids)
        if n == 2:  # a row of another day
            batch = pa.concat_tables([batch, bookings(dt.date(2026, 3, 1), ["h"])])
        write = PartitionWrite(partition, day, "date")
        request = publish_request(whole_key, contract, settings, run_id=f"r{n}", partition=write)
        whole = publish(request, batch)
        streamed = publish_stream(replace(request, key=stream_key), reader(batch, 2), batch_rows=2)
        assert_same_outcome(streamed, whole)

    for key in (whole_key, stream_key):
        rows = read_arrow(key.uri(settings)).sort_by("id")
        assert rows["id"].to_pylist() == ["a", "b", "c", "d", "e", "f", "g", "i", "j"]
    assert quarantined_by_id(mesh_env, stream_key) == quarantined_by_id(mesh_env, whole_key)


def quarantined_by_id(env: MeshEnv, key: TableKey) -> list[tuple[object, ...]]:
    table = read_arrow(key.quarantine.uri(env.settings))
    names = ["id", "day", "violated_rules", "run_id", "row_hash", "partition_key"]
    return sorted(tuple(str(row[n]) for n in names) for row in table.select(names).to_pylist())


def test_read_ahead_hands_over_items_errors_and_an_early_stop() -> None:
    assert list(read_ahead(iter(range(5)))) == [0, 1, 2, 3, 4]

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("bad batch")

    with pytest.raises(ValueError, match="bad batch"):
        list(read_ahead(failing()))
    produced: list[int] = []

    def endless() -> Iterator[int]:
        for n in itertools.count():
            produced.append(n)
            yield n

    ahead = read_ahead(endless(), depth=2)
    assert [next(ahead), next(ahead)] == [0, 1]
    ahead.close()  # the producer stops instead of running on
    assert len(produced) <= 5


# -- the automatic choice ------------------------------------------------------------------------


def route(
    env: MeshEnv, contract: TableContract, rows: pa.Table | pa.RecordBatchReader, threshold: int
) -> PublishOutcome:
    return publish_rows(
        publish_request(STREAM, contract, env.settings),
        rows,
        stream_threshold_rows=threshold,
        batch_rows=40,
    )


@pytest.mark.parametrize(
    ("as_reader", "threshold", "path"),
    [
        (False, 200, WritePath.WHOLE_TABLE),
        (False, 199, WritePath.STREAM),
        (True, 200, WritePath.WHOLE_TABLE),
        (True, 199, WritePath.STREAM),
        (True, 30, WritePath.STREAM),
    ],
)
def test_publish_rows_chooses_the_path_by_size_and_publishes_every_row(
    mesh_env: MeshEnv, contract: TableContract, as_reader: bool, threshold: int, path: WritePath
) -> None:
    table = orders(200, bad_share=0.05)
    expected = validate_batch(table, contract)

    outcome = route(mesh_env, contract, reader(table, 17) if as_reader else table, threshold)

    assert outcome.path is path
    assert outcome.validation == expected.result
    assert published(mesh_env, STREAM) == sorted(
        expected.valid.to_pylist(), key=lambda row: str(row["id"])
    )
    assert len(quarantined(mesh_env, STREAM)) == expected.rejected.num_rows


def test_publish_rows_streams_whenever_a_predicate_is_given(
    mesh_env: MeshEnv, tmp_path: Path
) -> None:
    key = TableKey.parse("shop/curated/bookings")
    contract = contract_for(tmp_path, str(key), BOOKINGS)

    outcome = publish_rows(
        publish_request(
            key,
            contract,
            mesh_env.settings,
            mode=WriteMode.REPLACE_PARTITIONS,
            run_id="r1",
            partition_by=("day",),
        ),
        bookings(dt.date(2026, 3, 1), ["a"]),
        predicate="day = '2026-03-01'",
    )

    assert outcome.path is WritePath.STREAM and outcome.committed
