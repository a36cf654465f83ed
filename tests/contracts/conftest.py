"""A small contract, valid ODCS that follows every platform convention, and a way to break it.

Broken contracts are made from ``BASE_CONTRACT`` by text edits, so each finding's line is known:
the numbers in the comments below are the file's line numbers.
"""

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.contracts.conformance_corpus import given_examples_folder

collect_ignore = [] if given_examples_folder() else ["test_corpus_covers_the_odcs_examples.py"]
"""The comparison with the standard's examples runs only when a folder of them is given."""

BASE_CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: payments.curated.transactions
name: Transactions
version: 1.0.0
status: active
domain: payments
team:
  name: payments
servers:
  - server: local
    type: local
    format: delta
    path: payments/curated/transactions
customProperties:
  - property: layer
    value: curated
slaProperties:
  - property: freshness
    value: 1
    unit: d
schema:
  - name: transactions
    physicalType: table
    quality:
      - id: has_rows
        metric: rowCount
        mustBeGreaterThan: 0
    properties:
      - name: transaction_id
        logicalType: string
        physicalType: string
        required: true
      - name: amount
        logicalType: number
        physicalType: decimal(18,2)
        quality:
          - id: amount_not_null
            metric: nullValues
            mustBe: 0
"""
# Lines:  1 apiVersion, 2 kind, 3 id, 4 name, 5 version, 6 status, 7 domain, 8-9 team,
# 10-14 servers, 15-17 customProperties (17: layer value), 18-21 slaProperties (20: value),
# 22 schema, 23 table name, 25-28 table quality (26: has_rows), 29 properties,
# 30-33 transaction_id (33: required), 34-40 amount (36: physicalType, 38: rule id,
# 39: metric, 40: mustBe).

CONTRACT_PATH = Path("contracts", "payments", "curated", "transactions.odcs.yaml")
"""Where the base contract lives under a project root, as the platform's convention wants."""

WriteContract = Callable[..., Path]


def edit(text: str, old: str, new: str) -> str:
    """``text`` with its one occurrence of ``old`` replaced by ``new`` (asserts it is one)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


@pytest.fixture
def write_contract(tmp_path: Path) -> WriteContract:
    """Write a contract under ``tmp_path``: the base, edited by ``(old, new)`` pairs, or raw text.

    Example:
        >>> path = write_contract(("required: true", "requried: true"))
    """

    def write(
        *edits: tuple[str, str],
        text: str | bytes | None = None,
        relative: Path = CONTRACT_PATH,
    ) -> Path:
        content: str | bytes = BASE_CONTRACT if text is None else text
        for old, new in edits:
            assert isinstance(content, str)
            content = edit(content, old, new)
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write
