"""Read ``workspace.yaml``: the code locations of the mesh, each a name and a Python module."""

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
