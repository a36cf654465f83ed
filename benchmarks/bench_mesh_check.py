"""P4-lite: ``mesh check`` over a generated mesh of ``--domains`` x ``--tables`` contracts.

A complete scratch mesh project is generated, deterministically, into
``benchmarks/results/mesh-<domains>x<tables>/``: a ``workspace.yaml`` with one python_module
location per domain (``genmesh.d00.definitions``, location ``d00``, ...), a package ``genmesh``
whose domain modules declare their tables with ``@table`` through a small factory, and a valid
ODCS v3.1.0 contract per table. About a quarter of each domain's tables are curated, the rest
product; ~20% of the tables read a public product table of an earlier domain (``major=1``,
``columns=["id", "amount"]``: consumer edges, no cycle) and ~30% read an earlier table of their
own domain.

Cases, each command run in a fresh process (cwd and ``PYTHONPATH`` = the project,
``MESH_LAKE_ROOT`` a temporary folder), one untimed warm-up run (page cache, ``.pyc`` files) and
the median of ``--repeat`` timed runs of its wall time (``measure.run_process``):

- ``import``: ``python -c "import genmesh.d00.definitions, ..."``, what building every location
  costs: the imports, every contract loaded once (by ``domain_definitions``, through the project's
  cache) and every ``Definitions`` built. It is the reference: every ratio is against it.
- ``plain_import``: ``python -c "import plaingen.d00.definitions, ..."``, the same assets written in
  plain Dagster (package ``plaingen``, same project): the same keys, deps (cross-domain ones
  included), group, owners, kinds, tags, description, freshness policy and check specs (name,
  blocking, description: read from one real ``genmesh`` location when the project is generated),
  no contract and no platform_lib. Every asset's facts are compared between the two packages
  (one untimed load of each). The issue's target: ``import`` within 1.25 x ``plain_import``.
- ``check_cold``: ``mesh check --json --no-cache``: every contract parsed and validated, every
  location imported, as on a fresh clone.
- ``check``: ``mesh check --json`` with its cache (``.mesh/cache``) filled by the warm-up run: what
  a developer or CI with a restored cache sees when nothing changed. Both must pass (exit 0,
  ``passed: true``, every contract, some consumer edges).
- ``lint``: ``mesh contracts lint contracts``, the contracts alone (no location imported).
- ``lint_project``: ``mesh contracts lint``, which also imports every location to report
  contracts whose table no location defines.
- ``startup``: ``python -c "import platform_lib.cli.check"``, the fixed cost of Python and the
  check command's imports (no Dagster), whatever the mesh's size.

The issue's target is ``mesh check`` within 3 s for 2,000 contracts in 50 domains; it is judged on
the cached check, and the cold one is reported beside it. When the check's median misses
``TARGET_SECONDS`` (or with ``--profile``) one cold run is profiled with cProfile and summarised by
phase; when ``import`` misses ``PLAIN_TARGET`` x ``plain_import`` (or with ``--profile-import``),
one import of every location is.

Run: ``python benchmarks/bench_mesh_check.py --domains 50 --tables 40 --repeat 3`` (see ``run.py``).
"""

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import report
from measure import (
    MeasuredCommand,
    ProcessRun,
    command_environment,
    command_timings,
    run_process,
)
from profiles import Phase, cli_imports_phase, print_profile, profile_mesh_command
from rich.console import Console
from rich.table import Table

from data import RESULTS

BIN = Path(sys.executable).parent
MESH = BIN / "mesh"
GENERATOR_VERSION = 3
"""Bump when the generated project changes, so a stored one is rebuilt."""
MANIFEST = "benchmark-manifest.json"
DEFAULT_SEED = 20261125
PACKAGE = "genmesh"
PLAIN_PACKAGE = "plaingen"
"""The same assets in plain Dagster: no platform_lib, no contracts."""
CURATED_SHARE = 0.25
"""Share of each domain's tables in the curated layer (the first ones); the rest are products."""
CROSS_SHARE = 0.20
"""Share of all tables (outside the first domain) reading a product of an earlier domain."""
LOCAL_SHARE = 0.30
"""Share of tables reading an earlier table of their own domain."""
CROSS_COLUMNS = ("id", "amount")
TARGET_SECONDS = 3.0
"""The issue's target for ``mesh check`` at 2,000 contracts / 50 domains."""
TARGET_SIZE = (50, 40)
REFERENCE = "import"
PLAIN_REFERENCE = "plain_import"
PLAIN_TARGET = 1.25
"""The issue's target for building the definitions: ``import`` within 1.25 x ``plain_import``."""


