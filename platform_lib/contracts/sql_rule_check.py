"""The first wall of the SQL-rule sandbox, checked when a contract compiles: a rule's query is
one read-only SELECT whose parse tree reads ``${table}`` and nothing else.

It refuses catalog tables (``information_schema``, ``duckdb_tables()``), every table function but
``range``, ``generate_series`` and ``unnest`` (so no ``read_csv``, ``glob``, ``read_parquet``),
the functions that describe the environment (``current_setting``, ``getenv``, ``duckdb_*``), a
second statement, and a query longer than :data:`MAX_QUERY_CHARS`. The other walls (a connection
holding only the rows under test, a timeout) are :mod:`platform_lib.quality.sql_rules`'.
"""

import json
from collections.abc import Iterator
from typing import Any

import duckdb

from platform_lib.sql import isolated_connection

TABLE_PLACEHOLDER = "${table}"
MAX_QUERY_CHARS = 20_000
"""The longest rule query accepted (a rule is one SELECT returning one number)."""
ROWS_VIEW = "rows_under_test"
"""The name ``${table}`` stands for in the query that runs."""
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


def sql_rule_problem(query: str) -> str | None:
    """Why ``query`` is not one read-only SELECT over ``${table}`` alone, or None when it is."""
    if len(query) > MAX_QUERY_CHARS:
        return (
            f"the query has {len(query):,} characters; a rule's query has at most "
            f"{MAX_QUERY_CHARS:,}"
        )
    if TABLE_PLACEHOLDER not in query:
        return "the query does not read ${table} (the rows under test)"
    sql = query.replace(TABLE_PLACEHOLDER, ROWS_VIEW)
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        return f"the query does not parse: {str(error).splitlines()[0]}"
    if len(statements) != 1:
        return f"the query has {len(statements)} statements; a rule is one SELECT"
    if statements[0].type is not duckdb.StatementType.SELECT:
        return f"the query is a {statements[0].type.name} statement, not a SELECT"
    return _reach_problem(sql)


def _reach_problem(sql: str) -> str | None:
    """What the parsed SELECT reads besides the rows under test, or None when nothing."""
    with isolated_connection() as connection:
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
            if place in _DEFAULT_SCHEMAS and name == ROWS_VIEW:
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
