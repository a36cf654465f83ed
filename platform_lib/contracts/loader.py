"""The one contract loader: a file in, the platform's contract and every finding about it out.

Three steps, each reporting rather than raising: read the YAML (``yaml_source``), check it is
valid ODCS (``standard``), and only then compile it against this platform's conventions
(``compile``). Every issue is placed in the file at the line of the field it concerns, or of the
nearest enclosing field that has a line.
"""

import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from platform_lib.cache import code_fingerprint, digest, enclosing_project, project_cache
from platform_lib.contracts.compile import compile_contract
from platform_lib.contracts.findings import FieldPath, Finding, FindingLevel, Issue, field_path_text
from platform_lib.contracts.model import TableContract
from platform_lib.contracts.standard import validate_standard
from platform_lib.contracts.yaml_source import (
    Position,
    YamlDocument,
    parse_yaml,
    parse_yaml_bytes,
    read_yaml,
)

CONTRACT_GLOB = "*.odcs.yaml"
"""Contract files in a folder are found by this name pattern, at any depth."""


class ContractLoad(BaseModel):
    """One contract file as loaded: its contract (when it compiles) and every finding about it."""

    model_config = ConfigDict(frozen=True)

    source: Path
    contract: TableContract | None
    """None when the file is not valid ODCS or a convention error prevents compiling it."""
    findings: tuple[Finding, ...] = ()
    """Standard-level findings first, then convention-level ones, each in file order."""
    content_digest: str = ""
    """SHA-256 of the file's bytes (empty when the file could not be read)."""

    @property
    def standard_findings(self) -> tuple[Finding, ...]:
        """Findings that make the file invalid ODCS (YAML errors included)."""
        return tuple(f for f in self.findings if f.level is FindingLevel.STANDARD)

    @property
    def convention_findings(self) -> tuple[Finding, ...]:
        """Findings about valid ODCS that breaks this platform's conventions."""
        return tuple(f for f in self.findings if f.level is FindingLevel.CONVENTION)

    @property
    def ok(self) -> bool:
        """Whether the file compiled into a contract without any finding."""
        return self.contract is not None and not self.findings


def place_issue(issue: Issue, source: Path, positions: dict[FieldPath, Position]) -> Finding:
    """Turn ``issue`` into a finding at the line of its field in ``source``.

    Args:
        issue: What is wrong, at which field of the document.
        source: The contract file.
        positions: Where each field of the document is (see ``yaml_source``).

    Returns:
        The finding; its line is that of the field, or of its nearest ancestor with a known
        position, or 1:1.
    """
    where = Position(1, 1)
    for end in range(len(issue.path), -1, -1):
        found = positions.get(issue.path[:end])
        if found is not None:
            where = found
            break
    return Finding(
        file=source,
        line=where.line,
        column=where.column,
        field=field_path_text(issue.path),
        rule_id=issue.rule_id,
        level=issue.level,
        message=issue.message,
        fix=issue.fix,
    )


def _in_order(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    levels = list(FindingLevel)
    return tuple(sorted(findings, key=lambda f: (levels.index(f.level), f.line, f.column)))


def load_contract(path: Path, *, external: bool = False) -> ContractLoad:
    """Load one contract file.

    Args:
        path: A ``*.odcs.yaml`` file.
        external: The contract describes a table outside the mesh: the mesh's naming conventions
            (location, id, layer, owner, server) are not required, only what the engine needs.

    Returns:
        The load: ``contract`` is set when the file is valid ODCS and compiles; ``findings``
        lists every problem found (compilation runs only on standard-valid files).

    Example:
        >>> load = load_contract(Path("contracts/payments/curated/transactions.odcs.yaml"))
        >>> load.ok, [finding.render() for finding in load.findings]
        (True, [])
    """
    try:
        stat = path.stat()
    except OSError:
        return _load(read_yaml(path), path, external)
    return _load_cached(path, stat.st_mtime_ns, stat.st_size, external)


def forget_loaded_contracts() -> None:
    """Drop this process's loads, as a new process starts (the project's on-disk cache stays)."""
    _load_cached.cache_clear()


@functools.lru_cache(maxsize=8192)
def _load_cached(path: Path, mtime_ns: int, size: int, external: bool) -> ContractLoad:
    """One load per file version and process, and across processes through the project cache.

    The registry and ``mesh check`` share the in-process load; the on-disk one is keyed by the
    file's path and bytes and the platform's code (see :mod:`platform_lib.cache`).
    """
    del mtime_ns, size  # part of the in-process key only
    try:
        raw = path.read_bytes()
    except OSError:
        return _load(read_yaml(path), path, external)
    content = hashlib.sha256(raw).hexdigest()
    project = enclosing_project(path.resolve().parent)
    cache = project_cache(project, "contracts") if project is not None else None
    key = digest(code_fingerprint(), str(path), str(external), content)
    cached = cache.get(key) if cache is not None else None
    if isinstance(cached, ContractLoad):
        return cached
    load = _load(parse_yaml_bytes(raw, path), path, external).model_copy(
        update={"content_digest": content}
    )
    if cache is not None:
        cache.put(key, load)
    return load


def load_contract_text(text: str, source: Path) -> ContractLoad:
    """Load a contract from its text (e.g. a file at a git revision), reported as ``source``."""
    content = hashlib.sha256(text.encode()).hexdigest()
    load = _load(parse_yaml(text, source), source, False)
    return load.model_copy(update={"content_digest": content})


def _load(document: YamlDocument, path: Path, external: bool) -> ContractLoad:
    findings = list(document.findings)
    if document.data is None:
        return ContractLoad(source=path, contract=None, findings=_in_order(findings))
    findings += [
        place_issue(issue, path, document.positions) for issue in validate_standard(document.data)
    ]
    if findings:
        return ContractLoad(source=path, contract=None, findings=_in_order(findings))
    contract, issues = compile_contract(document.data, path, external=external)
    findings += [place_issue(issue, path, document.positions) for issue in issues]
    return ContractLoad(source=path, contract=contract, findings=_in_order(findings))


def contract_files(paths: Sequence[Path]) -> list[Path]:
    """The contract files ``paths`` name: files as given, folders as every contract below them.

    Args:
        paths: Files and folders; a folder contributes every ``*.odcs.yaml`` at any depth, sorted.

    Returns:
        The files, each once, in the order given.
    """
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob(CONTRACT_GLOB)) if path.is_dir() else [path])
    return list(dict.fromkeys(files))


def load_contracts(paths: Sequence[Path]) -> list[ContractLoad]:
    """Load every contract that ``paths`` name (files, or folders searched for ``*.odcs.yaml``).

    Args:
        paths: Contract files and folders holding them.

    Returns:
        One load per file; a path that does not exist gives a load with a ``yaml-syntax``
        finding saying it cannot be read.

    Example:
        >>> loads = load_contracts([Path("contracts")])
        >>> sum(len(load.findings) for load in loads)
        0
    """
    return [load_contract(path) for path in contract_files(paths)]
