"""A broken code location or contract affects only what depends on it.

Each test breaks one part of a scratch copy of the demo mesh (finance's location, or one of
payments' contracts) and runs the commands a team runs: what does not depend on the broken part is
materialised, listed and checked, and the broken part is reported once, as one line naming the
location (or the table), the file and line, and the fix.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, TELEMETRY_OFF, copy_project, run_command
from tests.governance.scratch_mesh import git

HEALTHY = {
    "payments/raw/transactions",
    "payments/curated/transactions",
    "payments/product/settlements",
    "payments/product/settlements_v2",
    "fraud/product/account_risk",
}
FINANCE = {"finance/product/daily_revenue", "finance/product/reconciliation"}
FINANCE_MODULE = "domains.finance.definitions"


def broken_finance(project: Path, kind: str) -> str:
    """Break finance's location in ``project`` the ``kind`` way; the file:line to be named."""
    definitions = project / "domains" / "finance" / "definitions.py"
    if kind == "module missing":
        workspace = project / "workspace.yaml"
        text = workspace.read_text()
        workspace.write_text(text.replace(FINANCE_MODULE, "domains.finance.defintions"))
        line = 1 + text[: text.index(FINANCE_MODULE)].count("\n")
        return f"workspace.yaml:{line}"
    if kind == "raises on import":
        definitions.write_text('"""Finance."""\n\nraise RuntimeError("no finance today")\n')
        return "domains/finance/definitions.py:3"
    definitions.write_text('"""Finance."""\n\ndefs = domain_definitions(\n')
    return "domains/finance/definitions.py:3"


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A scratch copy of the demo mesh, with its own lake, landing zone and Dagster instance."""
    root = copy_project(tmp_path / "project")
    shutil.copytree(PROJECT_ROOT / "data" / "landing", tmp_path / "landing")
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(TELEMETRY_OFF)
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "MESH_LAKE_ROOT": str(tmp_path / "lake"),
        "MESH_LANDING_ROOT": str(tmp_path / "landing"),
        "DAGSTER_HOME": str(home),
    }
    return root, env


def mesh(project: tuple[Path, dict[str, str]], *args: str) -> subprocess.CompletedProcess[str]:
    """``mesh ARGS`` run in the scratch project; never a traceback."""
    root, env = project
    result = run_command(["mesh", *args], env, cwd=root)
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def reported(result: subprocess.CompletedProcess[str], location: str) -> list[str]:
    """The lines of the output naming ``location`` as broken."""
    return [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.startswith(f"broken location {location}:")
    ]


@pytest.mark.parametrize("kind", ["module missing", "raises on import", "syntax error"])
def test_a_broken_location_stops_only_itself(
    project: tuple[Path, dict[str, str]], tmp_path: Path, kind: str
) -> None:
    where = broken_finance(project[0], kind)

    everything = mesh(project, "materialize", "--all")
    payments = mesh(project, "materialize", "--domain", "payments")
    finance = mesh(project, "materialize", "--select", "finance/product/*")
    rejected = mesh(project, "quarantine", "show", "payments/curated/transactions", "--json")
    status = mesh(project, "status", "--json")
    tables = mesh(project, "tables", "--json")
    catalog = mesh(project, "catalog", "--out", str(tmp_path / "catalog"))
    checks = [mesh(project, "check", "--json") for _ in ("imported", "cached")]

    assert everything.returncode == 1, everything.stdout + everything.stderr
    assert all(f"materialized  {key}" in everything.stdout for key in HEALTHY), everything.stdout
    (line,) = reported(everything, "finance")
    assert where in line and "fix:" in line
    assert payments.returncode == 0, payments.stdout + payments.stderr
    assert not reported(payments, "finance")
    assert finance.returncode == 2 and where in finance.stderr and "fix: " in finance.stderr
    assert rejected.returncode == 0, rejected.stdout + rejected.stderr
    assert status.returncode == 1
    assert {s["key"] for s in json.loads(status.stdout)} == HEALTHY
    assert len(reported(status, "finance")) == 1
    assert tables.returncode == 1
    assert {t["key"] for t in json.loads(tables.stdout) if not t["quarantine_of"]} == HEALTHY
    assert len(reported(tables, "finance")) == 1
    assert catalog.returncode == 1 and len(reported(catalog, "finance")) == 1
    assert "finance" in (tmp_path / "catalog" / "index.html").read_text()
    for check in checks:
        errors = [v for v in json.loads(check.stdout)["violations"] if v["level"] == "error"]
        assert [(v["rule_id"], v["subject"]) for v in errors] == [("location-import", "finance")]
        assert where in errors[0]["message"]


def not_loaded(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The lines of the output naming a table as broken, by table."""
    found: dict[str, str] = {}
    for line in (result.stdout + result.stderr).splitlines():
        if line.startswith("broken table "):
            key = line.removeprefix("broken table ").split(":", 1)[0]
            assert key not in found, f"{key} reported twice"
            found[key] = line
    return found


