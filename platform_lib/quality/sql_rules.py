"""Contract SQL rules, run in a DuckDB connection that can read only the rows under test.

Three walls keep a rule inside the batch it judges:

- the query must parse as one SELECT whose parse tree reads ``${table}`` and no other table: no
  catalog tables (``information_schema``, ``duckdb_tables()``), no table function but ``range``,
  ``generate_series`` and ``unnest`` (so no ``read_csv``, ``glob``, ``read_parquet``), and none of
  the functions that describe the environment (``current_setting``, ``getenv``, ``duckdb_*``);
- the connection it runs in is a fresh in-memory database holding only the rows under test, with
  no external access (no files, no network, no extension loading) and a locked configuration, so
  ``SET``/``PRAGMA`` cannot re-enable what is off (and they are not SELECTs anyway);
- a query longer than :data:`MAX_QUERY_CHARS` is not parsed, and one still running after
  ``timeout_seconds`` is interrupted; both fail the rule.

Every refusal is a :class:`SqlOutcome` with an error, never an exception.
"""

import json
import threading
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads
from pydantic import BaseModel, ConfigDict

from platform_lib.lake.sql import use_utc

TABLE_PLACEHOLDER = "${table}"
SQL_RULE_TIMEOUT_SECONDS = 300.0
"""How long a rule's query may run before it is interrupted and the rule fails."""
MAX_QUERY_CHARS = 20_000
"""The longest rule query accepted (a rule is one SELECT returning one number)."""
_VIEW = "rows_under_test"
_SANDBOX: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
_ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
_ENVIRONMENT_FUNCTIONS = frozenset(
    {
        "current_setting",
        "getenv",
        "getvariable",
        "current_database",
        "current_catalog",
        "current_schema",
        "current_schemas",
        "current_user",
        "user",
        "session_user",
        "version",
        "platform",
        "query",
        "query_table",
    }
)
_ENVIRONMENT_PREFIXES = ("duckdb_", "pragma_", "read_", "sniff_")
_DEFAULT_SCHEMAS = {("", ""), ("", "main"), ("memory", "main"), ("temp", "main")}


class SqlOutcome(BaseModel):
    """The single value a rule's query returned, or why it could not run."""

    model_config = ConfigDict(frozen=True)

    value: float | None = None
    error: str | None = None


def sql_rule_problem(query: str) -> str | None:
    """Why ``query`` is not one read-only SELECT over ``${table}`` alone, or None when it is."""
    if len(query) > MAX_QUERY_CHARS:
        return (
            f"the query has {len(query):,} characters; a rule's query has at most "
            f"{MAX_QUERY_CHARS:,}"
        )
    if TABLE_PLACEHOLDER not in query:
        return "the query does not read ${table} (the rows under test)"
    sql = query.replace(TABLE_PLACEHOLDER, _VIEW)
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        return f"the query does not parse: {str(error).splitlines()[0]}"
    if len(statements) != 1:
        return f"the query has {len(statements)} statements; a rule is one SELECT"
    if statements[0].type is not duckdb.StatementType.SELECT:
        return f"the query is a {statements[0].type.name} statement, not a SELECT"
    return _reach_problem(sql)


def run_sql_rule(
    query: str,
    rows: pa.Table | pads.Dataset,
    *,
    timeout_seconds: float = SQL_RULE_TIMEOUT_SECONDS,
) -> SqlOutcome:
    """Run ``query`` over ``rows`` (as ``${table}``) in the sandbox; never raises for bad SQL.

    Args:
        query: The rule's SQL, one SELECT over ``${table}`` returning one number.
        rows: The rows under test; the only data the query can see.
        timeout_seconds: The query is interrupted after this long and the rule fails.
    """
    problem = sql_rule_problem(query)
    if problem is not None:
        return SqlOutcome(error=problem)
    with _sandbox() as connection:
        connection.register(_VIEW, rows)
        timer = threading.Timer(timeout_seconds, connection.interrupt)
        timer.start()
        try:
            result = connection.execute(query.replace(TABLE_PLACEHOLDER, _VIEW)).fetchall()
        except duckdb.InterruptException:
            return SqlOutcome(error=f"the query ran longer than {timeout_seconds:g} s")
        except duckdb.Error as error:
            return SqlOutcome(error=str(error).splitlines()[0])
        finally:
            timer.cancel()
    if len(result) != 1 or len(result[0]) != 1:
        return SqlOutcome(error="the query must return exactly one value")
    value = result[0][0]
    if value is None:
        return SqlOutcome(value=None, error="the query returned NULL")
    try:
        return SqlOutcome(value=float(value))
    except (TypeError, ValueError):
        return SqlOutcome(error=f"the query returned {value!r}, not a number")


def _sandbox() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory connection with no external access, in UTC, its settings then locked."""
    connection = use_utc(duckdb.connect(":memory:", config=_SANDBOX))
    connection.execute("SET lock_configuration = true")
    return connection


def _reach_problem(sql: str) -> str | None:
    """What the parsed SELECT reads besides the rows under test, or None when nothing."""
    with _sandbox() as connection:
        row = connection.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    tree = json.loads(row[0]) if row else {"error": True}
    if tree.get("error"):
        return f"the query does not parse: {tree.get('error_message', 'unknown error')}"
    nodes = list(_nodes(tree["statements"]))
    ctes = {
        entry["key"]
        for node in nodes
        for entry in (node.get("cte_map") or {}).get("map", [])
        if isinstance(entry, dict) and "key" in entry
    }
    reads_rows = False
    for node in nodes:
        kind = node.get("type")
        if kind == "BASE_TABLE":
            place = (node.get("catalog_name", ""), node.get("schema_name", ""))
            name = node.get("table_name", "")
            if place in _DEFAULT_SCHEMAS and name == _VIEW:
                reads_rows = True
            elif place != ("", "") or name not in ctes:
                shown = ".".join(p for p in (*place, name) if p)
                return f"the query reads {shown}; a rule may read only ${{table}}"
        elif kind == "TABLE_FUNCTION":
            function = str((node.get("function") or {}).get("function_name", "")).lower()
            if function not in _ALLOWED_TABLE_FUNCTIONS:
                return (
                    f"the query calls the table function {function}(); a rule may read only "
                    "${table} (and range, generate_series, unnest)"
                )
        elif node.get("class") == "FUNCTION":
            function = str(node.get("function_name", "")).lower()
            if function in _ENVIRONMENT_FUNCTIONS or function.startswith(_ENVIRONMENT_PREFIXES):
                return f"the query calls {function}(), which reads outside the rows under test"
    if not reads_rows:
        return "the query does not read ${table} (a mention in a comment or a string is not a read)"
    return None


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object of a serialised parse tree, depth first."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _nodes(child)
