"""Two processes writing one Delta table on S3 at the same time.

Safety on S3 comes from conditional writes: each commit file is created with
``If-None-Match: *``, so when two writers race for one table version exactly one gets it, and
the other re-checks (and retries when its change does not overlap) or fails. Were the store to
ignore the condition, both would "commit" the same version and one commit would be lost: the
version count below would fall short of the commits the writers report.
"""

from pathlib import Path

import pytest
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError

from platform_lib.lake.committer import Committer, WriteMode
from platform_lib.lake.reader import read_arrow
from tests.concurrent_writer import SHARED_DAY, loop_row, run_together

WRITES_EACH = 6


def race(mode: str, uri: str, tmp_path: Path, env: dict[str, str]) -> list[dict[str, object]]:
    """Run writers ``a`` and ``b`` together, ``WRITES_EACH`` writes each; their reports."""
    jobs = [
        ("write_loop", {"mode": mode, "uri": uri, "writer": writer, "count": str(WRITES_EACH)})
        for writer in ("a", "b")
    ]
    return run_together(jobs, start=tmp_path / f"go-{mode}", env=env)


def seed(uri: str, mode: str) -> None:
    """The table as it is before the race: one row, version 0."""
    Committer(uri).write_table(
        loop_row(mode, "a", -1), mode=WriteMode.OVERWRITE, partition_by=["day"]
    )


@pytest.mark.parametrize("mode", ["append", "other_day"])
def test_non_overlapping_writes_all_land(
    mode: str, stack_env: dict[str, str], tmp_path: Path
) -> None:
    uri = f"s3://mesh-lake/concurrency/{mode}"
    seed(uri, mode)

    reports = race(mode, uri, tmp_path, stack_env)
    table = read_arrow(uri)
    rows = sorted(
        zip(table.column("writer").to_pylist(), table.column("index").to_pylist(), strict=True)
    )

    assert [r["committed"] for r in reports] == [WRITES_EACH, WRITES_EACH], reports
    assert DeltaTable(uri).version() == 2 * WRITES_EACH
    if mode == "append":  # every row of both writers, and the seed row
        assert rows == sorted([("a", -1)] + [(w, i) for w in "ab" for i in range(WRITES_EACH)])
    else:  # each writer's day holds its last write; the seed's day was a's and was replaced
        assert rows == [("a", WRITES_EACH - 1), ("b", WRITES_EACH - 1)]


def test_writes_of_the_same_day_never_corrupt_and_a_loser_fails_clearly(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    uri = "s3://mesh-lake/concurrency/same_day"
    seed(uri, "same_day")

    reports = race("same_day", uri, tmp_path, stack_env)
    committed = sum(int(r["committed"]) for r in reports)  # type: ignore[call-overload]
    conflicts = [m for r in reports for m in r["conflicts"]]  # type: ignore[attr-defined]
    day = read_arrow(uri)

    assert committed + len(conflicts) == 2 * WRITES_EACH
    assert DeltaTable(uri).version() == committed  # no commit lost: one version per success
    assert day.num_rows == 1 and day.column("day").to_pylist() == [SHARED_DAY]
    assert all("another run committed" in m and "nothing" in m for m in conflicts), conflicts


def test_a_conflicting_write_is_refused(stack_env: dict[str, str]) -> None:
    """The race above, made deterministic: an overwrite prepared against version 0 is refused
    once another writer has replaced the same rows in version 1 (the platform's writer turns
    this refusal into WriteConflict, as the race shows)."""
    uri = "s3://mesh-lake/concurrency/stale"
    seed(uri, "same_day")
    stale = DeltaTable(uri)
    Committer(uri).write_table(
        loop_row("same_day", "b", 0), mode=WriteMode.OVERWRITE, partition_by=["day"]
    )

    with pytest.raises(CommitFailedError, match="concurrent"):
        write_deltalake(stale, loop_row("same_day", "a", 1), mode="overwrite")

    assert DeltaTable(uri).version() == 1
    assert read_arrow(uri).column("writer").to_pylist() == ["b"]
