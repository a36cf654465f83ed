"""Run every benchmark case: ``python benchmarks/run.py [--quick]``.

- P1, the validation engine against hand-written checks (``bench_validation.py``): 10,000,000
  rows, or 200,000 with ``--quick``.
- P4-lite, ``mesh check`` over a generated mesh (``bench_mesh_check.py``): 50 domains x 40 tables
  (2,000 contracts, the issue's target size), or 10 x 20 with ``--quick``.

``--quick`` is a smoke run of a few minutes; every case takes the median of 3 timed runs after a
warm-up.
"""

import argparse

import bench_mesh_check
import bench_validation

FULL_ROWS = 10_000_000
QUICK_ROWS = 200_000
FULL_MESH = (50, 40)
QUICK_MESH = (10, 20)
REPEAT = 3


def main() -> None:
    """Parse ``--quick`` and run every case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_ROWS:,} rows instead of {FULL_ROWS:,}, a mesh of "
        f"{QUICK_MESH[0]} x {QUICK_MESH[1]} tables instead of {FULL_MESH[0]} x {FULL_MESH[1]}",
    )
    args = parser.parse_args()
    rows = QUICK_ROWS if args.quick else FULL_ROWS
    domains, tables = QUICK_MESH if args.quick else FULL_MESH
    bench_validation.main(rows=rows, repeat=REPEAT)
    bench_mesh_check.main(domains=domains, tables=tables, repeat=REPEAT)


if __name__ == "__main__":
    main()
