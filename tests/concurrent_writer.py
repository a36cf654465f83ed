"""Writer processes for the concurrency tests: started together, released at once, each reporting
one JSON line.

:func:`run_together` starts one process per job (``python -m tests.concurrent_writer <action>
<json arguments>``); each waits for the start file, runs its action and prints its outcome, so
their writes overlap. Only ``platform_lib.lake`` is imported (no Dagster): a writer starts in about
a second. The actions:

- ``ingest``: ingest a landing folder into a raw table;
- ``ingest_loop``: ``count`` times, land a new file of its own and ingest it (see
  :func:`loop_file`);
- ``publish_day``: write-audit-publish one day of a daily-partitioned table;
- ``append_inputs``: write-audit-publish an append of the rows computed from given input versions;
- ``replace_day``: replace one day of a plain Delta table (100 rows);
- ``write_loop``: ``count`` one-row writes, appended or replacing a day (see :func:`loop_row`).
"""

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from platform_lib.contracts.loader import load_contract
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.lake.committer import Committer, WriteConflict, WriteMode
from platform_lib.lake.partitions import PartitionWrite, daily
from platform_lib.lake.publish.append_inputs import InputVersions
from platform_lib.lake.publish.request import PublishRequest
from platform_lib.lake.publish.whole import publish
from platform_lib.lake.raw_ingest import CsvSource, ingest_landing_folder
from platform_lib.settings import resolve_settings
from tests.child_exit import exit_now

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 60
THINGS = CsvSource(table="things", folder="d/things", columns=("id", "name"))
LOOP_DAYS = {"a": dt.date(2026, 1, 1), "b": dt.date(2026, 1, 2)}
"""The day each writer of ``write_loop`` writes, unless both write ``SHARED_DAY``."""
SHARED_DAY = dt.date(2026, 1, 3)

BOOKINGS = """schema:
  - name: bookings
    physicalType: table
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true, unique: true}
      - {name: at, logicalType: date, physicalType: date, required: true}
      - {name: amount, logicalType: integer, physicalType: int64, required: true}
"""
"""The contract body of the daily table ``publish_day`` writes (id, at, amount)."""

Job = tuple[str, Mapping[str, str]]
"""An action and its arguments."""


def run_together(
    jobs: Sequence[Job], *, start: Path, env: Mapping[str, str]
) -> list[dict[str, object]]:
    """Run ``jobs`` in one process each, released together when ``start`` appears; their outcomes.

    Args:
        jobs: The action of each process and its arguments.
        start: The start file (it must not exist yet).
        env: The processes' environment (the lake root among it).
    """
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.concurrent_writer",
                action,
                json.dumps({**arguments, "start": str(start)}),
            ],
            cwd=PROJECT_ROOT,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for action, arguments in jobs
    ]
    start.touch()
    outcomes = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]
        outcomes.append(json.loads(out.strip().splitlines()[-1]))
    return outcomes


def loop_row(mode: str, writer: str, index: int) -> pa.Table:
    """One row of ``write_loop``: the writer, its write index and its day (``SHARED_DAY`` when
    ``mode`` is ``same_day``)."""
    day = SHARED_DAY if mode == "same_day" else LOOP_DAYS[writer]
    return pa.table(
        {
            "day": pa.array([day], pa.date32()),
            "writer": [writer],
            "index": pa.array([index], pa.int64()),
        }
    )


def _wait_for(start: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not start.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no start signal at {start}")
        time.sleep(0.005)


def _ingest(args: Mapping[str, str]) -> dict[str, object]:
    result = ingest_landing_folder(THINGS, Path(args["landing"]), args["uri"])
    return {"records": result.records, "files": list(result.files_ingested)}


def loop_file(landing: Path, writer: str, index: int) -> Path:
    """Land the ``index``-th file of ``ingest_loop``'s ``writer``: 50 records, its own name."""
    folder = landing / THINGS.folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{writer}-{index:03d}.csv"
    path.write_text("id,name\n" + "".join(f"{writer}-{index}-{i},x\n" for i in range(50)))
    return path


def _ingest_loop(args: Mapping[str, str]) -> dict[str, object]:
    landing, records = Path(args["landing"]), 0
    for index in range(int(args["count"])):
        loop_file(landing, args["writer"], index)
        records += ingest_landing_folder(THINGS, landing, args["uri"]).records
    return {"records": records}


def _publish_day(args: Mapping[str, str]) -> dict[str, object]:
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


def _append_inputs(args: Mapping[str, str]) -> dict[str, object]:
    """Append ``rows`` bookings of ``day`` (one in ten without an amount: quarantined), computed
    from the raw table at version ``input_version``."""
    load = load_contract(Path(args["contract"]))
    assert load.contract is not None
    day, rows = dt.date.fromisoformat(args["day"]), int(args["rows"])
    batch = pa.table(
        {
            "id": [f"{args['day']}-{i}" for i in range(rows)],
            "at": pa.array([day] * rows, pa.date32()),
            "amount": pa.array([None if i % 10 == 0 else i for i in range(rows)], pa.int64()),
        }
    )
    outcome = publish(
        PublishRequest(
            TableKey.parse(args["key"]),
            contract=load.contract,
            mode=WriteMode.APPEND,
            settings=resolve_settings(),
            run_id=args["run"],
            inputs=InputVersions.of({"shop/raw/bookings": int(args["input_version"])}),
        ),
        batch,
    )
    return {"committed": outcome.committed, "already_appended": outcome.already_appended}


def _replace_day(args: Mapping[str, str]) -> dict[str, object]:
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


def _write_loop(args: Mapping[str, str]) -> dict[str, object]:
    mode, writer = args["mode"], args["writer"]
    committer = Committer(args["uri"])
    committed, conflicts = 0, []
    for index in range(int(args["count"])):
        row = loop_row(mode, writer, index)
        try:
            if mode == "append":
                committer.write_table(row, mode=WriteMode.APPEND)
            else:
                committer.write_table(row, mode=WriteMode.REPLACE_PARTITIONS, partition_by=["day"])
        except MeshError as error:
            conflicts.append(error.message)
            continue
        committed += 1
    return {"committed": committed, "conflicts": conflicts}


ACTIONS = {
    "ingest": _ingest,
    "ingest_loop": _ingest_loop,
    "publish_day": _publish_day,
    "append_inputs": _append_inputs,
    "replace_day": _replace_day,
    "write_loop": _write_loop,
}


def main() -> None:
    """Wait for the start file, then run the action and print its outcome as one JSON line."""
    action, arguments = sys.argv[1], json.loads(sys.argv[2])
    _wait_for(Path(arguments["start"]))
    print(json.dumps(ACTIONS[action](arguments)))


if __name__ == "__main__":
    main()
    exit_now()