# -- the generated project -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRead:
    """One ``reads(...)`` of a generated table: input name, producer key, major, columns."""

    input: str
    table: str
    major: int | None = None
    columns: tuple[str, ...] | None = None

    def source(self) -> str:
        """The ``reads(...)`` call as Python source."""
        args = [json.dumps(self.table)]
        if self.major is not None:
            args.append(f"major={self.major}")
        if self.columns is not None:
            args.append(f"columns={json.dumps(list(self.columns))}")
        return f"reads({', '.join(args)})"


@dataclass(frozen=True)
class PlannedTable:
    """One generated table: its domain, layer, name and reads."""

    domain: str
    layer: str
    name: str
    reads: tuple[PlannedRead, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.domain}/{self.layer}/{self.name}"


def domain_names(domains: int) -> list[str]:
    """``d00``, ``d01``, ... (wider when there are more than 100 domains)."""
    width = max(2, len(str(domains - 1)))
    return [f"d{k:0{width}d}" for k in range(domains)]


def plan_mesh(domains: int, tables: int, seed: int) -> dict[str, list[PlannedTable]]:
    """The tables of every domain and what each reads, from one seeded generator.

    Cross-domain reads go only to product tables of earlier domains, so the domain graph has no
    cycle; a curated table reads only curated tables (of its own domain), as the layers allow.
    """
    rng = random.Random(seed)
    names = domain_names(domains)
    curated = min(tables - 1, max(1, round(tables * CURATED_SHARE))) if tables > 1 else 0
    products = tables - curated
    cross_chance = min(1.0, CROSS_SHARE * tables / products) if products else 0.0
    plan: dict[str, list[PlannedTable]] = {}
    for k, domain in enumerate(names):
        planned: list[PlannedTable] = []
        for i in range(tables):
            layer = "curated" if i < curated else "product"
            table_reads: list[PlannedRead] = []
            if i > 0 and rng.random() < LOCAL_SHARE:
                earlier = planned[rng.randrange(i)]
                table_reads.append(PlannedRead("local", earlier.key))
            if layer == "product" and k > 0 and rng.random() < cross_chance:
                producer = names[rng.randrange(k)]
                j = rng.randrange(curated, tables)
                table_reads.append(
                    PlannedRead("upstream", f"{producer}/product/t{j:03d}", 1, CROSS_COLUMNS)
                )
            planned.append(PlannedTable(domain, layer, f"t{i:03d}", tuple(table_reads)))
        plan[domain] = planned
    return plan


PACKAGE_INIT = '''"""The mesh generated by benchmarks/bench_mesh_check.py: one module per domain."""

import pyarrow as pa

from platform_lib import Layer, Read, TableSpec, table


def declare(layer: Layer, name: str, **inputs: Read) -> TableSpec:
    """A table ``name`` of ``layer`` reading ``inputs``, computed by a trivial function."""

    def compute() -> pa.Table:
        return pa.table({"id": ["1"], "amount": [1.0]})

    compute.__name__ = name
    return table(layer, name=name, reads=inputs)(compute)
'''

DEFINITIONS = '''"""Domain {domain} of the generated benchmark mesh: {count} tables."""

from {package} import declare
from platform_lib import Layer, domain_definitions, reads

tables = [
{lines}
]

defs = domain_definitions("{domain}", tables=tables)
'''

CONTRACT = """# Generated by benchmarks/bench_mesh_check.py
apiVersion: v3.1.0
kind: DataContract
id: {domain}.{layer}.{table}
name: {domain} {table}
version: 1.0.0
status: active
domain: {domain}
description:
  purpose: Generated table {table} of domain {domain}, for measuring mesh check.
team:
  name: {domain}
servers:
  - {{server: local, type: local, format: delta, path: {domain}/{layer}/{table}}}
slaProperties:
  - {{property: freshness, value: 1, unit: d}}
customProperties:
  - {{property: layer, value: {layer}}}
  - {{property: access, value: public}}
  - {{property: quarantineThreshold, value: 0.05}}
schema:
  - name: {table}
    physicalType: table
    quality:
      - {{id: has_rows, metric: rowCount, mustBeGreaterThan: 0, severity: error}}
    properties:
      - {{name: id, logicalType: string, physicalType: string, required: true, unique: true}}
      - name: amount
        logicalType: number
        physicalType: decimal(18,2)
        required: true
        logicalTypeOptions: {{minimum: 0}}
      - name: currency
        logicalType: string
        physicalType: string
        required: true
        quality:
          - id: currency_known
            metric: invalidValues
            arguments: {{validValues: [EUR, SEK, USD, GBP]}}
            mustBe: 0
      - {{name: status, logicalType: string, physicalType: string}}
      - {{name: quantity, logicalType: integer, physicalType: int64}}
      - {{name: created_at, logicalType: timestamp, physicalType: timestamp_tz, required: true}}
"""


