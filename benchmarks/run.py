"""Run every benchmark case: ``python benchmarks/run.py [--quick]``.

- P1, the validation engine against hand-written checks, pandera and datacontract-cli
  (``bench_validation.py``): 10,000,000 rows.
- P2 and P3, write-audit-publish against a plain write + one scan, and streaming with bounded
  memory (``bench_publish.py``): 10,000,000 rows.
- P4, ``mesh check`` and the definitions' build against plain Dagster over a generated mesh
  (``bench_mesh_check.py``): 50 domains x 40 tables (2,000 contracts).
- P5, one day of a 365-day partitioned table against a standalone day (``bench_partitions.py``):
  365 x 30,000 rows.
- P6, the demo mesh end to end against the same tables in plain Dagster (``bench_end_to_end.py``).

Every case takes the median of 3 timed runs after a warm-up. ``--quick`` is the smoke run CI
makes: small sizes, one timed run each (the whole-process cases P4 and P6 report their warm-up
run alone), to prove every case still runs and verifies (its timings mean little); about a
minute on a quiet machine.
"""

import argparse
import time
from dataclasses import dataclass

import bench_end_to_end
import bench_mesh_check
import bench_partitions
import bench_publish
import bench_validation


@dataclass(frozen=True)
class Sizes:
    """The size of every case, and the timed runs each makes."""

    rows: int
    """P1, P2 and P3: rows of the generated table."""
    mesh: tuple[int, int]
    """P4: domains x tables."""
    days: tuple[int, int]
    """P5: days x rows a day."""
    repeat: int
    """Timed runs after the warm-up."""
    process_repeat: int
    """Timed runs of the whole-process cases (P4, P6); 0 reports the warm-up run alone."""


FULL = Sizes(rows=10_000_000, mesh=(50, 40), days=(365, 30_000), repeat=3, process_repeat=3)
QUICK = Sizes(rows=20_000, mesh=(3, 4), days=(30, 500), repeat=1, process_repeat=0)


def main() -> None:
    """Parse ``--quick`` and run every case, printing the wall time of each benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="the smoke run: small sizes, one timed run each"
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    steps = [
        ("P1", lambda: bench_validation.main(rows=sizes.rows, repeat=sizes.repeat)),
        ("P2/P3", lambda: bench_publish.main(rows=sizes.rows, repeat=sizes.repeat)),
        (
            "P4",
            lambda: bench_mesh_check.main(
                domains=sizes.mesh[0],
                tables=sizes.mesh[1],
                repeat=sizes.process_repeat,
                profile=False,
            ),
        ),
        (
            "P5",
            lambda: bench_partitions.main(
                days=sizes.days[0], rows_per_day=sizes.days[1], repeat=sizes.repeat
            ),
        ),
        ("P6", lambda: bench_end_to_end.main(repeat=sizes.process_repeat, profile=False)),
    ]
    spent = {}
    for name, step in steps:
        started = time.perf_counter()
        step()
        spent[name] = time.perf_counter() - started
    print("wall time per benchmark: " + ", ".join(f"{n} {s:.0f} s" for n, s in spent.items()))


if __name__ == "__main__":
    main()
