"""Daily partitions: one day replaced per publish, checks and quarantine scoped to it, uniqueness
kept across days, and the same content as publishing the whole table at once."""

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.partitions import PARTITION_RULE, PartitionWrite, daily, days_in
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.reader import read_arrow, table_state
from tests.conftest import MeshEnv, contract_for, publish_request

KEY = TableKey.parse("shop/curated/bookings")
BOOKINGS = """schema:
  - name: bookings
    physicalType: table
    properties:
      - {{name: id, logicalType: string, physicalType: string, required: true, unique: true}}
      - {{name: at, logicalType: {logical}, physicalType: {physical}, required: true}}
      - {{name: amount, logicalType: integer, physicalType: int64}}
"""
DAY_1, DAY_2, DAY_3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
PARTITION = daily("at", start="2026-03-01")


@pytest.fixture(params=["date", "timestamp_tz"])
def type_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def contract(tmp_path: Path, type_name: str) -> TableContract:
    logical = "date" if type_name == "date" else "timestamp"
    return contract_for(tmp_path, str(KEY), BOOKINGS.format(logical=logical, physical=type_name))


def at(day: dt.date, type_name: str, hour: int = 12) -> object:
    return day if type_name == "date" else dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def rows(type_name: str, *entries: tuple[str, dt.date, int]) -> pa.Table:
    arrow_type = pa.date32() if type_name == "date" else pa.timestamp("us", "UTC")
    return pa.table(
        {
            "id": pa.array([e[0] for e in entries], pa.string()),
            "at": pa.array([at(e[1], type_name) for e in entries], arrow_type),
            "amount": pa.array([e[2] for e in entries], pa.int64()),
        }
    )


def publish_day(
    env: MeshEnv, contract: TableContract, type_name: str, day: dt.date, batch: pa.Table, run: str
) -> None:
    outcome = publish(
        publish_request(
            KEY,
            contract,
            env.settings,
            run_id=run,
            partition=PartitionWrite(PARTITION, day, type_name),
        ),
        batch,
    )
    assert outcome.committed, outcome.validation


def published(env: MeshEnv) -> list[tuple[str, int]]:
    table = read_arrow(KEY.uri(env.settings))
    return sorted(zip(table["id"].to_pylist(), table["amount"].to_pylist(), strict=True))


def quarantined(env: MeshEnv) -> list[tuple[str, str, tuple[str, ...]]]:
    uri = KEY.quarantine.uri(env.settings)
    if table_state(uri) is None:
        return []
    table = read_arrow(uri)
    return sorted(
        zip(
            table["id"].to_pylist(),
            table["partition_key"].to_pylist(),
            [tuple(v) for v in table["violated_rules"].to_pylist()],
            strict=True,
        )
    )


def test_a_day_is_replaced_and_the_other_days_are_untouched(
    mesh_env: MeshEnv, contract: TableContract, type_name: str
) -> None:
    publish_day(mesh_env, contract, type_name, DAY_1, rows(type_name, ("a", DAY_1, 1)), "r1")
    publish_day(mesh_env, contract, type_name, DAY_2, rows(type_name, ("b", DAY_2, 2)), "r2")
    version = table_state(KEY.uri(mesh_env.settings))

    publish_day(
        mesh_env,
        contract,
        type_name,
        DAY_1,
        rows(type_name, ("a", DAY_1, 10), ("c", DAY_1, 3)),
        "r3",
    )

    assert published(mesh_env) == [("a", 10), ("b", 2), ("c", 3)]
    after = table_state(KEY.uri(mesh_env.settings))
    assert version is not None and after is not None and after.version == version.version + 1


def test_rows_of_another_day_are_quarantined_not_written_elsewhere(
    mesh_env: MeshEnv, contract: TableContract, type_name: str
) -> None:
    publish_day(mesh_env, contract, type_name, DAY_2, rows(type_name, ("b", DAY_2, 2)), "r1")

    publish_day(
        mesh_env,
        contract,
        type_name,
        DAY_1,
        rows(
            type_name,
            ("a", DAY_1, 1),
            ("a2", DAY_1, 1),
            ("a3", DAY_1, 1),
            ("late", DAY_2, 9),
            ("early", DAY_3, 9),
        ),
        "r2",
    )

    assert published(mesh_env) == [("a", 1), ("a2", 1), ("a3", 1), ("b", 2)]
    assert quarantined(mesh_env) == [
        ("early", "2026-03-01", (PARTITION_RULE,)),
        ("late", "2026-03-01", (PARTITION_RULE,)),
    ]