PLAIN_INIT = '''"""The generated mesh in plain Dagster, no contracts: bench_mesh_check.py wrote it.

The same assets as ``{package}``: keys, deps, group, owners, kinds, tags, description, freshness
policy, and one check spec per check platform_lib derives from a table's contract (name, blocking,
description), written out here instead of read from the contract; the same computation (pyarrow).
"""

import datetime as dt

import pyarrow as pa
from dagster import (
    AssetCheckSpec,
    AssetKey,
    AssetsDefinition,
    FreshnessPolicy,
    MaterializeResult,
    asset,
)

CHECKS = {checks}
"""(name, blocking, description) of each check of a table, as platform_lib builds them."""
FRESHNESS = FreshnessPolicy.time_window(fail_window=dt.timedelta(days={freshness_days}))


def declare(domain: str, layer: str, name: str, *deps: str) -> AssetsDefinition:
    """The asset ``domain/layer/name`` reading ``deps`` (``domain/layer/table`` each)."""
    key = AssetKey([domain, layer, name])

    @asset(
        key=key,
        description=f"{description}",
        group_name=domain,
        owners=[f"team:{{domain}}"],
        kinds={{"delta"}},
        tags={{"mesh/domain": domain, "mesh/layer": layer}},
        deps=[AssetKey(dep.split("/")) for dep in deps],
        check_specs=[
            AssetCheckSpec(check, asset=key, description=text, blocking=blocking)
            for check, blocking, text in CHECKS
        ],
        freshness_policy=FRESHNESS,
    )
    def compute() -> MaterializeResult:
        rows = pa.table({{"id": ["1"], "amount": [1.0]}})  # what {package}'s tables compute
        return MaterializeResult(metadata={{"dagster/row_count": rows.num_rows}})

    return compute
'''

PLAIN_DEFINITIONS = '''"""Domain {domain} of the generated mesh in plain Dagster: {count} tables."""

from dagster import Definitions

from {package} import declare

assets = [
{lines}
]

defs = Definitions(assets=assets)
'''

FRESHNESS_DAYS = 1
"""The SLA of ``CONTRACT`` (``freshness``, 1 d)."""
DESCRIPTION = "Generated table {table} of domain {domain}, for measuring mesh check."
"""An asset's description: ``CONTRACT``'s ``purpose``."""

FACTS_DRIVER = """
import importlib
import json
import sys
import warnings

warnings.filterwarnings("ignore")
facts = {}
for module in sys.argv[1:]:
    for assets_def in importlib.import_module(module).defs.assets:
        for spec in assets_def.specs:
            facts[spec.key.to_user_string()] = {
                "deps": sorted(dep.asset_key.to_user_string() for dep in spec.deps),
                "group": spec.group_name,
                "owners": list(spec.owners),
                "kinds": sorted(spec.kinds),
                "tags": dict(spec.tags),
                "description": spec.description,
                "freshness": repr(spec.freshness_policy),
                "checks": [
                    [check.name, check.blocking, check.description]
                    for check in assets_def.check_specs
                    if check.asset_key == spec.key
                ],
                "metadata": sorted(spec.metadata),
            }
json.dump(facts, sys.stdout)
"""
"""Print, as JSON, what defines each asset of the given definitions modules (their ``defs``)."""
SAME_FACTS = ("deps", "group", "owners", "kinds", "tags", "description", "freshness", "checks")
"""What the plain reference has the same as platform_lib's definitions (all but the metadata)."""


def _table_line(planned: PlannedTable) -> str:
    args = [f"Layer.{planned.layer.upper()}", json.dumps(planned.name)]
    args += [f"{r.input}={r.source()}" for r in planned.reads]
    return f"    declare({', '.join(args)}),"


def _plain_line(planned: PlannedTable) -> str:
    args = [planned.domain, planned.layer, planned.name, *(r.table for r in planned.reads)]
    return f"    declare({', '.join(json.dumps(a) for a in args)}),"


