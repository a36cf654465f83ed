"""Reading Delta tables offline: deltalake -> Arrow, queried by DuckDB or polars.

DuckDB's own ``delta_scan`` downloads an extension at run time, so the platform never uses it.
"""

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
from deltalake import DeltaTable
from pydantic import BaseModel, ConfigDict

from platform_lib.lake.write_scope import check_read_target


class TableState(BaseModel):
    """A table's latest version and row count as the lake holds them."""

    model_config = ConfigDict(frozen=True)

    uri: str
    version: int
    rows: int


def table_exists(uri: str, storage_options: dict[str, str] | None = None) -> bool:
    """Whether a Delta table exists at ``uri``."""
    return DeltaTable.is_deltatable(uri, storage_options=storage_options)


def latest_version(uri: str, storage_options: dict[str, str] | None = None) -> int:
    """The table's latest Delta version (read it with ``version=`` to read exactly that one)."""
    check_read_target(uri)
    return DeltaTable(uri, storage_options=storage_options).version()


def open_dataset(
    uri: str, storage_options: dict[str, str] | None = None, *, version: int | None = None
) -> pads.Dataset:
    """The table as a lazy Arrow dataset (DuckDB and polars scan it): its latest version, or
    ``version``.

    Inside a running asset, another domain's table opens only as a declared read.
    """
    check_read_target(uri)
    return DeltaTable(uri, version=version, storage_options=storage_options).to_pyarrow_dataset()


def read_arrow(
    uri: str,
    columns: Sequence[str] | None = None,
    storage_options: dict[str, str] | None = None,
    *,
    version: int | None = None,
) -> pa.Table:
    """Read the table (only ``columns`` when given) into Arrow: its latest version, or
    ``version``."""
    dataset = open_dataset(uri, storage_options, version=version)
    return dataset.to_table(columns=list(columns) if columns is not None else None)


def table_state(uri: str, storage_options: dict[str, str] | None = None) -> TableState | None:
    """The table's version and row count, or None when it does not exist.

    The count comes from the Delta log's per-file record counts (no data file is opened); files
    written without statistics are counted by reading them.
    """
    if not table_exists(uri, storage_options):
        return None
    table = DeltaTable(uri, storage_options=storage_options)
    records = pa.table(table.get_add_actions(flatten=True)).column("num_records")
    if records.null_count:
        rows = table.to_pyarrow_dataset().count_rows()
    else:
        rows = int(pc.sum(records).as_py() or 0)
    return TableState(uri=uri, version=table.version(), rows=rows)
