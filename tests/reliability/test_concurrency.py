"""Concurrent writers, each in its own process: writes that touch different data all land, the
same landing files are ingested exactly once, and a truly conflicting write fails clearly, leaving
the table whole."""

import datetime as dt
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from platform_lib.conventions import TableKey
from platform_lib.lake.partitions import PartitionWrite, daily
from platform_lib.lake.publish.plan import plan_publish
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.reader import read_arrow, table_state
from platform_lib.quality.engine import validate_batch
from platform_lib.settings import resolve_settings
from tests.concurrent_writer import BOOKINGS, Job
from tests.concurrent_writer import run_together as writers_together
from tests.conftest import contract_for, publish_request, write_contract

KEY = TableKey.parse("shop/curated/bookings")
ROWS = 200_000
"""Rows of each append of ``test_concurrent_appends_of_the_same_inputs_append_once``."""


def run_together(tmp_path: Path, jobs: list[Job]) -> list[dict[str, object]]:
    """One writer process per job, released at once, against the lake under ``tmp_path``."""
    start = tmp_path / f"start-{len(list(tmp_path.glob('start-*')))}"
    env = {**os.environ, "MESH_LAKE_ROOT": str(tmp_path / "lake"), "MESH_CACHE": "off"}
    return writers_together(jobs, start=start, env=env)


def land(landing: Path, name: str, lines: int) -> None:
    folder = landing / "d" / "things"
    folder.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{name}-{i},thing {i}\n" for i in range(lines))
    (folder / name).write_text("id,name\n" + body)


@pytest.mark.parametrize("table_exists", [False, True], ids=["new table", "existing table"])
def test_concurrent_ingests_of_overlapping_files_keep_every_record_once(
    tmp_path: Path, table_exists: bool
) -> None:
    uri = str(tmp_path / "lake" / "d" / "raw" / "things")
    first, second, third = tmp_path / "one", tmp_path / "two", tmp_path / "three"
    for landing, names in ((first, "ab"), (second, "abc"), (third, "d")):
        for name in names:
            land(landing, f"{name}.csv", 200)
    if table_exists:
        land(tmp_path / "zero", "z.csv", 5)
        run_together(tmp_path, [("ingest", {"landing": str(tmp_path / "zero"), "uri": uri})])

    outcomes = run_together(
        tmp_path,
        [("ingest", {"landing": str(folder), "uri": uri}) for folder in (first, second, third)],
    )

    raw = read_arrow(uri, ["_source_file", "_line_number", "_arrival_seq"])
    keys = list(zip(raw["_source_file"].to_pylist(), raw["_line_number"].to_pylist(), strict=True))
    expected_files = {"a", "b", "c", "d"} | ({"z"} if table_exists else set())
    assert len(keys) == len(set(keys)), "a record was ingested twice"
    assert {f.rsplit("/", 1)[1][0] for f, _ in keys} == expected_files
    assert len(keys) == 4 * 200 + (5 if table_exists else 0)
    assert sum(int(str(o["records"])) for o in outcomes) == 4 * 200
    numbers = raw["_arrival_seq"].to_pylist()
    assert len(set(numbers)) == len(numbers), "two records got the same arrival number"
    by_arrival = raw.sort_by("_arrival_seq")
    for name in expected_files:  # each file arrived whole, in line order
        lines = by_arrival.filter(pc.ends_with(by_arrival["_source_file"], f"/{name}.csv"))
        assert lines["_line_number"].to_pylist() == sorted(lines["_line_number"].to_pylist())


def test_ingestions_of_different_files_at_the_same_time_never_share_an_arrival_number(
    tmp_path: Path,
) -> None:
    uri = str(tmp_path / "lake" / "d" / "raw" / "things")
    writers = ("a", "b", "c")

    outcomes = run_together(
        tmp_path,
        [
            ("ingest_loop", {"landing": str(tmp_path / w), "uri": uri, "writer": w, "count": "8"})
            for w in writers
        ],
    )

    raw = read_arrow(uri, ["_source_file", "_line_number", "_arrival_seq"])
    numbers = raw["_arrival_seq"].to_pylist()
    assert raw.num_rows == sum(int(str(o["records"])) for o in outcomes) == 3 * 8 * 50
    assert len(set(numbers)) == len(numbers), "two records got the same arrival number"
    by_arrival = raw.sort_by("_arrival_seq")
    for writer in writers:  # each writer's files arrived in the order it landed them
        own = by_arrival.filter(pc.match_substring(by_arrival["_source_file"], f"/{writer}-"))
        assert own["_source_file"].to_pylist() == sorted(own["_source_file"].to_pylist())


