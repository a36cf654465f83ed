"""Contract ``sql`` rules cannot reach outside the rows under test: each escape is a failed rule."""

import datetime as dt
import time
from pathlib import Path

import pyarrow as pa
import pytest

from platform_lib.contracts.loader import load_contract
from platform_lib.quality.sql_rules import run_sql_rule
from tests.conftest import write_contract

ROWS = pa.table({"amount": [1, 2, 3], "note": ["a", "b", "c"]})

ATTACKS = {
    "read_csv": "SELECT count(*) FROM read_csv('/etc/passwd'), ${table}",
    "read_parquet": "SELECT count(*) FROM read_parquet('/tmp/*.parquet'), ${table}",
    "glob": "SELECT count(*) FROM glob('/*'), ${table}",
    "file_path_as_table": "SELECT count(*) FROM '/etc/passwd', ${table}",
    "read_text_scalar_subquery": (
        "SELECT (SELECT count(*) FROM read_text('/etc/hostname')) FROM ${table}"
    ),
    "copy_to": "COPY (SELECT * FROM ${table}) TO '/tmp/stolen.csv'",
    "attach": "ATTACH '/tmp/other.duckdb' AS other; SELECT count(*) FROM ${table}",
    "attach_alone": "ATTACH '/tmp/other.duckdb' AS other -- ${table}",
    "install": "INSTALL httpfs -- ${table}",
    "load": "LOAD httpfs -- ${table}",
    "set_external_access": "SET enable_external_access = true -- ${table}",
    "pragma": "PRAGMA enable_external_access = true -- ${table}",
    "create_table": "CREATE TABLE copy AS SELECT * FROM ${table}",
    "insert": "INSERT INTO ${table} VALUES (4, 'd')",
    "second_statement": "SELECT count(*) FROM ${table}; DROP TABLE ${table}",
    "other_table": "SELECT count(*) FROM ${table}, payments_accounts",
    "other_table_in_subquery": (
        "SELECT count(*) FROM ${table} WHERE amount IN (SELECT 1 FROM main.secrets)"
    ),
    "information_schema": "SELECT count(*) FROM information_schema.tables, ${table}",
    "duckdb_table_function": "SELECT count(*) FROM duckdb_settings(), ${table}",
    "duckdb_scalar_function": "SELECT count(*) + length(duckdb_api()) FROM ${table}",
    "placeholder_in_comment": "SELECT count(*) FROM information_schema.columns -- ${table}",
    "placeholder_in_string": "SELECT length('${table}')",
    "getenv": "SELECT length(getenv('HOME')) FROM ${table}",
    "current_setting": "SELECT length(current_setting('temp_directory')) FROM ${table}",
    "qualified_other_catalog": "SELECT count(*) FROM system.main.duckdb_tables, ${table}",
}


@pytest.mark.parametrize("query", ATTACKS.values(), ids=ATTACKS.keys())
def test_an_escaping_rule_fails_with_a_message_and_no_data(query: str) -> None:
    outcome = run_sql_rule(query, ROWS)

    assert outcome.value is None
    assert outcome.error, query
    assert "${table}" in outcome.error or "statement" in outcome.error or "()" in outcome.error


def test_an_escaping_rule_in_a_contract_is_a_lint_finding(tmp_path: Path) -> None:
    path = write_contract(
        tmp_path,
        "shop/curated/orders",
        """schema:
  - name: orders
    physicalType: table
    properties:
      - {name: amount, logicalType: integer, physicalType: int64}
    quality:
      - id: sneaky
        type: sql
        query: SELECT count(*) FROM read_csv('/etc/passwd'), ${table}
        mustBe: 0
""",
    )
    load = load_contract(path)

    assert load.contract is None
    assert [f.rule_id for f in load.findings] == ["sql-rule"]
    assert "read_csv" in load.findings[0].message


def test_a_slow_query_is_interrupted_and_fails() -> None:
    started = time.monotonic()
    outcome = run_sql_rule(
        "SELECT count(*) FROM ${table}, range(100000000) a, range(100000000) b",
        ROWS,
        timeout_seconds=0.5,
    )

    assert time.monotonic() - started < 10
    assert outcome.error == "the query ran longer than 0.5 s"


def test_a_huge_query_is_refused_before_parsing() -> None:
    padding = " OR ".join(["amount = 1"] * 5_000)
    query = f"SELECT count(*) FROM ${{table}} WHERE {padding}"  # noqa: S608

    outcome = run_sql_rule(query, ROWS)

    assert outcome.error == (
        f"the query has {len(query):,} characters; a rule's query has at most 20,000"
    )


def test_a_file_the_rule_names_is_never_written(tmp_path: Path) -> None:
    target = tmp_path / "stolen.csv"
    attack = "COPY (SELECT * FROM ${table}) TO '" + str(target) + "'"  # noqa: S608 - the attack
    outcome = run_sql_rule(attack, ROWS)

    assert outcome.error is not None
    assert not target.exists()


def test_legitimate_rules_still_run() -> None:
    assert run_sql_rule("SELECT count(*) FROM ${table} WHERE amount > 1", ROWS).value == 2
    assert (
        run_sql_rule(
            "WITH big AS (SELECT * FROM ${table} WHERE amount > 1) "
            "SELECT count(*) FROM big, range(2)",
            ROWS,
        ).value
        == 4
    )
    assert run_sql_rule("SELECT count(*) FROM (FROM ${table}) AS t", ROWS).value == 3


@pytest.mark.usefixtures("tokyo_time")
def test_a_rule_reads_days_in_utc_whatever_the_machines_zone() -> None:
    rows = pa.table(
        {
            "booked_at": pa.array(
                [dt.datetime(2026, 1, 5, 20, tzinfo=dt.UTC)], pa.timestamp("us", "UTC")
            )
        }
    )

    outcome = run_sql_rule(
        "SELECT count(*) FROM ${table} WHERE CAST(booked_at AS DATE) = DATE '2026-01-05'", rows
    )

    assert outcome.value == 1, outcome
