"""``mesh test`` and ``mesh contracts lint`` as a CI job runs them: real tables, real contracts."""

import json
import subprocess
from xml.etree import ElementTree

import pyarrow as pa
from deltalake import write_deltalake

from tests.conftest import BIN, MeshEnv, run_command, write_contract

EXTERNAL = """apiVersion: v3.1.0
kind: DataContract
id: 4b1c-vendor-prices
version: 2.1.0
status: active
servers:
  - {server: local, type: local, format: delta, path: data/prices}
schema:
  - name: Prices
    quality:
      - {id: enough_rows, metric: rowCount, mustBeGreaterThan: 2, severity: error}
    properties:
      - {name: sku, logicalType: string, physicalType: string, required: true, unique: true}
      - name: price
        logicalType: number
        physicalType: double
        logicalTypeOptions: {exclusiveMinimum: 0}
"""


def mesh(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_command(["mesh", *args], env)


def test_project_contracts_lint_clean(mesh_env: MeshEnv) -> None:
    result = mesh("contracts", "lint", env=mesh_env.environ())

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_materialised_table_passes_its_contract_with_junit(mesh_env: MeshEnv) -> None:
    env = mesh_env.environ()
    assert mesh("materialize", "--domain", "payments", env=env).returncode == 0
    junit = mesh_env.root / "reports" / "contracts.xml"

    result = mesh("test", "payments.curated.transactions", "--junit", str(junit), env=env)
    as_json = mesh("test", "payments/curated/transactions", "--json", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "payments.curated.transactions: passed" in result.stdout
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    assert int(suite.get("tests", "0")) >= 20
    report = json.loads(as_json.stdout)
    assert report["passed"] is True
    assert report["result"]["rows_in"] > 3000


def test_an_external_contract_tests_the_table_its_server_names(mesh_env: MeshEnv) -> None:
    folder = mesh_env.root / "vendor"
    (folder / "data").mkdir(parents=True)
    write_deltalake(
        str(folder / "data" / "prices"),
        pa.table({"sku": ["a", "b", "b"], "price": [1.0, -2.0, 3.0]}),
    )
    contract = folder / "prices.odcs.yaml"
    contract.write_text(EXTERNAL)
    junit = mesh_env.root / "external.xml"

    result = mesh("test", str(contract), "--junit", str(junit), env=mesh_env.environ())

    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout
    failed = {
        case.get("name")
        for case in ElementTree.parse(junit).iter("testcase")
        if case.find("failure") is not None
    }
    assert failed == {"sku_unique", "price_range", "enough_rows", "quarantine_threshold"}


def test_an_unknown_contract_is_a_clear_error(mesh_env: MeshEnv) -> None:
    result = mesh("test", "payments.curated.nope", env=mesh_env.environ())

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "no contract has the id 'payments.curated.nope'" in result.stderr


def test_a_contract_without_an_asset_is_reported(mesh_env: MeshEnv) -> None:
    project = mesh_env.root / "project"
    project.mkdir()
    (project / "workspace.yaml").write_text("load_from: []\n")
    write_contract(
        project,
        "shop/curated/orders",
        "schema:\n  - name: orders\n    properties:\n"
        "      - {name: id, logicalType: string, physicalType: string}\n",
    )

    result = subprocess.run(
        [str(BIN / "mesh"), "contracts", "lint"],
        cwd=project,
        env=mesh_env.environ(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "orders.odcs.yaml:1:1: [contract-asset]" in result.stdout
    assert "no code location defines the table shop/curated/orders" in result.stdout