def asset_facts(project: Path, modules: list[str], env: dict[str, str]) -> dict[str, Any]:
    """What defines each asset of ``modules``, read from their ``defs`` (``FACTS_DRIVER``)."""
    done = subprocess.run(
        [sys.executable, "-c", FACTS_DRIVER, *modules],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"loading {modules[0]}, ... failed: {done.stderr[-2000:]}")
    facts: dict[str, Any] = json.loads(done.stdout)
    return facts


def _platform_checks(project: Path, domain: str) -> list[list[Any]]:
    """The checks platform_lib gives every generated table, read from one domain's definitions.

    Every table has the same contract but for its names, so every table has the same checks.
    """
    with tempfile.TemporaryDirectory(prefix="mesh-bench-lake-") as lake:
        env = environment(project, Path(lake))
        facts = asset_facts(project, [f"{PACKAGE}.{domain}.definitions"], env)
    checks = {json.dumps(f["checks"]) for f in facts.values()}
    if len(checks) != 1:
        raise RuntimeError(f"the tables of {domain} do not all have the same checks: {checks}")
    found: list[list[Any]] = json.loads(checks.pop())
    return found


def write_plain_package(project: Path, plan: dict[str, list[PlannedTable]]) -> None:
    """Write ``plaingen``: every domain's assets in plain Dagster, with platform_lib's checks."""
    checks = _platform_checks(project, next(iter(plan)))
    package = project / PLAIN_PACKAGE
    package.mkdir()
    listing = "(\n" + "".join(f"    {tuple(c)!r},\n" for c in checks) + ")"
    (package / "__init__.py").write_text(
        PLAIN_INIT.format(
            package=PACKAGE,
            checks=listing,
            freshness_days=FRESHNESS_DAYS,
            description=DESCRIPTION.format(table="{name}", domain="{domain}"),
        )
    )
    for domain, planned in plan.items():
        module = package / domain
        module.mkdir()
        (module / "__init__.py").write_text("")
        (module / "definitions.py").write_text(
            PLAIN_DEFINITIONS.format(
                domain=domain,
                count=len(planned),
                package=PLAIN_PACKAGE,
                lines="\n".join(_plain_line(p) for p in planned),
            )
        )


def plain_equivalence(project: Path, env: dict[str, str]) -> dict[str, Any]:
    """Compare every asset of ``plaingen`` with platform_lib's, fact by fact (``SAME_FACTS``).

    Both packages are loaded in one fresh process each; what only platform_lib adds (the
    definition metadata from the contract) is listed, not compared.
    """
    ours = asset_facts(project, definitions_modules(project, PACKAGE), env)
    plain = asset_facts(project, definitions_modules(project, PLAIN_PACKAGE), env)
    mismatches = [f"only in {PACKAGE}: {key}" for key in sorted(set(ours) - set(plain))]
    mismatches += [f"only in {PLAIN_PACKAGE}: {key}" for key in sorted(set(plain) - set(ours))]
    for key in sorted(set(ours) & set(plain)):
        mismatches += [
            f"{key} {fact}: {ours[key][fact]!r} != {plain[key][fact]!r}"
            for fact in SAME_FACTS
            if ours[key][fact] != plain[key][fact]
        ]
    deps = [(key, dep) for key, facts in ours.items() for dep in facts["deps"]]
    metadata = {name for facts in ours.values() for name in facts["metadata"]}
    return {
        "equal": not mismatches,
        "assets": len(ours),
        "checks": sum(len(facts["checks"]) for facts in ours.values()),
        "deps": len(deps),
        "cross_domain_deps": sum(key.split("/")[0] != dep.split("/")[0] for key, dep in deps),
        "compared": list(SAME_FACTS),
        "only_in_platform_metadata": sorted(
            metadata - {name for facts in plain.values() for name in facts["metadata"]}
        ),
        "mismatches": len(mismatches),
        "first_mismatches": mismatches[:20],
    }


def _manifest(domains: int, tables: int, seed: int) -> dict[str, Any]:
    return {"domains": domains, "tables": tables, "seed": seed, "generator": GENERATOR_VERSION}


