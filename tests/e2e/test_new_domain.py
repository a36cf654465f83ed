"""``mesh new``: a scaffolded domain materialises, passes ``mesh check`` and lint, untouched."""

import os
import subprocess
from pathlib import Path

import pytest

from platform_lib.conventions import TableKey
from platform_lib.lake.reader import read_arrow
from tests.conftest import BIN, MeshEnv, copy_project, run_command


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch copy of the project (code, contracts, landing data, tests)."""
    return copy_project(tmp_path / "project")


def mesh(project: Path, env: MeshEnv, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **env.environ(),
        "PYTHONPATH": str(project),
        "MESH_LANDING_ROOT": str(project / "data" / "landing"),
    }
    return run_command(["mesh", *args], environ, cwd=project)


def test_a_new_domain_works_without_editing_a_file(project: Path, mesh_env: MeshEnv) -> None:
    locations = (project / "workspace.yaml").read_text().count("python_module:")
    created = mesh(
        project, mesh_env, "new", "domain", "scaffold_probe", "--owner", "team:scaffold_probe"
    )
    assert created.returncode == 0, created.stderr

    checked = mesh(project, mesh_env, "check")
    materialized = mesh(project, mesh_env, "materialize", "--domain", "scaffold_probe")
    lint = subprocess.run(
        [str(BIN / "ruff"), "check", "domains/scaffold_probe", "tests/domains"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    formatted = subprocess.run(
        [str(BIN / "ruff"), "format", "--check", "domains/scaffold_probe", "tests/domains"],
        cwd=project,
        capture_output=True,
        text=True,
    )

    assert checked.returncode == 0, checked.stdout
    assert f"{locations + 1} location(s)" in checked.stdout
    assert materialized.returncode == 0, materialized.stdout
    assert "scaffold_probe/curated/events" in materialized.stdout
    assert lint.returncode == 0 and formatted.returncode == 0, lint.stdout + formatted.stdout
    assert "domains.scaffold_probe.definitions" in (project / "workspace.yaml").read_text()
    assert (project / "tests" / "domains" / "test_scaffold_probe.py").is_file()


def test_new_refuses_to_overwrite_and_rejects_bad_names(project: Path, mesh_env: MeshEnv) -> None:
    dry = mesh(project, mesh_env, "new", "domain", "payments_two", "--owner", "team:p", "--dry-run")
    taken = mesh(project, mesh_env, "new", "domain", "payments", "--owner", "team:payments")
    bad = mesh(project, mesh_env, "new", "domain", "Shipping-EU", "--owner", "team:x")
    no_team = mesh(project, mesh_env, "new", "domain", "parcels", "--owner", "parcels")

    assert dry.returncode == 0 and "would create domains/payments_two/definitions.py" in dry.stdout
    assert not (project / "domains" / "payments_two").exists()
    assert taken.returncode == 2 and "domain 'payments' already exists" in taken.stderr
    assert bad.returncode == 2 and "domain name 'Shipping-EU' is not valid" in bad.stderr
    assert no_team.returncode == 2 and "owner 'parcels' is not a team" in no_team.stderr
    assert "Traceback" not in taken.stderr + bad.stderr + no_team.stderr


def test_a_jsonl_domain_and_a_new_table(project: Path, mesh_env: MeshEnv) -> None:
    assert (
        mesh(
            project,
            mesh_env,
            "new",
            "domain",
            "scaffold_feed",
            "--owner",
            "team:scaffold_feed",
            "--source",
            "jsonl",
        ).returncode
        == 0
    )
    table = mesh(project, mesh_env, "new", "table", "scaffold_feed", "daily_events")
    again = mesh(project, mesh_env, "new", "table", "scaffold_feed", "daily_events")

    materialized = mesh(project, mesh_env, "materialize", "--domain", "scaffold_feed")

    assert table.returncode == 0, table.stderr
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr
    assert materialized.returncode == 0, materialized.stdout
    assert "scaffold_feed/product/daily_events" in materialized.stdout
    assert os.path.exists(
        project / "data" / "landing" / "scaffold_feed" / "events" / "sample.jsonl"
    )


def test_a_later_file_sorting_first_leaves_a_new_domains_published_rows_unchanged(
    project: Path, mesh_env: MeshEnv
) -> None:
    created = mesh(project, mesh_env, "new", "domain", "scaffold_late", "--owner", "team:late")
    assert created.returncode == 0, created.stderr
    first = mesh(project, mesh_env, "materialize", "--domain", "scaffold_late")
    assert first.returncode == 0, first.stdout
    curated = TableKey.parse("scaffold_late/curated/events")
    published = read_arrow(curated.uri(mesh_env.settings)).sort_by("events_id").to_pylist()
    landing = project / "data" / "landing" / "scaffold_late" / "events"
    header = (landing / "sample.csv").read_text().splitlines()[0]
    taken = published[0]["events_id"]
    new = "".join(f"late_{n},acc_late,1.00,2026-11-05T00:00:00Z\n" for n in range(4))
    late = f"{taken},acc_late,1.00,2026-11-05T00:00:00Z\n{new}"
    (landing / "a-late.csv").write_text(f"{header}\n{late}")

    second = mesh(project, mesh_env, "materialize", "--domain", "scaffold_late")

    assert second.returncode == 0, second.stdout
    rows = read_arrow(curated.uri(mesh_env.settings)).to_pylist()
    after = {row["events_id"]: row for row in rows}
    assert [after[row["events_id"]] for row in published] == published
    assert len(after) == len(published) + 4
    quarantine = read_arrow(curated.quarantine.uri(mesh_env.settings)).to_pylist()
    displaced = [row for row in quarantine if row["_source_file"].endswith("a-late.csv")]
    assert [row["violated_rules"] for row in displaced] == [["events_id_unique"]]
