"""Small helpers for DuckDB over Arrow: quoting, registering inputs, masking columns."""

from collections.abc import Collection, Sequence

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads

_PRIVATE_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def quote_identifier(name: str) -> str:
    """Quote ``name`` as a DuckDB identifier (never format raw names into SQL)."""
    return '"' + name.replace('"', '""') + '"'


def use_utc(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Make ``connection`` read and write times in UTC, whatever the machine's time zone.

    A ``timestamptz`` cast to ``DATE`` (a UTC day), a naive timestamp cast to ``timestamptz`` and a
    ``timestamptz`` compared as text all follow the session's zone. (The ``SET`` statement works
    here; passing ``TimeZone`` as connection config asks for the ICU extension, which is not
    installed and cannot be downloaded.)
    """
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def quote_literal(value: str) -> str:
    """Quote ``value`` as an SQL string literal (DuckDB and Delta predicates alike)."""
    return "'" + value.replace("'", "''") + "'"


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
    with duckdb.connect(":memory:", config=_PRIVATE_CONFIG) as private:
        private.register("source", data)
        return private.sql(f"SELECT {select} FROM source").to_arrow_table()  # noqa: S608 - quoted
