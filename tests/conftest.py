"""Shared fixtures: an isolated mesh environment (lake, landing zone, Dagster instance) per test."""

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import duckdb
import pytest
from dagster import DagsterInstance

from platform_lib.contracts.loader import load_contract
from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.lake.committer import WriteMode
from platform_lib.lake.partitions import PartitionWrite
from platform_lib.lake.publish.request import PublishRequest
from platform_lib.mesh.graph import Mesh, load_mesh
from platform_lib.settings import MeshSettings, resolve_settings

pytest_plugins = ["tests.alert_receiver"]
"""Fixtures defined in helper modules, available to every test."""

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TELEMETRY_OFF = "telemetry:\n  enabled: false\n"


def load_demo_generator() -> ModuleType:
    """The demo landing generator (``data/generate_demo.py``), which is a script, not a package."""
    path = PROJECT_ROOT / "data" / "generate_demo.py"
    spec = importlib.util.spec_from_file_location("generate_demo", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class MeshEnv:
    """Paths of an isolated mesh, and the demo landing files' record counts."""

    root: Path
    lake: Path
    landing: Path
    dagster_home: Path
    source_records: int
    malformed_records: int

    @property
    def settings(self) -> MeshSettings:
        return resolve_settings()

    def environ(self) -> dict[str, str]:
        """Environment variables for a subprocess using this mesh."""
        return {
            **os.environ,
            "MESH_LAKE_ROOT": str(self.lake),
            "MESH_LANDING_ROOT": str(self.landing),
            "DAGSTER_HOME": str(self.dagster_home),
        }


def make_mesh_env(root: Path, monkeypatch: pytest.MonkeyPatch) -> MeshEnv:
    landing = root / "landing"
    # Every domain's landing files (a domain added with `mesh new` brings its sample), then the
    # demo payments files regenerated in place to learn their record counts.
    shutil.copytree(PROJECT_ROOT / "data" / "landing", landing)
    demo = load_demo_generator().write_demo_landing(landing / "payments" / "transactions")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(TELEMETRY_OFF)
    env = MeshEnv(
        root=root,
        lake=root / "lake",
        landing=landing,
        dagster_home=home,
        source_records=demo.records,
        malformed_records=demo.malformed,
    )
    monkeypatch.setenv("MESH_LAKE_ROOT", str(env.lake))
    monkeypatch.setenv("MESH_LANDING_ROOT", str(env.landing))
    monkeypatch.setenv("DAGSTER_HOME", str(env.dagster_home))
    return env


@pytest.fixture
def mesh_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MeshEnv:
    """A fresh lake, a landing zone holding the demo files, and an empty Dagster instance."""
    return make_mesh_env(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def module_mesh_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeshEnv]:
    """Like ``mesh_env``, shared by the tests of one module."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield make_mesh_env(tmp_path_factory.mktemp("mesh"), monkeypatch)


@pytest.fixture
def project_mesh() -> Mesh:
    """The project's real mesh: every code location of workspace.yaml."""
    return load_mesh(PROJECT_ROOT).require_loaded()


def instance_for(env: MeshEnv) -> DagsterInstance:
    """The Dagster instance stored in the mesh environment's DAGSTER_HOME."""
    return DagsterInstance.from_config(str(env.dagster_home))


def sql(query: str, **tables: object) -> list[tuple[object, ...]]:
    """Run ``query`` in a fresh in-memory DuckDB where each keyword is a registered Arrow input."""
    with duckdb.connect(":memory:") as connection:
        for name, data in tables.items():
            connection.register(name, data)
        return connection.execute(query).fetchall()


def write_contract(
    folder: Path,
    key: str,
    body: str,
    *,
    access: str = "public",
    properties: str = "",
    version: str = "1.0.0",
) -> Path:
    """Write a contract for ``key`` (domain/layer/table) under ``folder``/contracts, by convention.

    ``body`` is the ``schema`` part and anything after it; the header (ids, ``version``, team,
    server, layer, ``access``, threshold 0.5, then the ``customProperties`` entries in
    ``properties``) is filled in from the key.
    """
    domain, layer, table = key.split("/")
    path = folder / "contracts" / domain / layer / f"{table}.odcs.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"""apiVersion: v3.1.0
kind: DataContract
id: {domain}.{layer}.{table}
version: {version}
status: active
domain: {domain}
team:
  name: {domain}
servers:
  - {{server: local, type: local, format: delta, path: {key}}}
customProperties:
  - {{property: layer, value: {layer}}}
  - {{property: access, value: {access}}}
  - {{property: quarantineThreshold, value: 0.5}}
{properties}{body}"""
    )
    return path


def contract_for(folder: Path, key: str, body: str) -> TableContract:
    """Write and load a contract (see ``write_contract``); fail on any finding."""
    load = load_contract(write_contract(folder, key, body))
    assert load.contract is not None and not load.findings, [f.render() for f in load.findings]
    return load.contract


def publish_request(
    key: TableKey,
    contract: TableContract,
    settings: MeshSettings,
    *,
    run_id: str = "run-1",
    mode: WriteMode = WriteMode.OVERWRITE,
    partition_by: tuple[str, ...] = (),
    partition: PartitionWrite | None = None,
) -> PublishRequest:
    """A publish of ``key`` by ``contract``: an overwrite by the run ``run-1`` unless told."""
    return PublishRequest(
        key, contract=contract, mode=mode, settings=settings, run_id=run_id,
        partition_by=partition_by, partition=partition,
    )  # fmt: skip


RAW_ENVELOPE = """      - name: _ingested_at
        logicalType: timestamp
        physicalType: timestamp_tz
        required: true
      - {name: _batch_id, logicalType: string, physicalType: string, required: true}
      - {name: _source_file, logicalType: string, physicalType: string, required: true}
      - {name: _source_sha256, logicalType: string, physicalType: string, required: true}
      - {name: _line_number, logicalType: integer, physicalType: int64, required: true}
      - {name: _raw_record, logicalType: string, physicalType: string, required: true}
      - {name: _parse_error, logicalType: string, physicalType: string}
      - {name: _arrival_seq, logicalType: integer, physicalType: int64}
"""
"""The envelope columns every raw contract lists after the source's columns (YAML, indented)."""


BIN = Path(sys.executable).parent
"""The venv's scripts: ``mesh``, ``dagster``, ``ruff``."""


def run_command(
    args: Sequence[str], env: dict[str, str], *, cwd: Path = PROJECT_ROOT
) -> subprocess.CompletedProcess[str]:
    """Run one of the venv's commands (``["mesh", "tables"]``) as a user would, output captured."""
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def tokyo_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is Asia/Tokyo (UTC+9) for the test."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


PROJECT_PARTS = (
    "platform_lib",
    "domains",
    "contracts",
    "data",
    "tests",
    "workspace.yaml",
    "pyproject.toml",
)
"""What a scratch copy of the project holds: code, contracts, landing data, tests."""


def copy_project(copy: Path) -> Path:
    """A scratch copy of the project at ``copy``, to change files a test must not touch here.

    Run the ``mesh`` command in it with ``cwd=copy`` and ``PYTHONPATH=copy``.
    """
    copy.mkdir(parents=True)
    for name in PROJECT_PARTS:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, copy / name)
    return copy