def ensure_project(domains: int, tables: int, seed: int = DEFAULT_SEED) -> Path:
    """Generate the mesh project into ``results/mesh-<domains>x<tables>``, or reuse a stored one.

    The project is reused while its manifest records the same parameters (its ``.pyc`` files
    too); otherwise it is deleted and written again.
    """
    root = RESULTS / f"mesh-{domains}x{tables}"
    manifest = root / MANIFEST
    wanted = _manifest(domains, tables, seed)
    if manifest.exists() and json.loads(manifest.read_text()) == wanted:
        return root
    if root.exists():
        shutil.rmtree(root)
    plan = plan_mesh(domains, tables, seed)
    package = root / PACKAGE
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(PACKAGE_INIT)
    workspace = ["# Generated by benchmarks/bench_mesh_check.py", "load_from:"]
    for domain, planned in plan.items():
        workspace.append(
            f"  - python_module: {{module_name: {PACKAGE}.{domain}.definitions, "
            f"location_name: {domain}}}"
        )
        module = package / domain
        module.mkdir()
        (module / "__init__.py").write_text("")
        (module / "definitions.py").write_text(
            DEFINITIONS.format(
                domain=domain,
                count=len(planned),
                package=PACKAGE,
                lines="\n".join(_table_line(p) for p in planned),
            )
        )
        for table in planned:
            path = root / "contracts" / domain / table.layer / f"{table.name}.odcs.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(CONTRACT.format(domain=domain, layer=table.layer, table=table.name))
    (root / "workspace.yaml").write_text("\n".join(workspace) + "\n")
    write_plain_package(root, plan)
    manifest.write_text(json.dumps(wanted, indent=2) + "\n")
    return root


def plan_summary(domains: int, tables: int, seed: int) -> dict[str, int]:
    """Counts of the generated mesh: tables per layer, cross-domain and same-domain reads."""
    plan = plan_mesh(domains, tables, seed)
    every = [t for planned in plan.values() for t in planned]
    reads = [r for t in every for r in t.reads]
    return {
        "domains": len(plan),
        "tables": len(every),
        "curated": sum(t.layer == "curated" for t in every),
        "product": sum(t.layer == "product" for t in every),
        "cross_domain_reads": sum(r.input == "upstream" for r in reads),
        "same_domain_reads": sum(r.input == "local" for r in reads),
    }


# -- the cases -----------------------------------------------------------------------------------


def definitions_modules(project: Path, package: str) -> list[str]:
    """``<package>.d00.definitions``, ... : every domain's definitions module in ``package``."""
    found = (project / package).glob("*/definitions.py")
    return sorted(f"{package}.{path.parent.name}.definitions" for path in found)


def case_commands(project: Path) -> dict[str, tuple[list[str], str]]:
    """Case -> (command, label). ``import`` imports every location named in workspace.yaml,
    ``plain_import`` the same assets in plain Dagster."""
    modules = definitions_modules(project, PACKAGE)
    plain = definitions_modules(project, PLAIN_PACKAGE)
    return {
        "import": (
            [sys.executable, "-c", f"import {', '.join(modules)}"],
            "import every definitions module",
        ),
        "plain_import": (
            [sys.executable, "-c", f"import {', '.join(plain)}"],
            "the same assets in plain Dagster",
        ),
        "check_cold": (
            [str(MESH), "check", "--json", "--no-cache"],
            "mesh check --json --no-cache (cold)",
        ),
        "check": ([str(MESH), "check", "--json"], "mesh check --json (cached)"),
        "lint": ([str(MESH), "contracts", "lint", "contracts"], "mesh contracts lint contracts"),
        "lint_project": (
            [str(MESH), "contracts", "lint"],
            "mesh contracts lint (+ asset coverage)",
        ),
        "startup": (
            [sys.executable, "-c", "import platform_lib.cli.check"],
            "python + the check command's imports",
        ),
    }


def verify(case: str, run: ProcessRun, contracts: int) -> tuple[bool, str]:
    """Whether the run did its job on the whole mesh, and a one-line account of what it found."""
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or run.stdout.strip().splitlines() or [""])[-1]
        return False, f"exit {run.returncode}: {last[:160]}"
    if case.startswith("check"):
        report = json.loads(run.stdout)
        ok = (
            report["passed"] is True
            and report["contracts"] == contracts
            and report["tables"] == contracts
            and report["consumer_edges"] > 0
        )
        detail = (
            f"passed={report['passed']}, {report['locations']} locations, {report['tables']} "
            f"tables, {report['contracts']} contracts, {report['consumer_edges']} consumer "
            f"edges, {len(report['violations'])} violations"
        )
        return ok, detail
    if case.startswith("lint"):
        summary = run.stdout.strip().splitlines()[-1]
        expected = f"{contracts} contract(s): 0 standard error(s), 0 convention error(s)"
        return summary == expected, summary
    return True, "exit 0"


