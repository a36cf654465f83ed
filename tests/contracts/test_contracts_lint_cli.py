"""``mesh contracts lint``: one line per finding, grouped by level, exit codes CI can trust."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from platform_lib.cli.app import build_app
from platform_lib.errors import MeshError
from tests.contracts.conftest import WriteContract

MESH = Path(sys.executable).parent / "mesh"
THREE_MISTAKES = (
    ("kind: DataContract", "kind: Contract"),
    ("    required: true", "    requried: true"),
    ("metric: nullValues", "metric: nullValuez"),
)


def lint(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), ["contracts", "lint", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


def test_a_valid_contract_exits_0(write_contract: WriteContract) -> None:
    code, out = lint(str(write_contract()))
    assert code == 0
    assert out.splitlines() == ["1 contract(s): 0 standard error(s), 0 convention error(s)"]


def test_a_broken_contract_exits_1_with_every_finding_as_file_line_col(
    write_contract: WriteContract,
) -> None:
    path = write_contract(*THREE_MISTAKES)
    code, out = lint(str(path))
    assert code == 1
    pattern = re.compile(rf"^{re.escape(str(path))}:(\d+):\d+: \[odcs-schema\] ")
    matches = [pattern.match(line) for line in out.splitlines()]
    assert [m.group(1) for m in matches if m] == ["2", "33", "39"]
    assert out.splitlines()[0] == "standard: not valid ODCS (3):"
    assert out.splitlines()[-1] == "1 contract(s): 3 standard error(s), 0 convention error(s)"


def test_findings_are_grouped_standard_first_then_convention(
    write_contract: WriteContract, tmp_path: Path
) -> None:
    write_contract(("value: curated", "value: silver"))
    write_contract(
        ("kind: DataContract", "kind: Contract"),
        relative=Path("contracts", "fraud", "curated", "alerts.odcs.yaml"),
    )
    code, out = lint(str(tmp_path / "contracts"))
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == "standard: not valid ODCS (1):"
    assert "alerts.odcs.yaml:2:1: [odcs-schema] kind:" in lines[1]
    assert lines[2].startswith("convention: ")
    assert "transactions.odcs.yaml:17:5: [layer] customProperties[0].value:" in lines[3]
    assert lines[4] == "2 contract(s): 1 standard error(s), 1 convention error(s)"


def test_json_prints_an_array_of_findings(write_contract: WriteContract) -> None:
    path = write_contract(*THREE_MISTAKES)
    code, out = lint("--json", str(path))
    assert code == 1
    findings = json.loads(out)
    assert [(f["file"], f["line"], f["rule_id"], f["level"]) for f in findings] == [
        (str(path), line, "odcs-schema", "standard") for line in (2, 33, 39)
    ]
    assert {"column", "field", "message", "fix"} <= set(findings[0])


def test_json_of_a_valid_contract_is_an_empty_array(write_contract: WriteContract) -> None:
    assert lint("--json", str(write_contract())) == (0, "[]\n")


def test_without_paths_the_projects_contracts_folder_is_linted(
    write_contract: WriteContract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_contract()
    (tmp_path / "workspace.yaml").write_text("load_from: []\n")
    monkeypatch.chdir(tmp_path)
    code, output = lint()
    # The project's workspace defines no table, so the contract describes nothing yet.
    assert code == 1
    assert "[contract-asset]" in output
    assert output.endswith("1 contract(s): 0 standard error(s), 1 convention error(s)\n")


def test_help_shows_an_example() -> None:
    result = CliRunner().invoke(build_app(), ["contracts", "lint", "--help"])
    assert result.exit_code == 0
    assert "Example: mesh contracts lint" in result.stdout


def test_the_installed_command_reports_findings_and_missing_paths(
    write_contract: WriteContract, tmp_path: Path
) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    path = write_contract(("    required: true", "    requried: true"))
    broken = subprocess.run(
        [str(MESH), "contracts", "lint", str(path)], capture_output=True, text=True, env=env
    )
    assert broken.returncode == 1
    assert f"{path}:33:9: [odcs-schema] schema[0].properties[0].requried:" in broken.stdout
    missing = subprocess.run(
        [str(MESH), "contracts", "lint", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert missing.returncode == 2
    assert "error: no such file or folder" in missing.stderr
    assert "fix:" in missing.stderr


def test_a_folder_without_contracts_is_a_user_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["contracts", "lint", str(tmp_path)])
    assert isinstance(result.exception, MeshError)
    assert "no contract files" in result.exception.message
