"""A scratch mesh project in a scratch git repository, and ``mesh check`` run on it as CI runs it:
shop publishes orders, billing reads them."""

import json
import os
import subprocess
import textwrap
from pathlib import Path

from tests.conftest import BIN, write_contract

ORDERS_V1 = """schema:
  - name: orders
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true, unique: true}
      - {name: amount, logicalType: number, physicalType: "decimal(18,2)", required: true}
      - {name: note, logicalType: string, physicalType: string}
"""
INVOICES = """schema:
  - name: invoices
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true}
      - {name: total, logicalType: number, physicalType: "decimal(18,2)"}
"""
SHOP = """
from platform_lib import Layer, domain_definitions, reads, table
import pyarrow as pa

@table(Layer.PRODUCT{extra_reads})
def orders() -> pa.Table:
    return pa.table({{}})
{more}
defs = domain_definitions("shop", tables=[orders{more_tables}])
"""
BILLING = """
from dagster import AssetKey, Definitions, asset
from platform_lib import Layer, domain_definitions, reads, table
import pyarrow as pa

@table(Layer.PRODUCT, reads={{"orders": reads("shop/product/orders", major={major},
                                              columns={columns})}})
def invoices(orders: pa.Table) -> pa.Table:
    return orders
{more}
defs = {defs}
"""


def scratch_mesh(
    root: Path,
    *,
    major: int = 1,
    columns: str = '["id", "amount"]',
    shop_extra_reads: str = "",
    shop_more: str = "",
    shop_more_tables: str = "",
    billing_more: str = "",
    billing_defs: str = 'domain_definitions("billing", tables=[invoices])',
    orders_access: str = "public",
) -> Path:
    """A two-domain mesh project: shop publishes orders, billing reads them; committed to git."""
    (root / "workspace.yaml").write_text(
        textwrap.dedent(
            """\
            load_from:
              - python_module: {module_name: scratchmesh.shop, location_name: shop}
              - python_module: {module_name: scratchmesh.billing, location_name: billing}
            """
        )
    )
    package = root / "scratchmesh"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "shop.py").write_text(
        SHOP.format(extra_reads=shop_extra_reads, more=shop_more, more_tables=shop_more_tables)
    )
    (package / "billing.py").write_text(
        BILLING.format(major=major, columns=columns, more=billing_more, defs=billing_defs)
    )
    write_contract(root, "shop/product/orders", ORDERS_V1, access=orders_access)
    write_contract(root, "billing/product/invoices", INVOICES)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def git(root: Path, *args: str) -> None:
    """Run git in ``root`` as a fixed author."""
    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        },
    )


def mesh_check(root: Path, *args: str) -> tuple[int, dict[str, object]]:
    """``mesh check --json`` in ``root``: its exit code and its report (never a traceback)."""
    result = subprocess.run(
        [str(BIN / "mesh"), "check", "--json", *args],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "MESH_LAKE_ROOT": str(root / "lake")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def rules_broken(report: dict[str, object]) -> set[str]:
    """The rules a report fails on (errors not exempted)."""
    violations = report["violations"]
    assert isinstance(violations, list)
    return {v["rule_id"] for v in violations if v["level"] == "error" and not v["exemption"]}