def measure_command(
    case: str, command: list[str], project: Path, env: dict[str, str], repeat: int, contracts: int
) -> MeasuredCommand:
    """One untimed warm-up run, then ``repeat`` timed runs, each in a fresh process and each
    verified (``repeat`` 0: the warm-up alone is reported, a smoke run)."""
    warm_up = run_process(command, cwd=project, env=env)
    ok, detail = verify(case, warm_up, contracts)
    timed: list[ProcessRun] = []
    for _ in range(repeat):
        timed.append(run_process(command, cwd=project, env=env))
        passed, detail = verify(case, timed[-1], contracts)
        ok = ok and passed
    return MeasuredCommand(
        command=command, timings=command_timings(warm_up, timed), verified=ok, detail=detail
    )


def environment(project: Path, lake: Path) -> dict[str, str]:
    """The environment of every measured process: the project importable, a scratch lake and
    Dagster instance (``measure.command_environment``)."""
    return command_environment(
        {
            "PYTHONPATH": str(project),
            "MESH_LAKE_ROOT": str(lake),
            "DAGSTER_HOME": str(lake / "dagster_home"),
        }
    )


# -- profiling -----------------------------------------------------------------------------------

PHASES: list[Phase] = [
    cli_imports_phase("import the CLI (platform_lib, Dagster, polars, ...)"),
    ("check_mesh (everything after the CLI's imports)", "*/governance/check.py", "check_mesh"),
    ("  load_contracts (every contract, each caller)", "*/contracts/loader.py", "load_contracts"),
    ("    read_yaml (YAML with positions)", "*/contracts/yaml_source.py", "read_yaml"),
    ("    validate_standard (ODCS standard)", "*/contracts/standard.py", "validate_standard"),
    ("      schema_issues (jsonschema iter_errors)", "*/contracts/standard.py", "schema_issues"),
    ("      model_issues (ODCS pydantic model)", "*/contracts/standard.py", "model_issues"),
    ("    compile_contract (conventions)", "*/contracts/compile.py", "compile_contract"),
    ("  load_mesh_facts (import + collect the locations)", "*/mesh/graph.py", "load_mesh_facts"),
    ("    import_location", "*/mesh/locations.py", "import_location"),
    (f"      import {PACKAGE}.*.definitions", f"*/{PACKAGE}/*/definitions.py", "<module>"),
    ("        domain_definitions", "*/orchestration/domain.py", "domain_definitions"),
    ("          project_registry (contracts)", "*/contracts/registry.py", "project_registry"),
    ("          table_asset (@asset per table)", "*/orchestration/assets.py", "table_asset"),
    ("      resolve_asset_graph", "*/definitions_class.py", "resolve_asset_graph"),
    ("  _table_rules", "*/governance/check.py", "_table_rules"),
    ("  _consumer_rules", "*/governance/check.py", "_consumer_rules"),
    ("  _domain_cycles", "*/governance/check.py", "_domain_cycles"),
    ("report_json", "*/governance/report.py", "report_json"),
]
"""(label, path pattern, function) of the functions whose cumulative time makes the summary."""


def profile_check(project: Path, env: dict[str, str]) -> Path:
    """Run ``mesh check --json --no-cache`` once under cProfile in the project; return the stats
    file."""
    out = project / "check.prof"
    done = profile_mesh_command(["check", "--json", "--no-cache"], out, cwd=project, env=env)
    if not json.loads(done.stdout or "{}").get("passed"):
        raise RuntimeError(f"profiling mesh check failed: {done.stderr[-2000:]}")
    return out


IMPORT_PROFILE_DRIVER = """
import cProfile
import importlib
import sys
import warnings


def load_platform():
    import dagster
    import platform_lib.orchestration.domain


warnings.filterwarnings("ignore")
profiler = cProfile.Profile()
profiler.enable()
load_platform()
for module in sys.argv[1:]:
    importlib.import_module(module)
profiler.disable()
profiler.dump_stats({out!r})
"""
"""Import every ``genmesh`` definitions module under cProfile (Dagster and platform_lib first)."""

