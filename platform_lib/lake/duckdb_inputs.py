"""A domain's DuckDB inputs: declared reads registered as views, restricted columns masked."""

from collections.abc import Collection, Sequence

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads

from platform_lib.sql import isolated_connection, quote_identifier


def register_input(
    connection: duckdb.DuckDBPyConnection,
    name: str,
    data: pa.Table | pads.Dataset,
    columns: tuple[str, ...] | None = None,
) -> None:
    """Expose ``data`` to ``connection`` as the view ``name``, limited to ``columns`` if given."""
    hidden = f"__input_{name}"
    connection.register(hidden, data)
    selected = ", ".join(quote_identifier(c) for c in columns) if columns else "*"
    connection.execute(
        f"CREATE OR REPLACE TEMP VIEW {quote_identifier(name)} AS "  # noqa: S608 - quoted names
        f"SELECT {selected} FROM {quote_identifier(hidden)}"
    )


def mask_columns(
    data: pa.Table | pads.Dataset,
    columns: Sequence[str] | None,
    masked: Collection[str],
) -> pa.Table:
    """``columns`` of ``data`` (all when None) as Arrow, each of ``masked`` replaced by the
    SHA-256 hex digest of its text (NULL stays NULL; equal values give equal digests).

    The clear values never leave a private in-memory DuckDB connection, so a consumer handed the
    result cannot find them (this materialises the columns read).
    """
    names = list(columns) if columns is not None else list(data.schema.names)
    select = ", ".join(
        f"sha256(CAST({quote_identifier(c)} AS VARCHAR)) AS {quote_identifier(c)}"
        if c in masked
        else quote_identifier(c)
        for c in names
    )
    with isolated_connection() as private:
        private.register("source", data)
        return private.sql(f"SELECT {select} FROM source").to_arrow_table()  # noqa: S608 - quoted
