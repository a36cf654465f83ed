"""Run every benchmark case: ``python benchmarks/run.py [--quick]``.

For now the one case is P1, the validation engine against hand-written checks
(``bench_validation.py``). ``--quick`` measures 200,000 rows instead of 10,000,000 (a smoke run
of a minute or so); both take the median of 3 timed runs after a warm-up.
"""

import argparse

import bench_validation

FULL_ROWS = 10_000_000
QUICK_ROWS = 200_000
REPEAT = 3


def main() -> None:
    """Parse ``--quick`` and run every case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_ROWS:,} rows instead of {FULL_ROWS:,}"
    )
    args = parser.parse_args()
    rows = QUICK_ROWS if args.quick else FULL_ROWS
    bench_validation.main(rows=rows, repeat=REPEAT)


if __name__ == "__main__":
    main()
