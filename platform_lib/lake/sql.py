"""Small helpers for DuckDB over Arrow: quoting and registering inputs."""

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads


def quote_identifier(name: str) -> str:
    """Quote ``name`` as a DuckDB identifier (never format raw names into SQL)."""
    return '"' + name.replace('"', '""') + '"'


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
