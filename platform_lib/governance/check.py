"""``mesh check``: the mesh against its conventions, its consumers and, optionally, a base revision.

Everything is evaluated that can be: a location that fails to import or a contract that does not
parse is reported once, and the rest is still checked. What follows from such a problem is not
reported again: the tables of a location that did not load are unknown, not missing (no
``contract-coverage`` for their contracts, no ``consumer-producer`` for their readers), a broken
contract is not a removed table (``breaking-change``), and a location or a table stopped by a
broken contract (``location-import``, ``table-load``) is that contract's finding.
"""

import datetime as dt
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from platform_lib.cache import project_cache
from platform_lib.contracts.compatibility import compare_contracts, removed_table
from platform_lib.contracts.loader import ContractLoad, load_contracts
from platform_lib.contracts.model import Access, TableContract
from platform_lib.contracts.registry import CONTRACTS_FOLDER, contract_key_of, registry_of
from platform_lib.contracts.types import parse_column_type
from platform_lib.conventions import Layer, TableKey
from platform_lib.errors import MeshError
from platform_lib.governance.baseline import load_baseline
from platform_lib.governance.exemptions import EXEMPTIONS_FILE, apply_exemptions, load_exemptions
from platform_lib.mesh.graph import Mesh, load_mesh_facts
from platform_lib.mesh.location_cache import ContractState
from platform_lib.mesh.location_facts import MeshTable
from platform_lib.mesh.violations import Level, Violation

READABLE_LAYERS = {
    Layer.RAW: set(),
    Layer.CURATED: {Layer.RAW, Layer.CURATED},
    Layer.PRODUCT: {Layer.RAW, Layer.CURATED, Layer.PRODUCT},
}
"""Which layers a table of each layer may read."""


class CheckReport(BaseModel):
    """Every violation found, and what was checked."""

    model_config = ConfigDict(frozen=True)

    violations: tuple[Violation, ...]
    locations: int
    tables: int
    contracts: int
    consumer_edges: int
    base: str | None = None

    @property
    def passed(self) -> bool:
        """Whether no error is left once exemptions apply."""
        return not any(v.counts for v in self.violations)


def check_mesh(
    project_root: Path,
    *,
    base: str | None = None,
    today: dt.date | None = None,
    use_cache: bool = True,
) -> CheckReport:
    """Check the mesh of the project at ``project_root``; never raises for the mesh's problems.

    Args:
        project_root: The folder holding ``workspace.yaml`` and ``contracts/``.
        base: A git revision to compare every contract with (breaking changes).
        today: The date deprecations are judged at (default: today, UTC).
        use_cache: Reuse the facts of code locations whose files and contracts did not change
            since an earlier check (see :mod:`platform_lib.mesh.location_cache`).
    """
    day = today or dt.datetime.now(dt.UTC).date()
    violations: list[Violation] = []
    loads = load_contracts([(project_root / CONTRACTS_FOLDER).resolve()])
    contracts: dict[TableKey, TableContract] = {}
    for load in loads:
        for finding in load.findings:
            violations.append(
                Violation(
                    rule_id="contract-lint",
                    level=Level.ERROR,
                    domain=_domain_of(load.source, project_root),
                    subject=f"{finding.file}:{finding.line}:{finding.column}",
                    message=f"[{finding.rule_id}] {finding.message}",
                    fix=finding.fix,
                )
            )
        if load.contract is not None:
            contracts[load.contract.key] = load.contract
    mesh = load_mesh_facts(
        project_root,
        _contract_state(loads),
        cache=project_cache(project_root, "locations") if use_cache else None,
    )
    unknown = _unknown(mesh, loads)
    reported = {str(load.source) for load in loads if load.findings}
    violations += [problem for problem in mesh.problems if problem.cause not in reported]
    violations += _table_rules(mesh, contracts, unknown)
    violations += _purpose_rules(contracts, unknown)
    edges = 0
    for table in mesh.tables.values():
        violations += _consumer_rules(table, mesh, contracts, day, unknown)
        edges += len(table.reads)
    violations += _domain_cycles(mesh)
    if base is not None:
        violations += _against_base(project_root, base, mesh, contracts, unknown)
    exemptions = load_exemptions(project_root / EXEMPTIONS_FILE)
    return CheckReport(
        violations=tuple(apply_exemptions(violations, exemptions)),
        locations=len(mesh.locations),
        tables=len(mesh.tables),
        contracts=len(contracts),
        consumer_edges=edges,
        base=base,
    )


