"""The project's contract registry: a broken contract file stops only the tables that need it."""

from pathlib import Path

import pytest

from platform_lib.contracts.registry import BrokenContractError, load_registry
from platform_lib.conventions import TableKey
from tests.conftest import write_contract

ORDERS = """schema:
  - name: orders
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true}
"""
REFUNDS = ORDERS.replace("orders", "refunds")


def test_a_broken_contract_stops_only_its_own_table(tmp_path: Path) -> None:
    write_contract(tmp_path, "shop/product/orders", ORDERS)
    refunds = write_contract(tmp_path, "shop/product/refunds", REFUNDS)
    refunds.write_bytes(refunds.read_bytes().replace(b"status:", b"stat\xffus:"))

    registry = load_registry(tmp_path / "contracts")

    orders = registry.require(TableKey.parse("shop/product/orders"))
    assert orders.key == TableKey.parse("shop/product/orders")
    for ask in (registry.require, registry.get):
        with pytest.raises(BrokenContractError) as raised:
            ask(TableKey.parse("shop/product/refunds"))
        assert raised.value.source == refunds
        assert f"{refunds}:5: [yaml-syntax]" in raised.value.message
        assert raised.value.fix == "save the file as UTF-8"


def test_a_broken_file_outside_the_layout_stops_no_table(tmp_path: Path) -> None:
    write_contract(tmp_path, "shop/product/orders", ORDERS)
    stray = tmp_path / "contracts" / "notes.odcs.yaml"
    stray.write_text("apiVersion: [unclosed\n")

    registry = load_registry(tmp_path / "contracts")

    assert list(registry.contracts) == [TableKey.parse("shop/product/orders")]
    assert registry.broken == {}
