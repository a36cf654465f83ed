"""``mesh contracts infer``: a draft contract per demo table, clean under lint and ``mesh test``.

The ``mesh`` commands run as real subprocesses, side by side: each pays the interpreter's start-up
(importing Dagster), so they run in parallel rather than one after the other.
"""

import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from deltalake import write_deltalake

from platform_lib.contracts.loader import load_contract
from platform_lib.contracts.rules import AcceptedValues
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.mesh.graph import Mesh, load_mesh
from platform_lib.mesh.run import materialize_mesh
from platform_lib.operations.contract_test import run_contract_test
from platform_lib.scaffold.infer import infer_contract, key_of_uri
from tests.conftest import PROJECT_ROOT, MeshEnv, instance_for, run_command

RAW = TableKey.parse("payments/raw/transactions")
CURATED = TableKey.parse("payments/curated/transactions")
SETTLEMENTS_V2 = TableKey.parse("payments/product/settlements_v2")


def mesh_all(
    commands: Sequence[Sequence[str]], env: dict[str, str]
) -> list[subprocess.CompletedProcess[str]]:
    """Run each ``mesh`` command line as a subprocess, side by side; results in order."""

    def run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return run_command(["mesh", *args], env)

    with ThreadPoolExecutor() as pool:
        return list(pool.map(run, commands))


def contract_path(folder: Path, key: TableKey) -> Path:
    return folder / "contracts" / key.domain / key.layer.value / f"{key.table}.odcs.yaml"


def properties(path: Path) -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(path.read_text())
    return {p["name"]: p for p in document["schema"][0]["properties"]}


@pytest.fixture(scope="module")
def mesh() -> Mesh:
    return load_mesh(PROJECT_ROOT).require_loaded()


@pytest.fixture(scope="module")
def lake(module_mesh_env: MeshEnv, mesh: Mesh) -> MeshEnv:
    """The demo mesh, every table materialised once for the module."""
    report = materialize_mesh(mesh, list(mesh.tables), instance_for(module_mesh_env))
    assert report.succeeded, report
    return module_mesh_env


@pytest.fixture(scope="module")
def drafts(
    lake: MeshEnv, mesh: Mesh, tmp_path_factory: pytest.TempPathFactory
) -> dict[TableKey, Path]:
    """A draft contract per demo table, inferred by ``mesh contracts infer --out``, in a
    ``contracts/<domain>/<layer>/<table>.odcs.yaml`` folder outside the project."""
    folder = tmp_path_factory.mktemp("drafts")
    keys = sorted(mesh.tables, key=str)
    paths = {key: contract_path(folder, key) for key in keys}
    uris = {key: key.uri(lake.settings) for key in keys}
    # --server-path: the absolute location, so that `mesh test <file>` finds the table.
    commands = [
        [
            "contracts",
            "infer",
            uris[key],
            "--key",
            str(key),
            "--out",
            str(paths[key]),
            "--server-path",
            uris[key],
        ]
        for key in keys
    ]
    for key, result in zip(keys, mesh_all(commands, lake.environ()), strict=True):
        assert result.returncode == 0, f"{key}: {result.stdout}{result.stderr}"
        assert f"wrote the draft contract of {key}" in result.stdout
    return paths


def test_every_demo_table_gets_a_draft_that_lints_clean_and_passes_mesh_test(
    lake: MeshEnv, drafts: dict[TableKey, Path]
) -> None:
    assert {RAW, CURATED, SETTLEMENTS_V2} <= set(drafts)
    files = [str(path) for path in drafts.values()]

    lint, *tests = mesh_all(
        [["contracts", "lint", *files], *(["test", file] for file in files)], lake.environ()
    )

    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert f"{len(files)} contract(s): 0 standard error(s), 0 convention error(s)" in lint.stdout
    for key, result in zip(drafts, tests, strict=True):
        contract_id = f"{key.domain}.{key.layer.value}.{key.table}"
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"{contract_id}: passed" in result.stdout


def test_a_draft_follows_the_conventions_of_its_table(
    lake: MeshEnv, drafts: dict[TableKey, Path]
) -> None:
    text = drafts[SETTLEMENTS_V2].read_text()
    document = yaml.safe_load(text)
    custom = {entry["property"]: entry["value"] for entry in document["customProperties"]}

    assert text.startswith(
        f"# DRAFT contract of {SETTLEMENTS_V2}, inferred from {SETTLEMENTS_V2.uri(lake.settings)}"
        " at version 0 on "
    )
    assert document["id"] == "payments.product.settlements_v2"
    assert document["version"] == "2.0.0"  # major 2 is the table settlements_v2
    assert document["team"] == {"name": "payments"}
    assert custom == {"layer": "product", "access": "private", "quarantineThreshold": 0.1}
    assert "widen it deliberately" in text
    assert document["schema"][0]["quality"] == [
        {
            "id": "has_rows",
            "metric": "rowCount",
            "mustBeGreaterThan": 0,
            "severity": "error",
            "description": "An empty table is an upstream failure, not a quiet day.",
        }
    ]


