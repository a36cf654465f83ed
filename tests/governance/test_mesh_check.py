"""``mesh check`` on scratch mesh projects in scratch git repositories, as CI runs it."""

import os
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conftest import BIN, write_contract
from tests.governance.scratch_mesh import (
    ORDERS_V1,
    mesh_check,
    rules_broken,
    scratch_mesh,
)


def test_a_clean_mesh_passes(tmp_path: Path) -> None:
    code, report = mesh_check(scratch_mesh(tmp_path), "--base", "main")

    assert code == 0, report
    assert report["consumer_edges"] == 1


def test_removing_a_consumed_column_without_a_bump_names_the_consumer(tmp_path: Path) -> None:
    root = scratch_mesh(tmp_path)
    write_contract(
        root,
        "shop/product/orders",
        ORDERS_V1.replace(
            '      - {name: amount, logicalType: number, physicalType: "decimal(18,2)", '
            "required: true}\n",
            "",
        ),
        version="1.1.0",
    )

    code, report = mesh_check(root, "--base", "main")

    assert code == 1
    assert "breaking-change" in rules_broken(report)
    (breaking,) = [v for v in report["violations"] if v["rule_id"] == "breaking-change"]
    assert "billing: billing/product/invoices reads amount" in breaking["message"]


def test_adding_an_optional_column_passes(tmp_path: Path) -> None:
    root = scratch_mesh(tmp_path)
    write_contract(
        root,
        "shop/product/orders",
        ORDERS_V1 + ("      - {name: channel, logicalType: string, physicalType: string}\n"),
        version="1.1.0",
    )

    code, report = mesh_check(root, "--base", "main")

    assert code == 0, report


def test_a_new_major_beside_the_old_one_passes(tmp_path: Path) -> None:
    root = scratch_mesh(tmp_path)
    v2 = ORDERS_V1.replace("name: orders", "name: orders_v2").replace("name: note", "name: memo")
    write_contract(root, "shop/product/orders_v2", v2, version="2.0.0")
    shop = (root / "scratchmesh" / "shop.py").read_text()
    shop = shop.replace(
        "defs = ",
        "@table(Layer.PRODUCT)\ndef orders_v2() -> pa.Table:\n    return pa.table({})\n\ndefs = ",
    ).replace("[orders]", "[orders, orders_v2]")
    (root / "scratchmesh" / "shop.py").write_text(shop)

    code, report = mesh_check(root, "--base", "main")

    assert code == 0, report


def test_consuming_a_private_table_fails(tmp_path: Path) -> None:
    code, report = mesh_check(scratch_mesh(tmp_path, orders_access="private"))

    assert code == 1
    assert rules_broken(report) == {"consumer-access"}


def test_reading_a_column_the_contract_lacks_fails(tmp_path: Path) -> None:
    code, report = mesh_check(scratch_mesh(tmp_path, columns='["id", "discount"]'))

    assert code == 1
    assert rules_broken(report) == {"consumer-columns"}


def test_two_domains_defining_one_key_fail(tmp_path: Path) -> None:
    root = scratch_mesh(
        tmp_path,
        billing_more='@asset(key=AssetKey(["shop", "product", "orders"]))\ndef copy() -> None:\n'
        "    pass\n",
        billing_defs='Definitions.merge(domain_definitions("billing", tables=[invoices]), '
        "Definitions(assets=[copy]))",
    )

    code, report = mesh_check(root)

    assert code == 1
    assert "key-ownership" in rules_broken(report)


def test_a_message_with_brackets_is_printed_whole_by_check_and_by_a_runtime_command(
    tmp_path: Path,
) -> None:
    """A message is text, never console markup: ``[billing, ...]`` in a key-layout problem must
    reach the reader (the console once took it for a style tag and cut the message there)."""
    root = scratch_mesh(
        tmp_path,
        billing_more='@asset(key=AssetKey(["stray"]))\ndef stray() -> None:\n    pass\n',
        billing_defs='Definitions.merge(domain_definitions("billing", tables=[invoices]), '
        "Definitions(assets=[stray]))",
    )
    wide = {"COLUMNS": "400"}  # a table cell on one line
    env = {**os.environ, **wide, "PYTHONPATH": str(root), "MESH_LAKE_ROOT": str(root / "lake")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "mesh"), *args], cwd=root, env=env, capture_output=True, text=True
        )

    checked, listed = run("check"), run("tables")

    expected = "asset key stray is not [billing, raw|curated|product, table]"
    assert checked.returncode == 1
    assert expected in " ".join(checked.stdout.split()), checked.stdout
    assert listed.returncode == 1  # listed, with the problem on one line
    assert expected in " ".join(listed.stderr.split()), listed.stderr


