"""Where the mesh's table keys meet Dagster's asset keys: ``domain/layer/table`` is
``AssetKey([domain, layer, table])``.

The conventions name tables without Dagster (:class:`~platform_lib.conventions.TableKey`); only
the layers that speak to Dagster convert, here.
"""

from dagster import AssetKey

from platform_lib.conventions import TableKey


def to_asset_key(key: TableKey) -> AssetKey:
    """The Dagster asset key ``[domain, layer, table]`` of ``key``."""
    return AssetKey([key.domain, key.layer.value, key.table])


def from_asset_key(asset_key: AssetKey) -> TableKey:
    """The table behind a mesh asset key ``[domain, layer, table]`` (a MeshError otherwise)."""
    return TableKey.parse("/".join(asset_key.path))
