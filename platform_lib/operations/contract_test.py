"""Test a published table against its contract, with the same engine as the write path."""

from pathlib import Path

import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.rules import Severity
from platform_lib.errors import MeshError
from platform_lib.lake.reader import open_dataset, read_arrow, table_exists
from platform_lib.quality.aggregate import ROWS, count_breakers_lazy
from platform_lib.quality.engine import validate_batch
from platform_lib.quality.results import RuleResult, ValidationResult
from platform_lib.quality.verdicts import verdicts
from platform_lib.quality.violations import VIOLATIONS_COLUMN, VIOLATIONS_TYPE
from platform_lib.settings import MeshSettings

_TABLE_LEVEL = {"metric", "row_count", "sql", "quarantine_threshold", "schema"}


class ContractTestReport(BaseModel):
    """The verdict of every rule of one contract over the table it describes."""

    model_config = ConfigDict(frozen=True)

    contract_id: str
    version: str
    source: Path
    table: str
    uri: str
    result: ValidationResult

    @property
    def failures(self) -> list[RuleResult]:
        """Rules that fail the test: any row-level rule broken by a published row, and any
        table-level rule of severity ``error``."""
        return [
            r
            for r in self.result.rules
            if not r.passed and (r.kind not in _TABLE_LEVEL or r.severity is Severity.ERROR)
        ]

    @property
    def warnings(self) -> list[RuleResult]:
        """Failed rules that only warn."""
        failing = {r.rule_id for r in self.failures}
        return [r for r in self.result.rules if not r.passed and r.rule_id not in failing]

    @property
    def passed(self) -> bool:
        """Whether the table keeps its contract."""
        return not self.failures


def table_location(contract: TableContract, settings: MeshSettings, *, external: bool) -> str:
    """Where the contract's table is: by convention in the mesh, from ``servers`` outside it."""
    if not external:
        return contract.key.uri(settings)
    if contract.server_path is None:
        raise MeshError(
            f"{contract.source} has no local Delta server entry to find the table",
            fix="add `servers: [{server: local, type: local, format: delta, path: <table>}]`",
        )
    if "://" in contract.server_path:
        return contract.server_path
    path = Path(contract.server_path)
    return str(path if path.is_absolute() else (contract.source.parent / path).resolve())


def run_contract_test(contract: TableContract, uri: str) -> ContractTestReport:
    """Run every rule of ``contract`` over the latest version of the table at ``uri``."""
    if not table_exists(uri):
        raise MeshError(
            f"no Delta table at {uri} for contract {contract.id}",
            fix="materialise the table first (mesh materialize --select ...), or fix the path",
        )
    return ContractTestReport(
        contract_id=contract.id,
        version=contract.version,
        source=contract.source,
        table=str(contract.key),
        uri=uri,
        result=_validate_published(contract, uri),
    )


def _validate_published(contract: TableContract, uri: str) -> ValidationResult:
    """One streaming aggregate pass when no row breaks a rule; the full engine otherwise."""
    counts = count_breakers_lazy(pl.scan_delta(uri), contract)
    if counts is not None and not any(counts[rule.id] for rule in contract.row_rules):
        rows_in = counts.pop(ROWS)
        empty = pa.table({VIOLATIONS_COLUMN: pa.array([], VIOLATIONS_TYPE)})
        return verdicts(contract, rows_in, open_dataset(uri), empty, {}, counts)
    return validate_batch(read_arrow(uri), contract).result
