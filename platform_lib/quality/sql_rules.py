"""Contract SQL rules, run in a DuckDB connection that can read only the rows under test.

The connection has no external access (no files, no network, no extension loading) and a locked
configuration, so a rule cannot reach outside the batch or re-enable what is off. The query must be
one read-only SELECT over ``${table}`` returning a single number.
"""

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads
from pydantic import BaseModel, ConfigDict

TABLE_PLACEHOLDER = "${table}"
_VIEW = "rows_under_test"
_SANDBOX: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


class SqlOutcome(BaseModel):
    """The single value a rule's query returned, or why it could not run."""

    model_config = ConfigDict(frozen=True)

    value: float | None = None
    error: str | None = None


def sql_rule_problem(query: str) -> str | None:
    """Why ``query`` is not one read-only SELECT over ``${table}``, or None when it is."""
    if TABLE_PLACEHOLDER not in query:
        return "the query does not read ${table} (the rows under test)"
    try:
        statements = duckdb.extract_statements(query.replace(TABLE_PLACEHOLDER, _VIEW))
    except duckdb.Error as error:
        return f"the query does not parse: {str(error).splitlines()[0]}"
    if len(statements) != 1:
        return f"the query has {len(statements)} statements"
    if statements[0].type is not duckdb.StatementType.SELECT:
        return f"the query is a {statements[0].type.name} statement, not a SELECT"
    return None


def run_sql_rule(query: str, rows: pa.Table | pads.Dataset) -> SqlOutcome:
    """Run ``query`` over ``rows`` (as ``${table}``) in the sandbox; never raises for bad SQL."""
    problem = sql_rule_problem(query)
    if problem is not None:
        return SqlOutcome(error=problem)
    with duckdb.connect(":memory:", config=_SANDBOX) as connection:
        connection.register(_VIEW, rows)
        try:
            result = connection.execute(query.replace(TABLE_PLACEHOLDER, _VIEW)).fetchall()
        except duckdb.Error as error:
            return SqlOutcome(error=str(error).splitlines()[0])
    if len(result) != 1 or len(result[0]) != 1:
        return SqlOutcome(error="the query must return exactly one value")
    value = result[0][0]
    if value is None:
        return SqlOutcome(value=None, error="the query returned NULL")
    try:
        return SqlOutcome(value=float(value))
    except (TypeError, ValueError):
        return SqlOutcome(error=f"the query returned {value!r}, not a number")
