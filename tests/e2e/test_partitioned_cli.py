"""``mesh materialize --partition/--partition-range`` on a scratch project with a daily table."""

from pathlib import Path

from platform_lib.lake.reader import read_arrow
from tests.conftest import daily_project, run_command


def test_a_range_of_days_is_written_day_by_day(tmp_path: Path) -> None:
    env = daily_project(tmp_path)

    done = run_command(
        ["mesh", "materialize", "-s", "shop/*", "--partition-range", "2026-03-01..2026-03-03"],
        env,
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 day(s): 2026-03-01..2026-03-03" in done.stdout
    table = read_arrow(str(tmp_path / "lake" / "shop" / "curated" / "bookings"))
    assert sorted(table["amount"].to_pylist()) == [1, 2, 3, 10, 20, 30]
    quarantine = read_arrow(str(tmp_path / "lake" / "shop" / "curated" / "bookings__quarantine"))
    assert sorted(quarantine["partition_key"].to_pylist()) == [
        "2026-03-01",
        "2026-03-02",
        "2026-03-03",
    ]


def test_a_daily_table_needs_its_days(tmp_path: Path) -> None:
    env = daily_project(tmp_path)

    named = run_command(["mesh", "materialize", "-s", "shop/curated/bookings"], env, cwd=tmp_path)
    everything = run_command(["mesh", "materialize", "--all"], env, cwd=tmp_path)

    assert named.returncode == 2
    assert "--partition" in named.stderr and "Traceback" not in named.stderr
    assert everything.returncode == 0, everything.stdout + everything.stderr
    assert "left out" in everything.stdout
