"""Contracts as they were at a git revision, read through git without touching the work tree."""

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from platform_lib.contracts.loader import CONTRACT_GLOB, load_contract_text
from platform_lib.contracts.model import TableContract
from platform_lib.contracts.registry import CONTRACTS_FOLDER
from platform_lib.conventions import TableKey


@dataclass
class Baseline:
    """The contracts at the base revision, and the files that could not be read there."""

    revision: str
    contracts: dict[TableKey, TableContract] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    error: str | None = None
    """Why the revision itself could not be used (then no contract is compared)."""


def _git(project_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(project_root), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def load_baseline(project_root: Path, revision: str) -> Baseline:
    """Every contract under ``contracts/`` at ``revision``."""
    baseline = Baseline(revision=revision)
    resolved = _git(project_root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if resolved.returncode != 0:
        baseline.error = f"git revision {revision!r} not found in {project_root}"
        return baseline
    commit = resolved.stdout.strip()
    listed = _git(project_root, "ls-tree", "-r", "--name-only", commit, "--", CONTRACTS_FOLDER)
    if listed.returncode != 0:
        baseline.error = f"cannot list {CONTRACTS_FOLDER}/ at {revision}: {listed.stderr.strip()}"
        return baseline
    suffix = CONTRACT_GLOB.removeprefix("*")
    for name in listed.stdout.splitlines():
        if not name.endswith(suffix):
            continue
        shown = _git(project_root, "show", f"{commit}:{name}")
        if shown.returncode != 0:
            baseline.unreadable.append(f"{name}: {shown.stderr.strip()}")
            continue
        load = load_contract_text(shown.stdout, project_root / name)
        if load.contract is None:
            first = load.findings[0].render() if load.findings else name
            baseline.unreadable.append(f"{name} at {revision}: {first}")
            continue
        baseline.contracts[load.contract.key] = load.contract
    return baseline