IMPORT_PHASES: list[Phase] = [
    ("import Dagster and platform_lib (polars, duckdb, ...)", "<string>", "load_platform"),
    (f"import {PACKAGE}.*.definitions", f"*/{PACKAGE}/*/definitions.py", "<module>"),
    (
        "  @table and reads() (the domains' declarations)",
        "*/orchestration/table_spec.py",
        "declare",
    ),
    ("  domain_definitions", "*/orchestration/domain.py", "domain_definitions"),
    (
        "    project_registry (contracts, from .mesh/cache)",
        "*/contracts/registry.py",
        "project_registry",
    ),
    ("    table_asset", "*/orchestration/assets.py", "table_asset"),
    ("      check_specs (AssetCheckSpec per rule)", "*/orchestration/assets.py", "check_specs"),
    ("      definition_metadata", "*/orchestration/metadata.py", "definition_metadata"),
    (
        "      @asset (Dagster's decorator)",
        "*/decorators/asset_decorator.py",
        "create_assets_def_from_fn_and_decorator_args",
    ),
]
"""(label, path pattern, function) of the phases of building every location's definitions."""


def profile_definitions(project: Path, env: dict[str, str]) -> Path:
    """Import every ``genmesh`` definitions module once under cProfile; return the stats file."""
    out = project / "import.prof"
    out.unlink(missing_ok=True)
    driver = IMPORT_PROFILE_DRIVER.format(out=str(out))
    done = subprocess.run(
        [sys.executable, "-c", driver, *definitions_modules(project, PACKAGE)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode or not out.exists():
        raise RuntimeError(f"profiling the definitions' import failed: {done.stderr[-2000:]}")
    return out


def timing_table(
    title: str, measurements: dict[str, MeasuredCommand], labels: dict[str, str]
) -> Table:
    """Medians of every case, with the ratio against building every location."""
    rows = [
        report.Row(
            labels[case],
            m.timings.wall,
            (
                report.seconds_text(m.timings.cpu.median),
                report.mib_text(m.timings.rss_peak_mib),
                report.yes_no(m.verified),
            ),
        )
        for case, m in measurements.items()
    ]
    return report.timing_table(
        title,
        rows,
        reference=REFERENCE,
        reference_wall=measurements[REFERENCE].timings.wall,
        columns=("CPU", "peak RSS", "ok"),
    )


def main(
    domains: int = 50,
    tables: int = 40,
    repeat: int = 3,
    *,
    seed: int = DEFAULT_SEED,
    profile: bool | None = None,
    profile_import: bool | None = None,
) -> Path:
    """Generate the mesh, measure every case, print the tables, write the JSON results.

    Args:
        domains: Domains (code locations) of the generated mesh.
        tables: Tables (and contracts) per domain.
        repeat: Timed runs per case (after one warm-up run).
        seed: Seed of the generated mesh.
        profile: Profile one ``mesh check`` run: always (True), never (False), or when the check
            misses ``TARGET_SECONDS`` (None).
        profile_import: Profile one import of every location: always (True), never (False), or
            when ``import`` misses ``PLAIN_TARGET`` x ``plain_import`` (None).

    Returns:
        The JSON results file, ``benchmarks/results/mesh-check-<domains>x<tables>.json``.
    """
    console = report.wide_console()
    started = time.perf_counter()
    contracts = domains * tables
    project = ensure_project(domains, tables, seed)
    summary = plan_summary(domains, tables, seed)
    console.print(
        f"[bold]P4-lite mesh check[/]: {domains} domains x {tables} tables = {contracts:,} "
        f"contracts ({summary['curated']:,} curated, {summary['product']:,} product; "
        f"{summary['cross_domain_reads']:,} cross-domain and {summary['same_domain_reads']:,} "
        f"same-domain reads), median of {repeat} after a warm-up, each run a fresh process",
        highlight=False,
    )
    commands = case_commands(project)
    labels = {case: label for case, (_, label) in commands.items()}
    results: dict[str, MeasuredCommand] = {}
    with tempfile.TemporaryDirectory(prefix="mesh-bench-lake-") as lake:
        env = environment(project, Path(lake))
        for case, (command, _) in commands.items():
            results[case] = measure_command(case, command, project, env, repeat, contracts)
        equivalence = plain_equivalence(project, env)
        plain = results[PLAIN_REFERENCE]
        plain.verified = plain.verified and equivalence["equal"]
        plain.detail = (
            f"{equivalence['assets']:,} assets, {equivalence['checks']:,} checks, "
            f"{equivalence['deps']:,} deps ({equivalence['cross_domain_deps']:,} across domains): "
            + (
                f"the same {', '.join(SAME_FACTS)} as {REFERENCE}; not in plain: the contract's "
                f"metadata ({', '.join(equivalence['only_in_platform_metadata'])})"
                if equivalence["equal"]
                else f"{equivalence['mismatches']} differences, e.g. "
                + "; ".join(equivalence["first_mismatches"][:3])
            )
        )
        check = results["check"].timings.wall.median
        target_applies = (domains, tables) == TARGET_SIZE
        met = check <= TARGET_SECONDS
        console.print(
            timing_table(
                f"mesh check, {domains} x {tables} = {contracts:,} contracts", results, labels
            )
        )
        for case, m in results.items():
            report.print_command_outcome(console, case, m)
        scope = (
            ""
            if target_applies
            else f" (the target is set for {TARGET_SIZE[0]} x {TARGET_SIZE[1]})"
        )
        cold, ours = results["check_cold"].timings.wall, results[REFERENCE].timings.wall
        seconds = report.seconds_text
        console.print(
            f"target: mesh check <= {TARGET_SECONDS:.0f} s: {report.verdict(met)}, median "
            f"{seconds(check)} with its cache, {seconds(cold.median)} cold "
            f"({cold.ratio_to(ours):.2f} x building every location, {seconds(ours.median)}); "
            f"{seconds(results['startup'].timings.wall.median)} of each is the command's "
            f"imports{scope}"
        )
        plain_ratio = ours.ratio_to(plain.timings.wall)
        plain_cpu_ratio = results[REFERENCE].timings.cpu.ratio_to(plain.timings.cpu)
        plain_met = plain_ratio <= PLAIN_TARGET
        console.print(
            f"target: {REFERENCE} <= {PLAIN_TARGET:.2f} x {PLAIN_REFERENCE} (the same assets in "
            f"plain Dagster): {report.verdict(plain_met)}, "
            + report.against(results[REFERENCE].timings, plain.timings),
            highlight=False,
        )
        profiled: dict[str, Any] | None = None
        if profile or (profile is None and not met):
            profiled = print_profile(
                profile_check(project, env), console, what="mesh check", phases=PHASES
            )
        import_profiled: dict[str, Any] | None = None
        if profile_import or (profile_import is None and not plain_met):
            import_profiled = print_profile(
                profile_definitions(project, env),
                console,
                what="importing every location",
                phases=IMPORT_PHASES,
            )

    return report.write_results(
        console,
        f"mesh-check-{domains}x{tables}.json",
        "P4-lite mesh check",
        {
            "domains": domains,
            "tables_per_domain": tables,
            "contracts": contracts,
            "repeat": repeat,
            "seed": seed,
            "project": str(project),
            "mesh": summary,
            "reference": REFERENCE,
            "target_seconds": TARGET_SECONDS,
            "target_size": list(TARGET_SIZE),
            "target_met": met,
            "cases": labels,
            "results": {
                case: {**asdict(m), "ratio": m.timings.wall.ratio_to(ours)}
                for case, m in results.items()
            },
            "plain_reference": {
                "case": PLAIN_REFERENCE,
                "target_ratio": PLAIN_TARGET,
                "ratio": plain_ratio,
                "cpu_ratio": plain_cpu_ratio,
                "target_met": plain_met,
                "equivalence": equivalence,
            },
            "verified": all(m.verified for m in results.values()),
            "profile": profiled,
            "import_profile": import_profiled,
        },
        started=started,
    )


def cli() -> None:
    """Parse the command line and run the benchmark (or only profile one check)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=50, help="domains (code locations)")
    parser.add_argument("--tables", type=int, default=40, help="tables (contracts) per domain")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="profile one mesh check run (default: only when it misses the target)",
    )
    parser.add_argument(
        "--profile-import",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="profile one import of every location (default: only when it misses its target)",
    )
    parser.add_argument(
        "--profile-only",
        action="store_true",
        help="instead: generate the mesh and profile one mesh check, measuring nothing",
    )
    args = parser.parse_args()
    if args.profile_only:
        project = ensure_project(args.domains, args.tables, args.seed)
        with tempfile.TemporaryDirectory(prefix="mesh-bench-lake-") as lake:
            env = environment(project, Path(lake))
            print_profile(
                profile_check(project, env), Console(width=160), what="mesh check", phases=PHASES
            )
    else:
        main(
            args.domains,
            args.tables,
            args.repeat,
            seed=args.seed,
            profile=args.profile,
            profile_import=args.profile_import,
        )


if __name__ == "__main__":
    cli()
