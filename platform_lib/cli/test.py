"""``mesh test``: check a published table against its contract, with the write path's engine."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from platform_lib.cli.output import console
from platform_lib.contracts.loader import load_contract
from platform_lib.contracts.model import TableContract
from platform_lib.contracts.registry import CONTRACTS_FOLDER, project_registry
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError
from platform_lib.operations.contract_test import (
    ContractTestReport,
    run_contract_test,
    table_location,
)
from platform_lib.operations.junit import junit_xml
from platform_lib.settings import MeshSettings, resolve_settings


def test(
    target: Annotated[
        str,
        typer.Argument(
            help="A contract id (payments.curated.transactions), a table "
            "(payments/curated/transactions) or a contract file, also one outside the mesh."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write a JUnit XML report to this file.")
    ] = None,
) -> None:
    """Run a contract's rules against the current table; exit 1 when the table breaks it.

    A contract file outside the mesh is read from its `servers` entry
    (`type: local`, `format: delta`, `path: ...`, relative to the file).

    Example: mesh test payments.curated.transactions --junit reports/contracts.xml
    """
    settings = resolve_settings()
    contract, external = _resolve(target, settings)
    report = run_contract_test(contract, table_location(contract, settings, external=external))
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(junit_xml([report]))
    if as_json:
        typer.echo(json.dumps(_as_json(report), indent=2))
    else:
        _print(report)
    if not report.passed:
        raise typer.Exit(code=1)


def _resolve(target: str, settings: MeshSettings) -> tuple[TableContract, bool]:
    path = Path(target)
    if path.suffix in {".yaml", ".yml"} or path.is_file():
        if not path.is_file():
            raise MeshError(f"contract file {path} does not exist", fix="check the path")
        contracts_root = (settings.project_root / CONTRACTS_FOLDER).resolve()
        external = contracts_root not in path.resolve().parents
        load = load_contract(path, external=external)
        if load.contract is None or load.findings:
            first = load.findings[0].render() if load.findings else str(path)
            raise MeshError(
                f"{len(load.findings)} finding(s) in the contract, first: {first}",
                fix=f"run `mesh contracts lint {path}` and fix them",
            )
        return load.contract, external
    registry = project_registry(settings.project_root)
    for contract in registry.contracts.values():
        if target in {contract.id, str(contract.key)}:
            return contract, False
    if "/" in target:
        return registry.require(TableKey.parse(target)), False
    raise MeshError(
        f"no contract has the id {target!r}",
        fix="name a contract by its id (domain.layer.table), its table or its file",
    )


def _as_json(report: ContractTestReport) -> dict[str, object]:
    document = report.model_dump(mode="json")
    document["passed"] = report.passed
    document["failures"] = [r.rule_id for r in report.failures]
    return document


def _print(report: ContractTestReport) -> None:
    out = console()
    failing = {r.rule_id for r in report.failures}
    table = Table(
        title=f"{report.contract_id} {report.version} on {report.uri} "
        f"({report.result.rows_in:,} rows)",
        title_justify="left",
    )
    for column in ("rule", "kind", "result", "observed", "expected", "detail"):
        table.add_column(column, no_wrap=column == "rule")
    for rule in report.result.rules:
        verdict = (
            "[green]pass[/]"
            if rule.passed
            else "[red]FAIL[/]"
            if rule.rule_id in failing
            else "[yellow]warn[/]"
        )
        observed = "" if rule.observed is None else f"{rule.observed:g}"
        detail = rule.message + (f" e.g. {', '.join(rule.samples)}" if rule.samples else "")
        table.add_row(
            rule.rule_id, rule.kind, verdict, observed, Text(rule.threshold), Text(detail)
        )
    out.print(table)
    summary = "passed" if report.passed else f"FAILED: {', '.join(sorted(failing))}"
    out.print(f"{report.contract_id}: {summary}")
