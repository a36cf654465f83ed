"""Contract SQL rules, run in a DuckDB connection that can read only the rows under test.

Three walls keep a rule inside the batch it judges:

- the query must parse as one SELECT whose parse tree reads ``${table}`` and no other table
  (:mod:`platform_lib.contracts.sql_rule_check`, also run when the contract compiles);
- the connection it runs in is a fresh in-memory database holding only the rows under test, with
  no external access (no files, no network, no extension loading) and a locked configuration, so
  ``SET``/``PRAGMA`` cannot re-enable what is off (and they are not SELECTs anyway);
- a query longer than ``MAX_QUERY_CHARS`` is not parsed, and one still running after
  ``timeout_seconds`` is interrupted; both fail the rule.

Every refusal is a :class:`SqlOutcome` with an error, never an exception.
"""

import threading

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads
from pydantic import BaseModel, ConfigDict

from platform_lib.contracts.sql_rule_check import ROWS_VIEW, TABLE_PLACEHOLDER, sql_rule_problem
from platform_lib.sql import isolated_connection

SQL_RULE_TIMEOUT_SECONDS = 300.0
"""How long a rule's query may run before it is interrupted and the rule fails."""


class SqlOutcome(BaseModel):
    """The single value a rule's query returned, or why it could not run."""

    model_config = ConfigDict(frozen=True)

    value: float | None = None
    error: str | None = None


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
    with isolated_connection() as connection:
        connection.register(ROWS_VIEW, rows)
        timer = threading.Timer(timeout_seconds, connection.interrupt)
        timer.start()
        try:
            result = connection.execute(query.replace(TABLE_PLACEHOLDER, ROWS_VIEW)).fetchall()
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