def test_concurrent_publishes_of_different_days_both_land_with_their_quarantine(
    tmp_path: Path,
) -> None:
    contract = write_contract(tmp_path, str(KEY), BOOKINGS)
    days = ["2026-03-01", "2026-03-02", "2026-03-03"]

    outcomes = run_together(
        tmp_path,
        [
            (
                "publish_day",
                {"contract": str(contract), "key": str(KEY), "day": day, "rows": "50", "run": run},
            )
            for run, day in zip(("r1", "r2", "r3"), days, strict=True)
        ],
    )

    lake = tmp_path / "lake"
    published = read_arrow(str(lake / "shop" / "curated" / "bookings"))
    quarantine = read_arrow(str(lake / "shop" / "curated" / "bookings__quarantine"))
    assert all(o["committed"] for o in outcomes), outcomes
    assert published.num_rows == 3 * 45 and quarantine.num_rows == 3 * 5
    assert sorted(str(day) for day in pc.unique(published["at"]).to_pylist()) == sorted(
        pc.unique(quarantine["at"]).to_pylist()  # the quarantine keeps dates as text
    )
    assert len(pc.unique(published["id"])) == published.num_rows


def test_concurrent_appends_of_the_same_inputs_append_once(tmp_path: Path) -> None:
    """Three runs over the same inputs, released together, twice: each time one appends and the
    others add nothing (the rows take long enough to validate that all three check the table
    before the first commits)."""
    contract = write_contract(tmp_path, str(KEY), BOOKINGS)
    rounds = {"1": "2026-03-01", "2": "2026-03-02"}

    outcomes = [
        run_together(
            tmp_path,
            [
                (
                    "append_inputs",
                    {
                        "contract": str(contract),
                        "key": str(KEY),
                        "day": day,
                        "input_version": version,
                        "rows": str(ROWS),
                        "run": f"r{version}{writer}",
                    },
                )
                for writer in "abc"
            ],
        )
        for version, day in rounds.items()
    ]

    lake = tmp_path / "lake"
    published = read_arrow(str(lake / "shop" / "curated" / "bookings"))
    quarantine = read_arrow(str(lake / "shop" / "curated" / "bookings__quarantine"))
    for round_outcomes in outcomes:
        assert sum(bool(o["committed"]) for o in round_outcomes) == 1, round_outcomes
        assert all(o["committed"] or o["already_appended"] is not None for o in round_outcomes)
    assert published.num_rows == 2 * ROWS * 9 // 10
    assert len(pc.unique(published["id"])) == published.num_rows
    assert quarantine.num_rows == 2 * ROWS // 10


def test_a_conflicting_replace_fails_clearly_and_the_table_stays_whole(tmp_path: Path) -> None:
    uri = str(tmp_path / "lake" / "t")
    jobs = [("replace_day", {"uri": uri, "day": "2026-03-01", "writer": w}) for w in "ab"]
    run_together(tmp_path, jobs[:1])

    outcomes = [o for _ in range(4) for o in run_together(tmp_path, jobs)]

    conflicts = [str(o["conflict"]) for o in outcomes if "conflict" in o]
    assert len(conflicts) + sum("version" in o for o in outcomes) == len(outcomes)
    for message in conflicts:
        assert f"another run committed to {uri}" in message and "nothing of this write" in message
    table = read_arrow(uri)
    assert table.num_rows == 100, "the day must hold exactly one writer's rows"
    assert len(pc.unique(table["writer"])) == 1
    state = table_state(uri)
    assert state is not None and state.version == len(outcomes) - len(conflicts)


def test_a_publish_of_another_day_leaves_an_in_flight_runs_quarantine_alone(tmp_path: Path) -> None:
    """Run A has committed day 1's quarantine and not yet its rows when run B publishes day 2:
    B's clean-up of interrupted runs must not take A's rejected rows (A is not interrupted)."""
    env = {"MESH_LAKE_ROOT": str(tmp_path / "lake")}
    settings = resolve_settings(env)
    contract = contract_for(tmp_path, str(KEY), BOOKINGS)
    day_1, day_2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
    partition = daily("at", start="2026-03-01")
    run_a = plan_publish(
        publish_request(
            KEY,
            contract,
            settings,
            run_id="run-a",
            partition=PartitionWrite(partition, day_1, "date"),
        )
    )
    checked_1 = validate_batch(bookings(day_1, bad=2, rows=10), run_a.contract)
    run_a.keep_rejected(run_a.quarantine_rows(checked_1.rejected))

    other = publish(
        publish_request(
            KEY,
            contract,
            settings,
            run_id="run-b",
            partition=PartitionWrite(partition, day_2, "date"),
        ),
        bookings(day_2, bad=3, rows=10),
    )

    quarantine = read_arrow(KEY.quarantine.uri(settings))
    assert other.committed and other.reconciled_rows == 0
    assert sorted(quarantine["run_id"].to_pylist()) == ["run-a"] * 2 + ["run-b"] * 3


def bookings(day: dt.date, *, bad: int, rows: int) -> pa.Table:
    """``rows`` bookings of ``day``, the first ``bad`` of them without their required amount."""
    return pa.table(
        {
            "id": [f"{day}-{i}" for i in range(rows)],
            "at": pa.array([day] * rows, pa.date32()),
            "amount": pa.array([None if i < bad else i for i in range(rows)], pa.int64()),
        }
    )