def test_low_cardinality_text_gets_valid_values_and_an_identifier_gets_unique(
    drafts: dict[TableKey, Path],
) -> None:
    curated = properties(drafts[CURATED])

    assert curated["currency"]["quality"] == [
        {
            "id": "currency_known",
            "metric": "invalidValues",
            "arguments": {"validValues": ["DKK", "EUR", "GBP", "NOK", "SEK", "USD"]},
            "mustBe": 0,
            "description": "The 6 value(s) currency held when the contract was inferred.",
        }
    ]
    assert curated["status"]["quality"][0]["arguments"]["validValues"] == [
        "authorized",
        "declined",
        "refunded",
        "settled",
    ]
    assert "quality" not in curated["account_id"]  # 295 accounts: not a list of values
    assert curated["transaction_id"]["unique"] is True
    assert curated["transaction_id"]["required"] is True
    assert "unique" not in curated["account_id"]
    assert "unique" not in curated["amount"]  # a measure, however distinct
    assert curated["amount"]["physicalType"] == "decimal(18,2)"
    assert curated["created_at"]["physicalType"] == "timestamp_tz"


def test_raw_source_columns_are_text_as_it_arrived_and_lineage_is_kept(
    drafts: dict[TableKey, Path],
) -> None:
    raw = properties(drafts[RAW])

    assert list(raw)[:7] == [
        "transaction_id",
        "account_id",
        "amount",
        "currency",
        "merchant",
        "created_at",
        "status",
    ]
    assert all(
        raw[name].keys() == {"name", "logicalType", "physicalType", "description"}
        for name in list(raw)[:7]
    )
    assert raw["currency"]["physicalType"] == "string"
    assert raw["_batch_id"]["required"] is True
    assert "required" not in raw["_parse_error"]  # null for every parsed record
    assert raw["_ingested_at"]["physicalType"] == "timestamp_tz"
    assert "quality" not in raw["_source_file"]  # lineage values change with every batch


def test_the_key_is_read_from_a_mesh_location_or_asked_for(lake: MeshEnv) -> None:
    settings = lake.settings

    assert key_of_uri(CURATED.uri(settings), settings) == CURATED
    with pytest.raises(MeshError, match="not <domain>/<layer>/<table> under the lake root") as e:
        key_of_uri(str(lake.root / "elsewhere" / "table"), settings)
    assert "--key" in e.value.fix
    with pytest.raises(MeshError, match="unknown layer 'gold'"):
        key_of_uri(settings.table_uri("payments", "gold", "transactions"), settings)


def test_nulls_odd_values_and_unsupported_types(tmp_path: Path) -> None:
    uri = str(tmp_path / "data" / "odd")
    write_deltalake(
        uri,
        pa.table(
            {
                "id": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
                "answer": ["yes", "no", "yes", None, "no", "yes"],
                "day": ["2024-01-01", "2024-01-02"] * 3,
                "code": ["1", "2", "1", "2", "1", "2"],
                "tags": [["a"], ["b"], None, [], ["a"], ["c"]],
                "score": [1.5, 2.5, None, 1.0, 2.0, 3.0],
            }
        ),
    )
    path = contract_path(tmp_path, TableKey.parse("vendor/curated/odd"))
    path.parent.mkdir(parents=True)

    text = infer_contract(
        uri, TableKey.parse("vendor/curated/odd"), max_valid_values=3, server_path=uri
    )
    path.write_text(text)
    props = properties(path)
    load = load_contract(path, external=True)

    assert props["id"]["unique"] is True and props["id"]["required"] is True
    assert "required" not in props["answer"] and "required" not in props["score"]
    assert props["answer"]["quality"][0]["arguments"]["validValues"] == ["no", "yes"]
    assert props["day"]["quality"][0]["arguments"]["validValues"] == ["2024-01-01", "2024-01-02"]
    assert props["code"]["quality"][0]["arguments"]["validValues"] == ["1", "2"]
    assert "validValues: ['1', '2']" in text
    assert props["tags"]["physicalType"] == "string"
    assert "# Arrow type list<element: string> has no contract type" in text
    assert "min 1.0, max 3.0" in props["score"]["description"]
    assert load.contract is not None and not load.findings, [f.render() for f in load.findings]
    known = [r for r in load.contract.rules if isinstance(r, AcceptedValues)]
    assert {r.id: r.values for r in known} == {
        "answer_known": ("no", "yes"),
        "day_known": ("2024-01-01", "2024-01-02"),
        "code_known": ("1", "2"),
    }
    assert run_contract_test(load.contract, uri).passed

    few = yaml.safe_load(
        infer_contract(uri, TableKey.parse("vendor/curated/odd"), max_valid_values=1)
    )
    assert all("quality" not in p for p in few["schema"][0]["properties"])


def test_out_never_overwrites_and_a_missing_table_is_a_one_line_error(
    lake: MeshEnv, drafts: dict[TableKey, Path]
) -> None:
    existing = drafts[CURATED]
    before = existing.read_text()
    missing = str(lake.root / "no" / "such" / "table")

    overwrite, absent = mesh_all(
        [
            ["contracts", "infer", CURATED.uri(lake.settings), "--out", str(existing)],
            ["contracts", "infer", missing, "--key", "payments/curated/nothing"],
        ],
        lake.environ(),
    )

    assert overwrite.returncode == 2 and "Traceback" not in overwrite.stderr
    assert f"error: {existing} already exists" in overwrite.stderr
    assert existing.read_text() == before
    assert absent.returncode == 2 and "Traceback" not in absent.stderr
    assert absent.stdout == ""
    assert f"error: no Delta table at {missing}" in absent.stderr
    assert "fix: check the path" in absent.stderr
