"""``mesh materialize --partition/--partition-range`` on a scratch project with a daily table."""

import os
import textwrap
from pathlib import Path

from platform_lib.lake.reader import read_arrow
from tests.conftest import TELEMETRY_OFF, run_command, write_contract

SHOP = '''
import datetime as dt

import pyarrow as pa

from platform_lib import Layer, daily, domain_definitions, table


@table(Layer.CURATED, partition=daily("day", start="2026-03-01"))
def bookings(partition_date: dt.date) -> pa.Table:
    """Three bookings a day, one of them dated the next day (quarantined)."""
    n = partition_date.day
    return pa.table(
        {
            "id": [f"{partition_date}-a", f"{partition_date}-b", f"{partition_date}-late"],
            "day": [partition_date, partition_date, partition_date + dt.timedelta(days=1)],
            "amount": [n, n * 10, 0],
        }
    )


defs = domain_definitions("shop", tables=[bookings])
'''
BOOKINGS = """schema:
  - name: bookings
    physicalType: table
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true, unique: true}
      - {name: day, logicalType: date, physicalType: date, required: true}
      - {name: amount, logicalType: integer, physicalType: int64}
"""


def scratch_project(root: Path) -> dict[str, str]:
    (root / "workspace.yaml").write_text(
        textwrap.dedent(
            """\
            load_from:
              - python_module: {module_name: daymesh.shop, location_name: shop}
            """
        )
    )
    (root / "daymesh").mkdir()
    (root / "daymesh" / "__init__.py").write_text("")
    (root / "daymesh" / "shop.py").write_text(SHOP)
    write_contract(root, "shop/curated/bookings", BOOKINGS)
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(TELEMETRY_OFF)
    return {
        **os.environ,
        "PYTHONPATH": str(root),
        "MESH_LAKE_ROOT": str(root / "lake"),
        "DAGSTER_HOME": str(home),
    }


def test_a_range_of_days_is_written_day_by_day(tmp_path: Path) -> None:
    env = scratch_project(tmp_path)

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
    env = scratch_project(tmp_path)

    named = run_command(["mesh", "materialize", "-s", "shop/curated/bookings"], env, cwd=tmp_path)
    everything = run_command(["mesh", "materialize", "--all"], env, cwd=tmp_path)

    assert named.returncode == 2
    assert "--partition" in named.stderr and "Traceback" not in named.stderr
    assert everything.returncode == 0, everything.stdout + everything.stderr
    assert "left out" in everything.stdout
