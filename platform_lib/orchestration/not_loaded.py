"""A table whose contracts cannot be used: still an asset, so it shows, but never materialised.

A table needs its own contract and the contracts of the tables it reads (what it may read, which
columns arrive masked). When one of those files is broken, the rest of the domain still loads:
this table becomes an asset with no contract-derived checks, owners or automation, whose
definition metadata (``mesh/not_loaded``) tells the mesh why, and whose materialisation fails at
once with that reason, writing nothing.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from dagster import AssetsDefinition, Failure, MetadataValue, asset

from platform_lib.contracts.findings import Finding
from platform_lib.contracts.registry import BrokenContractError, ContractRegistry
from platform_lib.conventions import DELTA_KIND, TableKey, standard_tags
from platform_lib.orchestration.keys import to_asset_key
from platform_lib.orchestration.metadata import NOT_LOADED_METADATA


@dataclass(frozen=True)
class UnusableContract:
    """Why ``table`` cannot be built: the contract of ``broken`` (itself, or a table it reads)
    is a file with findings, the first of which is ``finding``."""

    table: TableKey
    broken: TableKey
    finding: Finding

    @property
    def message(self) -> str:
        """What is wrong, naming the file and line: one line."""
        where = (
            f"{self.finding.file}:{self.finding.line}: [{self.finding.rule_id}] "
            f"{self.finding.message}"
        )
        if self.broken == self.table:
            return f"its contract cannot be used: {where}"
        return f"it reads {self.broken}, whose contract cannot be used: {where}"

    @property
    def fix(self) -> str:
        """The finding's fix."""
        return self.finding.fix


def unusable_contract(
    table: TableKey, reads: Iterable[TableKey], registry: ContractRegistry
) -> UnusableContract | None:
    """The first broken contract among ``table``'s own and those of the tables it ``reads``.

    None when every one of them is usable (or absent: a missing contract is not this problem).
    """
    for needed in (table, *reads):
        try:
            registry.get(needed)
        except BrokenContractError as error:
            return UnusableContract(table=table, broken=needed, finding=error.finding)
    return None


def not_loaded_asset(
    reason: UnusableContract, domain: str, *, deps: Iterable[TableKey] = ()
) -> AssetsDefinition:
    """The asset of a table that cannot be built (``reason``): it keeps its key, group, tags and
    dependencies, and materialising it fails with the reason and its fix."""
    key = reason.table
    line = f"{key}: {reason.message} (fix: {reason.fix})"

    @asset(
        key=to_asset_key(key),
        description=f"Not loaded: {reason.message} (fix: {reason.fix})",
        group_name=domain,
        kinds={DELTA_KIND},
        tags=standard_tags(key),
        metadata={
            NOT_LOADED_METADATA: MetadataValue.json(
                {"message": reason.message, "fix": reason.fix, "cause": str(reason.finding.file)}
            )
        },
        deps=[to_asset_key(upstream) for upstream in deps],
    )
    def _not_loaded() -> None:
        raise Failure(description=line, allow_retries=False)

    return _not_loaded