@pytest.mark.parametrize(
    ("broken", "readers"),
    [
        ("payments/product/settlements", set()),
        ("payments/product/settlements_v2", {"finance/product/reconciliation"}),
        (
            "payments/raw/transactions",
            {"payments/curated/transactions", "fraud/product/account_risk"},
        ),
    ],
)
def test_a_broken_contract_stops_only_what_reads_it(
    project: tuple[Path, dict[str, str]], tmp_path: Path, broken: str, readers: set[str]
) -> None:
    root, _ = project
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the demo mesh")
    assert mesh(project, "materialize", "--all").returncode == 0
    contract = root / "contracts" / f"{broken}.odcs.yaml"
    contract.write_bytes(contract.read_bytes().replace(b"description:", b"descr\xff:", 1))
    line = 1 + contract.read_bytes()[: contract.read_bytes().index(b"descr\xff:")].count(b"\n")
    affected = {broken, *readers}
    healthy = (HEALTHY | FINANCE) - affected

    domains = {d: mesh(project, "materialize", "--domain", d) for d in ("fraud", "finance")}
    domains["payments"] = mesh(project, "materialize", "--domain", "payments")
    alone = mesh(project, "materialize", "--select", broken)
    everything = mesh(project, "materialize", "--all")
    status = mesh(project, "status", "--json")
    tables = mesh(project, "tables", "--json")
    catalog = mesh(project, "catalog", "--out", str(tmp_path / "catalog"))
    check = mesh(project, "check", "--json")
    against_base = mesh(project, "check", "--json", "--base", "main")

    for domain, run in domains.items():
        stopped = {key for key in affected if key.startswith(f"{domain}/")}
        ran = {key for key in healthy if key.startswith(f"{domain}/")}
        if not ran:  # every table of the domain is stopped: an error naming the first
            assert run.returncode == 2, run.stdout + run.stderr
            assert run.stderr.startswith(f"error: broken table {min(stopped)}: ")
            continue
        assert run.returncode == (1 if stopped else 0), run.stdout + run.stderr
        assert set(not_loaded(run)) == stopped
        assert all(f"materialized  {key}" in run.stdout for key in ran), run.stdout
        assert not stopped & set(run.stdout.split())
    for reported_line in not_loaded(domains["payments"]).values():
        assert f"{contract}:{line}:" in reported_line
        assert "fix: save the file as UTF-8" in reported_line
    assert alone.returncode == 2, alone.stdout + alone.stderr
    assert f"{broken}: " in alone.stderr and f"{contract}:{line}:" in alone.stderr
    assert "fix: save the file as UTF-8" in alone.stderr
    assert everything.returncode == 1, everything.stdout + everything.stderr
    assert all(f"materialized  {key}" in everything.stdout for key in healthy)
    assert set(not_loaded(everything)) == affected
    for listing in (status, tables):
        assert listing.returncode == 1, listing.stdout + listing.stderr
        assert {t["key"] for t in json.loads(listing.stdout) if not t.get("quarantine_of")} == (
            healthy
        )
        assert set(not_loaded(listing)) == affected
        assert not reported(listing, "payments")
    assert catalog.returncode == 1 and set(not_loaded(catalog)) == affected
    assert broken in (tmp_path / "catalog" / "index.html").read_text()
    for report in (check, against_base):
        errors = [v for v in json.loads(report.stdout)["violations"] if v["level"] == "error"]
        (finding,) = errors
        assert finding["rule_id"] == "contract-lint"
        assert finding["subject"].startswith(f"{contract}:")
