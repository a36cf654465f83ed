"""Load every code location of ``workspace.yaml`` into one process (for the CLI and CI)."""

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from platform_lib.errors import MeshError

if TYPE_CHECKING:
    from dagster import Definitions

WORKSPACE_FILE = "workspace.yaml"


@dataclass(frozen=True)
class CodeLocation:
    """One domain's code location as ``workspace.yaml`` declares it, loaded."""

    name: str
    module: str
    defs: "Definitions"


def read_workspace_modules(workspace: Path) -> list[tuple[str, str]]:
    """The ``(location name, python module)`` pairs declared in ``workspace``."""
    try:
        document = yaml.safe_load(workspace.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise MeshError(
            f"cannot read {workspace}: {error}",
            fix="run the command from the project root, or repair the file",
        ) from error
    entries = (document or {}).get("load_from") or []
    pairs: list[tuple[str, str]] = []
    for index, entry in enumerate(entries):
        module = (entry or {}).get("python_module")
        if isinstance(module, str):
            module = {"module_name": module}
        if not isinstance(module, dict) or "module_name" not in module:
            raise MeshError(
                f"{workspace}: load_from[{index}] is not a python_module entry",
                fix="declare each domain as a python_module (module_name: domains.<d>.definitions)",
            )
        name = module.get("location_name") or module["module_name"].split(".")[1]
        pairs.append((name, module["module_name"]))
    return pairs


def load_workspace(workspace: Path) -> list[CodeLocation]:
    """Import every code location of ``workspace`` and return its Definitions."""
    from dagster import Definitions  # reading the workspace file alone needs no Dagster

    locations = []
    for name, module_name in read_workspace_modules(workspace):
        module = importlib.import_module(module_name)
        defs = getattr(module, "defs", None)
        if not isinstance(defs, Definitions):
            raise MeshError(
                f"module {module_name} (location {name!r}) has no `defs` Definitions object",
                fix="end the domain's definitions.py with `defs = domain_definitions(...)`",
            )
        locations.append(CodeLocation(name=name, module=module_name, defs=defs))
    return locations