class _Unknown(BaseModel):
    """What the check cannot judge: the domains whose location did not load, the tables whose
    contract file is broken, and the tables that did not load because a contract they read is."""

    model_config = ConfigDict(frozen=True)

    domains: frozenset[str]
    contracts: frozenset[TableKey]
    tables: frozenset[TableKey]

    def table(self, key: TableKey) -> bool:
        """Whether ``key``'s location did not load, its contract is broken or it did not load."""
        return key.domain in self.domains or key in self.contracts or key in self.tables


def _unknown(mesh: Mesh, loads: list[ContractLoad]) -> _Unknown:
    return _Unknown(
        domains=frozenset(loc.name for loc in mesh.locations if loc.problem is not None),
        contracts=frozenset(
            key for key in (_key_of(load) for load in loads if load.findings) if key is not None
        ),
        tables=frozenset(mesh.not_loaded),
    )


def _key_of(load: ContractLoad) -> TableKey | None:
    return load.contract.key if load.contract is not None else contract_key_of(load.source)


def _contract_state(loads: list[ContractLoad]) -> ContractState:
    try:
        registry_of(loads)
    except MeshError as error:
        registry_error = f"{error.message} / {error.fix}"
    else:
        registry_error = ""
    digests: dict[TableKey, str] = {}
    for load in loads:
        key = _key_of(load)
        if key is not None:
            digests.setdefault(key, load.content_digest)
    return ContractState(registry_error=registry_error, digests=digests)


def _domain_of(source: Path, project_root: Path) -> str:
    try:
        return source.resolve().relative_to((project_root / CONTRACTS_FOLDER).resolve()).parts[0]
    except (ValueError, IndexError):
        return "(contracts)"


def _error(rule: str, domain: str, subject: object, message: str, fix: str) -> Violation:
    return Violation(
        rule_id=rule,
        level=Level.ERROR,
        domain=domain,
        subject=str(subject),
        message=message,
        fix=fix,
    )


def _warning(rule: str, domain: str, subject: object, message: str, fix: str) -> Violation:
    return Violation(
        rule_id=rule,
        level=Level.WARNING,
        domain=domain,
        subject=str(subject),
        message=message,
        fix=fix,
    )


def _table_rules(
    mesh: Mesh, contracts: dict[TableKey, TableContract], unknown: _Unknown
) -> list[Violation]:
    found: list[Violation] = []
    for key, table in mesh.tables.items():
        if not table.owners:
            found.append(
                _error(
                    "owners",
                    key.domain,
                    key,
                    f"{key} has no owners",
                    "name the team in the contract's `team`",
                )
            )
        contract = contracts.get(key)
        if contract is None:
            found.append(
                _error(
                    "contract-coverage",
                    key.domain,
                    key,
                    f"{key} has no contract",
                    f"write {CONTRACTS_FOLDER}/{key.domain}/{key.layer.value}/"
                    f"{key.table}.odcs.yaml",
                )
            )
        elif table.declared_columns is not None:
            declared = {n: _canonical(t) for n, t in table.declared_columns.items()}
            promised = {c.name: c.type_name for c in contract.columns}
            if declared != promised:
                found.append(
                    _error(
                        "contract-schema",
                        key.domain,
                        key,
                        f"{key} declares columns {declared}, its contract {promised}",
                        "make the asset's columns and types those of its contract",
                    )
                )
        for upstream in table.upstream:
            allowed = READABLE_LAYERS[key.layer]
            if upstream.is_quarantine or upstream.layer not in allowed:
                found.append(
                    _error(
                        "layer-reads",
                        key.domain,
                        key,
                        f"{key.layer.value} table {key} reads {upstream}",
                        f"a {key.layer.value} table reads only "
                        f"{', '.join(sorted(layer.value for layer in allowed)) or 'landing files'}",
                    )
                )
            declared_tables = {read.table for read in table.reads}
            if upstream.domain != key.domain and upstream not in declared_tables:
                found.append(
                    _error(
                        "undeclared-read",
                        key.domain,
                        key,
                        f"{key} depends on {upstream} without declaring the read",
                        "declare it with reads(..., major=..., columns=[...])",
                    )
                )
    for key in contracts:
        if key not in mesh.tables and not key.is_quarantine and not unknown.table(key):
            found.append(
                _error(
                    "contract-coverage",
                    key.domain,
                    key,
                    f"the contract of {key} describes no table of any location",
                    "add the table to its domain, or delete the contract",
                )
            )
    return found


