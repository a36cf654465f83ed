"""A writer process for the concurrency tests: waits for a start signal, then writes in a loop.

Run as ``python -m tests.prod.concurrent_writer MODE URI TAG GO_FILE COUNT``; prints one JSON
object: how many writes committed and the message of each one refused as a conflict.
"""

import datetime as dt
import json
import sys
import time
from pathlib import Path

import pyarrow as pa

from platform_lib.errors import MeshError
from platform_lib.lake.committer import Committer, WriteMode
from tests.child_exit import exit_now

DAY_OF = {"a": dt.date(2026, 1, 1), "b": dt.date(2026, 1, 2)}
SHARED_DAY = dt.date(2026, 1, 3)


def batch(mode: str, tag: str, index: int) -> pa.Table:
    """One row: the writer's tag, its write index and the day it belongs to."""
    day = SHARED_DAY if mode == "same_day" else DAY_OF[tag]
    return pa.table(
        {
            "day": pa.array([day], pa.date32()),
            "writer": [tag],
            "index": pa.array([index], pa.int64()),
        }
    )


def main(mode: str, uri: str, tag: str, go_file: str, count: int) -> None:
    """Write ``count`` batches once ``go_file`` exists, so both writers start together."""
    while not Path(go_file).exists():
        time.sleep(0.01)
    committed, conflicts = 0, []
    committer = Committer(uri)
    for index in range(count):
        data = batch(mode, tag, index)
        try:
            if mode == "append":
                committer.write_table(data, mode=WriteMode.APPEND)
            else:
                committer.write_table(data, mode=WriteMode.REPLACE_PARTITIONS, partition_by=["day"])
        except MeshError as error:
            conflicts.append(error.message)
            continue
        committed += 1
    print(json.dumps({"committed": committed, "conflicts": conflicts}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    exit_now()
