"""SQL text the platform writes: quoted identifiers and literals, and DuckDB sessions in UTC.

Used by every layer that builds a query or a Delta predicate; it knows nothing of contracts or
storage.
"""

import duckdb

_NO_EXTERNAL_ACCESS: dict[str, str | bool | int | float | list[str]] = {
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


def isolated_connection() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection that reaches nothing outside itself, in UTC.

    It cannot read or write files, use the network or load extensions, and its configuration is
    locked, so ``SET``/``PRAGMA`` cannot switch external access back on. Only what the caller
    registers in it can be read.
    """
    connection = use_utc(duckdb.connect(":memory:", config=_NO_EXTERNAL_ACCESS))
    connection.execute("SET lock_configuration = true")
    return connection