def test_a_unique_key_stays_unique_across_days(
    mesh_env: MeshEnv, contract: TableContract, type_name: str
) -> None:
    publish_day(mesh_env, contract, type_name, DAY_1, rows(type_name, ("a", DAY_1, 1)), "r1")

    publish_day(
        mesh_env,
        contract,
        type_name,
        DAY_2,
        rows(type_name, ("a", DAY_2, 2), ("b", DAY_2, 3)),
        "r2",
    )
    # Re-writing day 1 with its own key again is no clash: day 1 is being replaced.
    publish_day(mesh_env, contract, type_name, DAY_1, rows(type_name, ("a", DAY_1, 5)), "r3")

    assert published(mesh_env) == [("a", 5), ("b", 3)]
    assert quarantined(mesh_env) == [("a", "2026-03-02", ("id_unique",))]


def test_a_rerun_after_a_fix_replaces_only_that_days_quarantine(
    mesh_env: MeshEnv, contract: TableContract, type_name: str
) -> None:
    bad_day_1 = rows(type_name, ("a", DAY_1, 1), ("a2", DAY_1, 1), ("x", DAY_3, 1))
    publish_day(mesh_env, contract, type_name, DAY_1, bad_day_1, "r1")
    bad_day_2 = rows(type_name, ("b", DAY_2, 1), ("b2", DAY_2, 1), ("y", DAY_3, 1))
    publish_day(mesh_env, contract, type_name, DAY_2, bad_day_2, "r2")

    assert len(quarantined(mesh_env)) == 2

    publish_day(mesh_env, contract, type_name, DAY_1, rows(type_name, ("a", DAY_1, 1)), "r3")

    assert quarantined(mesh_env) == [("y", "2026-03-02", (PARTITION_RULE,))]


def test_days_written_one_by_one_publish_what_the_whole_table_publishes(
    mesh_env: MeshEnv, contract: TableContract, type_name: str
) -> None:
    days = {
        DAY_1: [("a", DAY_1, 1), ("b", DAY_1, 2), ("b", DAY_1, 3)],
        DAY_2: [("c", DAY_2, 4), ("a", DAY_2, 5), ("d", DAY_2, 6)],
        DAY_3: [("e", DAY_3, 7), ("d", DAY_3, 8)],
    }
    for n, (day, entries) in enumerate(days.items()):
        publish_day(mesh_env, contract, type_name, day, rows(type_name, *entries), f"r{n}")
    by_day, by_day_rejects = published(mesh_env), quarantined(mesh_env)
    whole_key = TableKey.parse("shop/curated/bookings_whole")

    publish(
        publish_request(whole_key, contract, mesh_env.settings, run_id="whole"),
        rows(type_name, *(e for entries in days.values() for e in entries)),
    )

    whole = read_arrow(whole_key.uri(mesh_env.settings))
    assert by_day == sorted(zip(whole["id"].to_pylist(), whole["amount"].to_pylist(), strict=True))
    rejects = read_arrow(whole_key.quarantine.uri(mesh_env.settings))
    rules = [tuple(v) for v in rejects["violated_rules"].to_pylist()]
    assert [(i, r) for i, _, r in by_day_rejects] == sorted(
        zip(rejects["id"].to_pylist(), rules, strict=True)
    )
    assert len(by_day_rejects) == 3


def test_a_range_of_days_and_bad_days_are_clear() -> None:
    assert days_in("2026-02-27..2026-03-01") == ["2026-02-27", "2026-02-28", "2026-03-01"]
    assert days_in("2026-03-01") == ["2026-03-01"]
    with pytest.raises(MeshError, match="ends before it starts"):
        days_in("2026-03-02..2026-03-01")
    with pytest.raises(MeshError, match="is not a day"):
        days_in("March 1st")
