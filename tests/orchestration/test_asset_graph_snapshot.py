"""Every asset's conventions, snapshotted: a convention regression shows as a reviewed diff.

Regenerate after an intended change with ``UPDATE_SNAPSHOTS=1 pytest tests/orchestration``.
"""

import json
import os
from pathlib import Path

from platform_lib.mesh.graph import Mesh

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "asset_graph.json"


def describe(mesh: Mesh) -> dict[str, object]:
    described: dict[str, object] = {}
    for name in mesh.domains:
        asset_graph = mesh.definitions(name).resolve_asset_graph()
        for key in sorted(asset_graph.materializable_asset_keys):
            node = asset_graph.get(key)
            described["/".join(key.path)] = {
                "location": name,
                "group": node.group_name,
                "owners": sorted(node.owners),
                "kinds": sorted(node.kinds),
                "tags": dict(sorted(node.tags.items())),
                "deps": sorted("/".join(k.path) for k in node.parent_keys),
                "checks": sorted(c.name for c in node.check_keys),
                "metadata": sorted(node.metadata),
                "automation": node.automation_condition.get_label()
                if node.automation_condition
                else None,
            }
    return described


def test_asset_conventions_match_the_snapshot(project_mesh: Mesh) -> None:
    current = describe(project_mesh)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    snapshot = json.loads(SNAPSHOT.read_text())
    snapshotted = {asset["location"] for asset in snapshot.values()}

    # Domains added later (mesh new) are held to the conventions by the next test until their
    # team snapshots them; the snapshotted ones must not drift.
    assert {k: v for k, v in current.items() if v["location"] in snapshotted} == snapshot


def test_every_asset_follows_the_key_group_owner_and_kind_conventions(
    project_mesh: Mesh,
) -> None:
    for key, asset in describe(project_mesh).items():
        assert isinstance(asset, dict)
        domain, layer, _ = key.split("/")
        assert asset["location"] == asset["group"] == domain
        assert layer in {"raw", "curated", "product"}
        assert asset["owners"], key
        assert asset["kinds"] == ["delta"]
        assert {"dagster/uri", "dagster/table_name"} <= set(asset["metadata"])