def scratch_project(
    root: Path, package: str, modules: Mapping[str, str], contracts: Mapping[str, str]
) -> dict[str, str]:
    """A small project of its own at ``root``: one code location per module of ``package``
    (``{location name: source}``), the ``contracts`` (``{table key: body}``, see
    :func:`write_contract`) and an empty Dagster instance.

    Returns the environment to run ``mesh`` in it with ``cwd=root``.
    """
    entries = "".join(
        f"  - python_module: {{module_name: {package}.{name}, location_name: {name}}}\n"
        for name in modules
    )
    (root / "workspace.yaml").write_text(f"load_from:\n{entries}")
    (root / package).mkdir()
    (root / package / "__init__.py").write_text("")
    for name, source in modules.items():
        (root / package / f"{name}.py").write_text(source)
    for key, body in contracts.items():
        write_contract(root, key, body)
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(TELEMETRY_OFF)
    return {
        **os.environ,
        "PYTHONPATH": str(root),
        "MESH_LAKE_ROOT": str(root / "lake"),
        "DAGSTER_HOME": str(home),
    }


DAILY_SHOP = '''
import datetime as dt

import pyarrow as pa

from platform_lib import Layer, daily, domain_definitions, table


@table(Layer.CURATED, partition=daily("day", start="2026-03-01"))
def bookings(partition_date: dt.date) -> pa.Table:
    """Three bookings a day, one of them dated the next day (quarantined)."""
    n = partition_date.day
    return pa.table(
        {
            "id": [f"{partition_date}-a", f"{partition_date}-b", f"{partition_date}-late"],
            "day": [partition_date, partition_date, partition_date + dt.timedelta(days=1)],
            "amount": [n, n * 10, 0],
        }
    )


defs = domain_definitions("shop", tables=[bookings])
'''
DAILY_BOOKINGS = """schema:
  - name: bookings
    physicalType: table
    properties:
      - {name: id, logicalType: string, physicalType: string, required: true, unique: true}
      - {name: day, logicalType: date, physicalType: date, required: true}
      - {name: amount, logicalType: integer, physicalType: int64}
"""


def daily_project(root: Path) -> dict[str, str]:
    """A scratch project: shop's daily-partitioned bookings."""
    return scratch_project(
        root, "daymesh", {"shop": DAILY_SHOP}, {"shop/curated/bookings": DAILY_BOOKINGS}
    )
