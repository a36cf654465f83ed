"""The contracts of a project, indexed by table: every published table has one."""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from platform_lib.contracts.loader import ContractLoad, load_contracts
from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError

CONTRACTS_FOLDER = "contracts"
_SHOWN_FINDINGS = 5
_consulted: ContextVar[set[TableKey] | None] = ContextVar("consulted", default=None)


@contextmanager
def consulted_keys() -> Iterator[set[TableKey]]:
    """Collect the tables whose contract is asked for while the block runs.

    ``mesh check`` uses it to learn which contracts a code location's import depended on, so a
    cached result of that import is reused only while those contracts are unchanged.
    """
    keys: set[TableKey] = set()
    token = _consulted.set(keys)
    try:
        yield keys
    finally:
        _consulted.reset(token)


@dataclass(frozen=True)
class ContractRegistry:
    """Contracts by the table they describe."""

    contracts: dict[TableKey, TableContract]

    @classmethod
    def of(cls, contracts: Iterable[TableContract]) -> "ContractRegistry":
        """A registry of ``contracts``; two contracts for one table is an error."""
        indexed: dict[TableKey, TableContract] = {}
        for contract in contracts:
            if contract.key in indexed:
                raise MeshError(
                    f"{contract.source} and {indexed[contract.key].source} both describe "
                    f"{contract.key}",
                    fix="keep one contract per table",
                )
            indexed[contract.key] = contract
        return cls(indexed)

    def get(self, key: TableKey) -> TableContract | None:
        """The contract of ``key``, if there is one."""
        _note(key)
        return self.contracts.get(key)

    def require(self, key: TableKey) -> TableContract:
        """The contract of ``key``; a table without one cannot be published."""
        _note(key)
        contract = self.contracts.get(key)
        if contract is None:
            path = f"{CONTRACTS_FOLDER}/{key.domain}/{key.layer.value}/{key.table}.odcs.yaml"
            raise MeshError(
                f"table {key} has no data contract",
                fix=f"write {path} (ODCS v3.1.0; see the other contracts of the domain)",
            )
        return contract


def _note(key: TableKey) -> None:
    consulted = _consulted.get()
    if consulted is not None:
        consulted.add(key)


def load_registry(folder: Path) -> ContractRegistry:
    """Load every contract under ``folder``; any finding makes it an error naming file:line."""
    if not folder.is_dir():
        return ContractRegistry({})
    return registry_of(load_contracts([folder]))


def registry_of(loads: Sequence[ContractLoad]) -> ContractRegistry:
    """The registry of ``loads``; any finding, or two contracts for one table, is an error."""
    findings = [finding for load in loads for finding in load.findings]
    if findings:
        shown = "; ".join(f.render() for f in findings[:_SHOWN_FINDINGS])
        more = f" (and {len(findings) - _SHOWN_FINDINGS} more)" if len(findings) > 5 else ""
        raise MeshError(
            f"{len(findings)} contract finding(s): {shown}{more}",
            fix="run `mesh contracts lint` and fix each finding",
        )
    return ContractRegistry.of(load.contract for load in loads if load.contract is not None)


_cache: dict[Path, ContractRegistry] = {}


def project_registry(project_root: Path) -> ContractRegistry:
    """The project's contracts (``<project>/contracts``), loaded once per process."""
    folder = (project_root / CONTRACTS_FOLDER).resolve()
    if folder not in _cache:
        _cache[folder] = load_registry(folder)
    return _cache[folder]
