"""The contracts of a project, indexed by table: every published table has one.

A contract file with findings does not stop the others: the registry keeps it as broken, under
the table its path names (``contracts/<domain>/<layer>/<table>.odcs.yaml``), and only asking for
that table's contract raises, with the file's first finding. So a broken contract stops the code
locations that use it, and no other.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from platform_lib.contracts.findings import Finding
from platform_lib.contracts.loader import ContractLoad, load_contracts
from platform_lib.contracts.model import TableContract
from platform_lib.conventions import TableKey
from platform_lib.errors import MeshError

CONTRACTS_FOLDER = "contracts"
CONTRACT_SUFFIX = ".odcs.yaml"
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


class BrokenContractError(MeshError):
    """The contract a table needs is a file with findings: its first finding, at file:line."""

    def __init__(self, key: TableKey, finding: Finding) -> None:
        super().__init__(
            f"the contract of {key} cannot be used: {finding.file}:{finding.line}: "
            f"[{finding.rule_id}] {finding.message}",
            fix=finding.fix,
        )
        self.key = key
        """The table whose contract it is."""
        self.finding = finding
        """The file's first finding."""
        self.source = finding.file
        """The broken contract file."""


def contract_key_of(source: Path) -> TableKey | None:
    """The table a contract file describes by its place, ``<domain>/<layer>/<table>.odcs.yaml``.

    None when the file's path does not follow that convention.
    """
    if len(source.parts) < 3 or not source.name.endswith(CONTRACT_SUFFIX):
        return None
    domain, layer = source.parts[-3:-1]
    try:
        return TableKey.parse(f"{domain}/{layer}/{source.name.removesuffix(CONTRACT_SUFFIX)}")
    except (MeshError, ValueError):
        return None


@dataclass(frozen=True)
class ContractRegistry:
    """Contracts by the table they describe, and the tables whose contract file is broken."""

    contracts: dict[TableKey, TableContract]
    broken: dict[TableKey, Finding] = field(default_factory=dict)
    """Tables whose contract file has findings, each by its first finding: asking for their
    contract raises :class:`BrokenContractError`."""

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
        """The contract of ``key``, if there is one; a BrokenContractError when its file is
        broken (what the contract allows cannot be decided)."""
        _note(key)
        if key in self.broken:
            raise BrokenContractError(key, self.broken[key])
        return self.contracts.get(key)

    def require(self, key: TableKey) -> TableContract:
        """The contract of ``key``; a table without one, or with a broken one, cannot be
        published."""
        contract = self.get(key)
        if contract is None:
            path = f"{CONTRACTS_FOLDER}/{key.domain}/{key.layer.value}/{key.table}{CONTRACT_SUFFIX}"
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
    """Load every contract under ``folder``; a file with findings is kept as broken."""
    if not folder.is_dir():
        return ContractRegistry({})
    return registry_of(load_contracts([folder]))


def registry_of(loads: Sequence[ContractLoad]) -> ContractRegistry:
    """The registry of ``loads``: the contracts without findings, and the broken files by the
    table they describe (a broken file whose path names no table is left to ``mesh check`` and
    ``mesh contracts lint``). Two valid contracts for one table is an error."""
    valid = ContractRegistry.of(
        load.contract for load in loads if load.contract is not None and not load.findings
    )
    broken: dict[TableKey, Finding] = {}
    for load in loads:
        key = load.contract.key if load.contract is not None else contract_key_of(load.source)
        if load.findings and key is not None:
            broken.setdefault(key, load.findings[0])
    return ContractRegistry(valid.contracts, broken)


_cache: dict[Path, ContractRegistry] = {}


def project_registry(project_root: Path) -> ContractRegistry:
    """The project's contracts (``<project>/contracts``), loaded once per process."""
    folder = (project_root / CONTRACTS_FOLDER).resolve()
    if folder not in _cache:
        _cache[folder] = load_registry(folder)
    return _cache[folder]
