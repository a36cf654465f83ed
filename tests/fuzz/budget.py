"""How many examples each fuzz test generates: a fixed, reproducible budget in CI, more locally.

In CI (``FUZZ_EXAMPLES`` unset) every test runs its own budget with ``derandomize=True``: the same
examples on every run, so a red build is never a fluke and a green one is comparable. Setting
``FUZZ_EXAMPLES=<n>`` runs ``n`` examples per test from a random seed instead (Hypothesis prints
the seed and a reproduction blob for a failure), e.g.::

    FUZZ_EXAMPLES=20000 .venv/bin/pytest -q tests/fuzz

No example database is kept (``database=None``): nothing is written into the working tree.
"""

import os

from hypothesis import HealthCheck, settings

FUZZ_EXAMPLES = "FUZZ_EXAMPLES"
"""Environment variable: examples per fuzz test, from a random seed (unset: the CI budget)."""


def fuzz_settings(ci_examples: int) -> settings:
    """Hypothesis settings for a fuzz test whose CI budget is ``ci_examples`` examples."""
    local = os.environ.get(FUZZ_EXAMPLES)
    return settings(
        max_examples=int(local) if local else ci_examples,
        derandomize=not local,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
