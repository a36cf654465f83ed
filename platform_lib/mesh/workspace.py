"""Read ``workspace.yaml``: the code locations of the mesh, each a name and a Python module."""

import re
from pathlib import Path

import yaml

from platform_lib.errors import MeshError

WORKSPACE_FILE = "workspace.yaml"


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


def declared_at(workspace: Path, module_name: str) -> str:
    """Where ``workspace`` declares ``module_name``: ``workspace.yaml:LINE`` (the file alone when
    no line names it)."""
    try:
        lines = workspace.read_text().splitlines()
    except OSError:
        return workspace.name
    named = re.compile(rf"(?<![\w.]){re.escape(module_name)}(?![\w.])")
    for number, line in enumerate(lines, start=1):
        if named.search(line.split("#")[0]):
            return f"{workspace.name}:{number}"
    return workspace.name
