"""``mesh contracts``: check data contract files, as an editor or CI reads the answer."""

import json
from pathlib import Path
from typing import Annotated

import typer

from platform_lib.cli.contracts_infer import infer
from platform_lib.contracts.findings import Finding, FindingLevel
from platform_lib.contracts.loader import CONTRACT_GLOB, ContractLoad, contract_files, load_contract
from platform_lib.errors import MeshError
from platform_lib.mesh.graph import load_mesh
from platform_lib.settings import resolve_settings

app = typer.Typer(
    name="contracts",
    help="Check data contracts (ODCS v3 files, one per published table).",
    no_args_is_help=True,
)
app.command("infer")(infer)

_HEADERS = {
    FindingLevel.STANDARD: "standard: not valid ODCS",
    FindingLevel.CONVENTION: "convention: valid ODCS, but against this platform's conventions",
}


def lint_report(loads: list[ContractLoad]) -> list[str]:
    """The lines ``mesh contracts lint`` prints: findings grouped by level, then a summary.

    Args:
        loads: The loaded contract files.

    Returns:
        A header line per level that has findings, each finding as ``Finding.render()``, and
        ``N contract(s): X standard error(s), Y convention error(s)``.
    """
    lines: list[str] = []
    counts = {}
    for level in FindingLevel:
        findings = _findings(loads, level)
        counts[level] = len(findings)
        if findings:
            lines.append(f"{_HEADERS[level]} ({len(findings)}):")
            lines.extend(finding.render() for finding in findings)
    lines.append(
        f"{len(loads)} contract(s): {counts[FindingLevel.STANDARD]} standard error(s), "
        f"{counts[FindingLevel.CONVENTION]} convention error(s)"
    )
    return lines


def _findings(loads: list[ContractLoad], level: FindingLevel) -> list[Finding]:
    return [finding for load in loads for finding in load.findings if finding.level is level]


def _contract_paths(paths: list[Path] | None) -> list[Path]:
    """The contract files to lint; a missing path or no contract at all is the user's mistake."""
    given = paths or [resolve_settings().project_root / "contracts"]
    missing = [str(path) for path in given if not path.exists()]
    if missing:
        raise MeshError(
            f"no such file or folder: {', '.join(missing)}",
            fix=f"pass contract files or folders holding {CONTRACT_GLOB} files",
        )
    files = contract_files(given)
    if not files:
        raise MeshError(
            f"no contract files ({CONTRACT_GLOB}) in {', '.join(str(path) for path in given)}",
            fix=f"pass contract files or folders holding {CONTRACT_GLOB} files",
        )
    return files


def _with_asset_coverage(loads: list[ContractLoad]) -> list[ContractLoad]:
    """Add a ``contract-asset`` finding to each contract whose table no code location defines."""
    tables = load_mesh(resolve_settings().project_root).require_loaded().tables
    covered = []
    for load in loads:
        if load.contract is not None and load.contract.key not in tables:
            orphan = Finding(
                file=load.source,
                line=1,
                column=1,
                field="id",
                rule_id="contract-asset",
                level=FindingLevel.CONVENTION,
                message=f"no code location defines the table {load.contract.key}",
                fix="add the table to its domain's definitions, or delete the contract",
            )
            load = load.model_copy(update={"findings": (*load.findings, orphan)})
        covered.append(load)
    return covered


@app.command("lint")
def lint(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Contract files, or folders searched for *.odcs.yaml "
            "(default: the project's contracts folder).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print a JSON array of findings (file, line, rule_id, ...)."),
    ] = False,
) -> None:
    """Check contracts: valid ODCS first, then the platform's conventions, every finding at once.

    Each finding is one line: path:line:col, rule id, field, what is wrong and how to fix it.
    Standard-level findings (not valid ODCS) come first, then convention-level ones.
    Linting the project's own contracts (no PATHS) also reports a contract whose table no code
    location defines. Exits 1 when there is any finding, 0 when every contract is clean.

    Example: mesh contracts lint contracts/payments/curated/transactions.odcs.yaml
    """
    loads = [load_contract(path) for path in _contract_paths(paths)]
    if paths is None and not any(load.findings for load in loads):
        loads = _with_asset_coverage(loads)
    if as_json:
        findings = [f for level in FindingLevel for f in _findings(loads, level)]
        typer.echo(json.dumps([f.model_dump(mode="json") for f in findings], indent=2))
    else:
        for line in lint_report(loads):
            typer.echo(line)
    if any(load.findings for load in loads):
        raise typer.Exit(code=1)
