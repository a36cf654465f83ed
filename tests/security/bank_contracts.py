"""The contracts of the scratch bank domain the access tests read across domains: restricted
accounts, and the purposes a producer allows."""

from pathlib import Path

from tests.conftest import write_contract

ACCOUNT_COLUMNS = """      - {name: account_id, logicalType: string, physicalType: string, \
classification: restricted}
      - {name: amount, logicalType: integer, physicalType: int64, required: true}
"""
PAIR_COLUMNS = """      - {name: account_id, logicalType: string, physicalType: string}
      - {name: amount, logicalType: integer, physicalType: int64}
"""
PRODUCER_PURPOSES = "  - {property: allowedPurposes, value: [fraud detection]}\n"


def contract(
    root: Path, key: str, columns: str, *, access: str = "public", properties: str = ""
) -> None:
    """Write the contract of ``key`` with these column lines (YAML, indented), by convention."""
    name = key.rsplit("/", 1)[-1]
    body = f"schema:\n  - name: {name}\n    properties:\n{columns}"
    write_contract(root, key, body, access=access, properties=properties)