def _purpose_rules(contracts: dict[TableKey, TableContract], unknown: _Unknown) -> list[Violation]:
    """Each ``readPurposes`` entry names a table with a contract, columns of it, and a purpose
    its producer's ``allowedPurposes`` lists (see ``platform_lib.contracts.access``)."""
    found: list[Violation] = []
    for contract in contracts.values():
        domain = contract.key.domain
        for declared in contract.read_purposes:
            subject = f"{contract.key} -> {declared.table}"
            where = f"{contract.source.name} (readPurposes)"
            producer = contracts.get(declared.table)
            if producer is None and declared.table in unknown.contracts:
                continue  # its contract's own finding is reported
            if producer is None:
                found.append(
                    _error(
                        "read-purposes",
                        domain,
                        subject,
                        f"{where} declares a purpose for {declared.table}, which has no contract",
                        "name a table of the mesh (mesh tables lists them)",
                    )
                )
                continue
            if declared.purpose not in producer.allowed_purposes:
                allowed = ", ".join(repr(p) for p in producer.allowed_purposes) or "none"
                found.append(
                    _error(
                        "read-purposes",
                        domain,
                        subject,
                        f"{where} reads {declared.table} for {declared.purpose!r}, which its "
                        f"contract does not allow (allowedPurposes: {allowed})",
                        f"agree the purpose with {declared.table.domain} (its allowedPurposes), "
                        "or drop the declaration: the columns then arrive masked",
                    )
                )
            missing = [c for c in declared.columns if producer.column(c) is None]
            if missing:
                found.append(
                    _error(
                        "read-purposes",
                        domain,
                        subject,
                        f"{where} names columns {', '.join(missing)} that {declared.table} "
                        "does not have",
                        f"name columns of its contract: {', '.join(producer.column_names)}",
                    )
                )
    return found


def _canonical(type_name: str) -> str:
    parsed = parse_column_type(type_name)
    return parsed.name if parsed else type_name


def _consumer_rules(
    consumer: MeshTable,
    mesh: Mesh,
    contracts: dict[TableKey, TableContract],
    today: dt.date,
    unknown: _Unknown,
) -> list[Violation]:
    found: list[Violation] = []
    domain = consumer.key.domain
    for read in consumer.reads:
        producer_key = read.table
        subject = f"{consumer.key} -> {producer_key}"
        if producer_key not in mesh.tables and unknown.table(producer_key):
            continue  # its location's or its contract's problem is reported
        if producer_key not in mesh.tables:
            published = sorted(
                str(k)
                for k in mesh.tables
                if k.base_name == producer_key.base_name
                and k.domain == producer_key.domain
                and k.layer == producer_key.layer
            )
            rule = "consumer-major" if published else "consumer-producer"
            found.append(
                _error(
                    rule,
                    domain,
                    subject,
                    f"{consumer.key} reads {producer_key}, which no location defines"
                    + (f" (published: {', '.join(published)})" if published else ""),
                    "read a published table and major (mesh tables lists them)",
                )
            )
            continue
        contract = contracts.get(producer_key)
        if contract is None:
            continue  # reported as contract-coverage
        cross_domain = producer_key.domain != domain
        shared = not cross_domain or producer_key.layer is Layer.RAW
        if not shared and contract.access is Access.PRIVATE:
            found.append(
                _error(
                    "consumer-access",
                    domain,
                    subject,
                    f"{consumer.key} reads {producer_key}, which is private to "
                    f"{producer_key.domain}",
                    f"ask {producer_key.domain} to publish it (access: public)",
                )
            )
        if read.major is not None and read.major != contract.major_version:
            found.append(
                _error(
                    "consumer-major",
                    domain,
                    subject,
                    f"{consumer.key} accepts major {read.major} of {producer_key}, "
                    f"whose contract is at {contract.version}",
                    "read the table of the major you accept",
                )
            )
        for column, expected in read.columns.items():
            promised = contract.column(column)
            if promised is None:
                found.append(
                    _error(
                        "consumer-columns",
                        domain,
                        subject,
                        f"{consumer.key} reads {producer_key}.{column}, which its "
                        f"contract {contract.version} does not have",
                        f"read columns of the contract: {', '.join(contract.column_names)}",
                    )
                )
            elif expected is not None and _canonical(expected) != promised.type_name:
                found.append(
                    _error(
                        "consumer-columns",
                        domain,
                        subject,
                        f"{consumer.key} expects {column} as {expected}, the contract "
                        f"promises {promised.type_name}",
                        "expect the contract's type, or read another major",
                    )
                )
        if contract.deprecation_date is not None and cross_domain:
            date = contract.deprecation_date
            message = (
                f"{consumer.key} reads {producer_key} (major {contract.major_version}), "
                f"deprecated on {date.isoformat()}"
            )
            fix = "move to the next major of the table before that date"
            found.append(
                _error("consumer-deprecated", domain, subject, message + " (passed)", fix)
                if today >= date
                else _warning("consumer-deprecated", domain, subject, message, fix)
            )
    return found