def test_a_cycle_between_domains_fails(tmp_path: Path) -> None:
    root = scratch_mesh(
        tmp_path,
        shop_extra_reads=', reads={"inv": reads("billing/product/invoices")}',
    )
    (root / "scratchmesh" / "shop.py").write_text(
        (root / "scratchmesh" / "shop.py").read_text().replace("def orders()", "def orders(inv)")
    )

    code, report = mesh_check(root)

    assert code == 1
    assert "domain-cycle" in rules_broken(report)


def test_an_unknown_base_revision_is_reported_and_the_rest_still_checked(tmp_path: Path) -> None:
    code, report = mesh_check(scratch_mesh(tmp_path, orders_access="private"), "--base", "nope")

    assert code == 1
    assert rules_broken(report) == {"base-revision", "consumer-access"}


def test_a_location_that_fails_to_import_is_named(tmp_path: Path) -> None:
    root = scratch_mesh(tmp_path)
    (root / "scratchmesh" / "billing.py").write_text("raise RuntimeError('boom')\n")

    code, report = mesh_check(root)

    assert code == 1
    (problem,) = [v for v in report["violations"] if v["rule_id"] == "location-import"]
    assert problem["subject"] == "billing" and "boom" in problem["message"]
    assert report["tables"] == 1


@pytest.mark.parametrize("days,level", [(30, "warning"), (-1, "error")])
def test_a_consumer_on_a_deprecated_major(tmp_path: Path, days: int, level: str) -> None:
    import datetime as dt

    root = scratch_mesh(tmp_path)
    date = (dt.date.today() + dt.timedelta(days=days)).isoformat()
    write_contract(
        root,
        "shop/product/orders",
        ORDERS_V1,
        version="1.0.0",
        properties=f'  - {{property: deprecationDate, value: "{date}"}}\n',
    )

    code, report = mesh_check(root)

    deprecated = [v for v in report["violations"] if v["rule_id"] == "consumer-deprecated"]
    assert [v["level"] for v in deprecated] == [level]
    assert code == (1 if level == "error" else 0)


def test_an_exemption_with_a_reason_waives_one_rule_for_one_subject(tmp_path: Path) -> None:
    root = scratch_mesh(tmp_path, orders_access="private")
    (root / "governance").mkdir()
    (root / "governance" / "exemptions.yaml").write_text(
        "exemptions:\n"
        "  - rule: consumer-access\n"
        "    subject: billing/product/invoices -> shop/product/orders\n"
        "    reason: billing reads orders privately until the product exists (BILL-7)\n"
    )
    junit = tmp_path / "check.xml"

    code, report = mesh_check(root, "--junit", str(junit))

    assert code == 0, report
    (waived,) = report["violations"]
    assert waived["exemption"].endswith("(BILL-7)")
    suites = {s.get("name"): s for s in ElementTree.parse(junit).getroot()}
    assert suites["consumer-access"].get("failures") == "0"
    assert set(suites) >= {"breaking-change", "key-ownership", "domain-cycle"}


def test_reading_another_domain_without_a_declaration_is_flagged(tmp_path: Path) -> None:
    root = scratch_mesh(
        tmp_path,
        billing_more='@asset(key=AssetKey(["billing", "product", "sneaky"]), owners=["team:b"],\n'
        '       deps=[AssetKey(["shop", "product", "orders"])])\n'
        "def sneaky() -> None:\n    pass\n",
        billing_defs='Definitions.merge(domain_definitions("billing", tables=[invoices]), '
        "Definitions(assets=[sneaky]))",
    )

    code, report = mesh_check(root)

    assert code == 1
    assert rules_broken(report) == {"undeclared-read", "contract-coverage"}
