"""Every table of the mesh, quarantines included, with what the lake holds for it."""

from pydantic import BaseModel, ConfigDict

from platform_lib.conventions import Layer, TableKey
from platform_lib.lake.reader import table_state
from platform_lib.mesh.graph import Mesh
from platform_lib.settings import MeshSettings


class TableListing(BaseModel):
    """One line of ``mesh tables``."""

    model_config = ConfigDict(frozen=True)

    key: str
    domain: str
    layer: str
    table: str
    uri: str
    owners: list[str]
    version: int | None
    rows: int | None
    quarantine_of: str | None = None
    """For a quarantine table, the table whose rejected rows it keeps."""


def list_tables(mesh: Mesh, settings: MeshSettings) -> list[TableListing]:
    """Every table of ``mesh`` (quarantines included) with its version and row count.

    Example:
        >>> settings = resolve_settings()
        >>> list_tables(load_mesh(settings.project_root).require_loaded(), settings)
    """
    listings = []
    for key, table in sorted(mesh.tables.items(), key=lambda item: str(item[0])):
        listings.append(_listing(key, table.owners, settings))
        if key.layer is not Layer.RAW:
            listings.append(_listing(key.quarantine, table.owners, settings, quarantine_of=key))
    return listings


def _listing(
    key: TableKey,
    owners: tuple[str, ...],
    settings: MeshSettings,
    quarantine_of: TableKey | None = None,
) -> TableListing:
    uri = key.uri(settings)
    state = table_state(uri)
    return TableListing(
        key=str(key),
        domain=key.domain,
        layer=key.layer.value,
        table=key.table,
        uri=uri,
        owners=list(owners),
        version=state.version if state else None,
        rows=state.rows if state else None,
        quarantine_of=str(quarantine_of) if quarantine_of else None,
    )