def _domain_cycles(mesh: Mesh) -> list[Violation]:
    """One ``domain-cycle`` error per group of domains that depend on each other.

    The groups are the strongly connected components of the domain graph (linear time, so a mesh
    of hundreds of domains costs nothing); each error names one cycle through its group.
    """
    edges: dict[str, set[str]] = defaultdict(set)
    for table in mesh.tables.values():
        for upstream in table.upstream:
            if upstream.domain != table.key.domain:
                edges[table.key.domain].add(upstream.domain)
    found: list[Violation] = []
    for group in _strongly_connected(edges):
        if len(group) < 2:
            continue
        cycle = _cycle_through(min(group), group, edges)
        found.append(
            _error(
                "domain-cycle",
                cycle[0],
                " -> ".join(cycle),
                f"domains depend on each other in a cycle: {' -> '.join(reversed(cycle))}",
                "move the shared logic into one domain, or publish a product the other reads",
            )
        )
    return found


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components of ``edges``, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            successor = next(successors, None)
            if successor is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group: set[str] = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    groups.append(group)
            elif successor not in index:
                index[successor] = low[successor] = len(index)
                stack.append(successor)
                on_stack.add(successor)
                work.append((successor, iter(sorted(edges.get(successor, ())))))
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
    return groups


def _cycle_through(start: str, group: set[str], edges: dict[str, set[str]]) -> list[str]:
    """The shortest cycle from ``start`` back to itself inside ``group`` (breadth first)."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for successor in sorted(edges.get(node, ())):
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if successor in group and successor not in came_from:
                    came_from[successor] = node
                    following.append(successor)
        frontier = following
    return [start]  # pragma: no cover - every member of a group of two or more is on a cycle


def _against_base(
    project_root: Path,
    base: str,
    mesh: Mesh,
    contracts: dict[TableKey, TableContract],
    unknown: _Unknown,
) -> list[Violation]:
    baseline = load_baseline(project_root, base)
    if baseline.error is not None:
        return [
            _error(
                "base-revision",
                "(mesh)",
                base,
                baseline.error,
                "pass a revision that exists, e.g. --base origin/main",
            )
        ]
    found = [
        _error(
            "base-revision",
            "(mesh)",
            base,
            problem,
            "the comparison skips that contract; fix it at the base or ignore",
        )
        for problem in baseline.unreadable
    ]
    readers: dict[TableKey, list[tuple[MeshTable, dict[str, str | None]]]] = defaultdict(list)
    for table in mesh.tables.values():
        for read in table.reads:
            readers[read.table].append((table, read.columns))
    for key, old in baseline.contracts.items():
        new = contracts.get(key)
        if new is None and key in unknown.contracts:
            continue  # a broken contract, reported as such, is not a removed table
        diff = compare_contracts(old, new) if new is not None else removed_table(old)
        if not diff.needs_major_bump:
            continue
        affected = {c.column for c in diff.breaking if c.column is not None}
        consumers = [
            (table, columns)
            for table, columns in readers.get(key, [])
            if table.key.domain != key.domain
        ]
        named = (
            "; ".join(
                f"{t.key.domain}: {t.key} reads "
                + (
                    ", ".join(sorted(set(cols) & affected))
                    or ", ".join(sorted(cols))
                    or "all columns"
                )
                for t, cols in consumers
            )
            or "no consumer yet"
        )
        changes = "; ".join(c.description for c in diff.breaking)
        internal = new is not None and new.access is Access.INTERNAL
        make = _warning if internal else _error
        found.append(
            make(
                "breaking-change",
                key.domain,
                key,
                f"{key} {old.version} -> {new.version if new else 'removed'}: "
                f"breaking ({changes}) without a new major; consumers: {named}",
                "publish the change as a new major (a new table beside this one, "
                "version N+1.0.0) and keep this one until its deprecation date",
            )
        )
    return found
