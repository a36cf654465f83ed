"""With the standard's examples given (``MESH_ODCS_EXAMPLES``), the corpus uses all they use.

Collected only when the variable is set (``tests/contracts/conftest.py``). A contract's features
are the fields it uses, each with the kind of value it holds (text, integer, list, empty list...)
and, for the fields whose values the standard enumerates (API version, logical type, server
type, quality rule type, metric, dimension...), the value itself. Every feature of every example
must appear somewhere in the corpus, so the corpus keeps covering what the standard exercises.
"""

import functools
from pathlib import Path
from typing import Any

import pytest

from platform_lib.contracts.yaml_source import read_yaml
from tests.contracts.conformance_corpus import (
    EXAMPLES_VARIABLE,
    ConformanceContract,
    corpus_contracts,
    example_contracts,
    given_examples_folder,
)

ENUMERATED = (
    ("apiVersion",),
    ("kind",),
    ("logicalType",),
    ("metric",),
    ("dimension",),
    ("logicalTypeOptions", "format"),
    ("servers[]", "type"),
    ("quality[]", "type"),
    ("relationships[]", "type"),
)
"""Fields (by their last path parts) whose values, not only their kinds, are features."""
OPAQUE = frozenset({"implementation", "value"})
"""Fields holding a tool's or a team's own data: only the kind of value counts."""


def _kind(value: Any) -> str:
    if value == [] or value == {}:
        return repr(value)
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "text")):
        if isinstance(value, kind):
            return name
    return {list: "list", dict: "mapping"}.get(type(value), "null")


def features(node: Any, path: tuple[str, ...] = ()) -> set[str]:
    """The features of a contract (or of a node at ``path`` in it): see the module docstring."""
    where = ".".join(path)
    opaque = bool(path) and path[-1] in OPAQUE
    if isinstance(node, dict) and node and not opaque:
        found = {where} if path else set()
        for key, value in node.items():
            found |= features(value, (*path, str(key)))
        return found
    if isinstance(node, list) and node and not opaque:
        found = set()
        for item in node:
            found |= features(item, (*path[:-1], f"{path[-1]}[]"))
        return found
    if any(path[-len(suffix) :] == suffix for suffix in ENUMERATED):
        return {f"{where} = {node!r}"}
    return {f"{where} : {_kind(node)}"}


def contract_features(path: Path) -> set[str]:
    """The features of the contract file at ``path``, read as the loader reads it."""
    data = read_yaml(path).data
    assert data is not None, path
    return features(data)


@functools.cache
def corpus_features() -> frozenset[str]:
    """Every feature some corpus contract uses."""
    return frozenset().union(*(contract_features(c.path) for c in corpus_contracts()))


def test_the_given_odcs_examples_are_there() -> None:
    folder = given_examples_folder()
    assert folder is not None and folder.is_dir(), f"{EXAMPLES_VARIABLE} names no folder: {folder}"
    assert example_contracts(), f"{EXAMPLES_VARIABLE}: no *.odcs.yaml in {folder}"


@pytest.mark.parametrize("example", example_contracts(), ids=lambda example: example.name)
def test_the_corpus_uses_every_feature_of_the_example(example: ConformanceContract) -> None:
    missing = sorted(contract_features(example.path) - corpus_features())
    assert missing == [], f"no corpus contract in tests/contracts/conformance uses: {missing}"
