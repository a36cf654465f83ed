"""A writer process for the concurrency tests: waits for a start signal, writes, reports JSON.

Run as ``python -m tests.reliability.concurrent_writer <action> <json arguments>``. Several are
started at once and released together (the start file appears), so their writes overlap. Only
``platform_lib.lake`` is imported (no Dagster), so a writer starts in about a second.
"""

import datetime as dt
import json
import sys
import time
from pathlib import Path

import pyarrow as pa

from platform_lib.contracts.loader import load_contract
from platform_lib.conventions import TableKey
from platform_lib.lake.committer import Committer, WriteConflict, WriteMode
from platform_lib.lake.partitions import PartitionWrite, daily
from platform_lib.lake.publish.request import PublishRequest
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.raw_ingest import CsvSource, ingest_landing_folder
from platform_lib.settings import resolve_settings
from tests.child_exit import exit_now

THINGS = CsvSource(table="things", folder="d/things", columns=("id", "name"))


def _wait_for(start: Path) -> None:
    deadline = time.monotonic() + 60
    while not start.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no start signal at {start}")
        time.sleep(0.005)


def _ingest(args: dict[str, str]) -> dict[str, object]:
    result = ingest_landing_folder(THINGS, Path(args["landing"]), args["uri"])
    return {"records": result.records, "files": list(result.files_ingested)}


def _publish_day(args: dict[str, str]) -> dict[str, object]:
    load = load_contract(Path(args["contract"]))
    assert load.contract is not None
    day = dt.date.fromisoformat(args["day"])
    ids = [f"{args['day']}-{i}" for i in range(int(args["rows"]))]
    batch = pa.table(
        {
            "id": ids,
            "at": pa.array([day] * len(ids), pa.date32()),
            "amount": pa.array([None if i % 10 == 0 else i for i in range(len(ids))], pa.int64()),
        }
    )
    outcome = publish(
        PublishRequest(
            TableKey.parse(args["key"]),
            contract=load.contract,
            mode=WriteMode.OVERWRITE,
            settings=resolve_settings(),
            run_id=args["run"],
            partition=PartitionWrite(daily("at", start="2026-01-01"), day, "date"),
        ),
        batch,
    )
    return {"committed": outcome.committed, "quarantined": outcome.validation.rows_rejected}


def _replace_day(args: dict[str, str]) -> dict[str, object]:
    day = dt.date.fromisoformat(args["day"])
    writer = args["writer"]
    batch = pa.table(
        {"day": pa.array([day] * 100, pa.date32()), "writer": [writer] * 100, "n": range(100)}
    )
    try:
        result = Committer(args["uri"]).write_table(
            batch, mode=WriteMode.REPLACE_PARTITIONS, partition_by=("day",)
        )
    except WriteConflict as conflict:
        return {"conflict": str(conflict)}
    return {"version": result.version}


ACTIONS = {"ingest": _ingest, "publish_day": _publish_day, "replace_day": _replace_day}


def main() -> None:
    """Wait for the start file, then run the action and print its outcome as one JSON line."""
    action, arguments = sys.argv[1], json.loads(sys.argv[2])
    _wait_for(Path(arguments["start"]))
    print(json.dumps(ACTIONS[action](arguments)))


if __name__ == "__main__":
    main()
    exit_now()
