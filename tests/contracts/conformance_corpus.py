"""The ODCS conformance contracts the loader must accept: the project's own corpus, always, and
the standard's example contracts when a folder of them is given.

The corpus (``tests/contracts/conformance/``, described in its README) is written for this
project and covers every feature the standard's examples use. To run the conformance tests over
the standard's own examples as well, name a folder holding them (``*.odcs.yaml``)::

    MESH_ODCS_EXAMPLES=/path/to/odcs-examples .venv/bin/pytest -q tests/contracts tests/fuzz

Without the variable those extra cases are simply not collected.
"""

import os
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "conformance"
"""The project's own conformance contracts."""
EXAMPLES_VARIABLE = "MESH_ODCS_EXAMPLES"
"""Environment variable naming a folder of the standard's example contracts (optional)."""
CONTRACT_PATTERN = "*.odcs.yaml"


@dataclass(frozen=True)
class ConformanceContract:
    """One conformance contract: its file, and a short name saying where it comes from."""

    path: Path
    name: str
    """``conformance/<file>`` for the corpus, ``odcs-examples/<file>`` for a given example."""


def given_examples_folder() -> Path | None:
    """The folder of the standard's examples named by ``MESH_ODCS_EXAMPLES``, if any."""
    value = os.environ.get(EXAMPLES_VARIABLE, "").strip()
    return Path(value).expanduser().resolve() if value else None


def corpus_contracts() -> list[ConformanceContract]:
    """The project's own conformance contracts, sorted by file name."""
    return [
        ConformanceContract(path, f"conformance/{path.name}")
        for path in sorted(CORPUS.glob(CONTRACT_PATTERN))
    ]


def example_contracts() -> list[ConformanceContract]:
    """The standard's example contracts in the given folder (none when no folder is given)."""
    folder = given_examples_folder()
    if folder is None:
        return []
    return [
        ConformanceContract(path, f"odcs-examples/{path.name}")
        for path in sorted(folder.glob(CONTRACT_PATTERN))
    ]


def conformance_contracts() -> list[ConformanceContract]:
    """Every contract the loader must accept as valid ODCS: the corpus, then given examples."""
    return corpus_contracts() + example_contracts()
