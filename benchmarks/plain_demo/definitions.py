"""P6 reference: the demo mesh's seven tables as plain Dagster assets, without platform_lib.

The same tables as ``domains/*`` (same keys, deps and groups), computed the same way from the same
landing files: the raw table keeps every record of ``data/landing/payments/transactions/*.csv``
with the same envelope columns (a record that does not parse is kept with its error), and every
other table runs the same SQL in DuckDB over the same columns of its inputs. What is left out is
what the platform adds: no contract (the curated table casts its text columns itself, with
``TRY_CAST``), no validation, no quarantine, no asset checks, no definition metadata. Every table
is written with ``deltalake.write_deltalake``: the raw table appended to, the others overwritten.

Run it to materialise every table in this process (``dagster.materialize``, the in-process
executor), into ``MESH_LAKE_ROOT`` from ``MESH_LANDING_ROOT``, recorded in the instance at
``DAGSTER_HOME``; it prints the rows written per table as JSON::

    MESH_LAKE_ROOT=/tmp/lake DAGSTER_HOME=/tmp/home python benchmarks/plain_demo/definitions.py

``benchmarks/bench_end_to_end.py`` times it against ``mesh materialize --all``.
"""

import csv
import datetime as dt
import hashlib
import json
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
from dagster import (
    AssetKey,
    AssetsDefinition,
    DagsterInstance,
    Definitions,
    MaterializeResult,
    asset,
    materialize,
)
from deltalake import DeltaTable, write_deltalake

PROJECT = Path(__file__).resolve().parents[2]
LANDING_FOLDER = "payments/transactions"
SOURCE_COLUMNS = (
    "transaction_id",
    "account_id",
    "amount",
    "currency",
    "merchant",
    "created_at",
    "status",
)
RAW_SCHEMA = pa.schema(
    [pa.field(c, pa.string()) for c in SOURCE_COLUMNS]
    + [
        pa.field("_ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("_batch_id", pa.string(), nullable=False),
        pa.field("_source_file", pa.string(), nullable=False),
        pa.field("_source_sha256", pa.string(), nullable=False),
        pa.field("_line_number", pa.int64(), nullable=False),
        pa.field("_raw_record", pa.string(), nullable=False),
        pa.field("_parse_error", pa.string()),
    ]
)
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
"""The run config ``mesh materialize`` runs with (no console log of every event)."""
UNUSUAL_AMOUNT_FACTOR = 5


def lake_uri(table: str) -> str:
    """Where ``domain/layer/table`` lives: ``<MESH_LAKE_ROOT>/domain/layer/table``."""
    root = os.environ.get("MESH_LAKE_ROOT") or str(PROJECT / ".lake")
    return f"{root.rstrip('/')}/{table}"


def landing_root() -> Path:
    """The landing zone: ``MESH_LANDING_ROOT`` or the project's ``data/landing``."""
    return Path(os.environ.get("MESH_LANDING_ROOT") or PROJECT / "data" / "landing")


# -- the raw table: every record of the landing files -------------------------------------------


def split_records(content: bytes) -> list[tuple[int, str, str | None]]:
    """Every record of a CSV file as ``(first line, text, error)``, the header included.

    A record is a non-empty line, or several lines while a double-quoted field is open (an odd
    number of ``"`` opens or closes one); CRLF reads as LF and bytes that are not UTF-8 are kept.
    """
    text = content.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape")
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    records: list[tuple[int, str, str | None]] = []
    pending: list[str] = []
    start = 0
    for number, line in enumerate(lines, 1):
        if pending:
            pending.append(line)
            if line.count('"') % 2:
                records.append((start, "\n".join(pending), None))
                pending = []
        elif line:
            if line.count('"') % 2:
                start, pending = number, [line]
            else:
                records.append((number, line, None))
    if pending:
        records.append((start, "\n".join(pending), "unterminated quoted field"))
    return records


def parse_record(text: str, width: int) -> tuple[list[str] | None, str | None]:
    """The fields of one record, or why it has none (a NUL byte, bytes not UTF-8, bad quoting,
    a wrong number of fields)."""
    if "\0" in text:
        return None, "stray NUL byte"
    if not text.isascii() and any("\udc80" <= char <= "\udcff" for char in text):
        return None, "undecodable bytes (not UTF-8)"  # surrogateescape's stand-ins for them
    try:
        fields = next(csv.reader([text], strict=True))
    except csv.Error as error:
        return None, str(error)
    if len(fields) != width:
        return None, f"expected {width} fields, found {len(fields)}"
    return fields, None


def read_landing_file(
    content: bytes, name: str, digest: str, batch: str, at: dt.datetime
) -> pa.Table:
    """One landing file as raw rows: its fields as text plus the envelope columns."""
    records = split_records(content)
    header = next(csv.reader([records[0][1]])) if records else []
    if tuple(header) != SOURCE_COLUMNS:
        raise ValueError(f"{name}: header {header}, expected {list(SOURCE_COLUMNS)}")
    columns: dict[str, list[str | None]] = {c: [] for c in SOURCE_COLUMNS}
    lines, raws, errors = [], [], []
    for number, text, error in records[1:]:
        fields, problem = (None, error) if error else parse_record(text, len(SOURCE_COLUMNS))
        for index, column in enumerate(SOURCE_COLUMNS):
            columns[column].append(fields[index] if fields is not None else None)
        lines.append(number)
        raws.append(text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))
        errors.append(problem)
    count = len(lines)
    envelope = {
        "_ingested_at": [at] * count,
        "_batch_id": [batch] * count,
        "_source_file": [name] * count,
        "_source_sha256": [digest] * count,
        "_line_number": lines,
        "_raw_record": raws,
        "_parse_error": errors,
    }
    return pa.table({**columns, **envelope}, schema=RAW_SCHEMA)


@asset(key=["payments", "raw", "transactions"], group_name="payments", kinds={"delta"})
def payments_raw_transactions() -> MaterializeResult:
    """Every record of the landing files, appended once per file (same name and content)."""
    uri = lake_uri("payments/raw/transactions")
    root = landing_root()
    seen: set[tuple[str, str]] = set()
    if DeltaTable.is_deltatable(uri):
        done = DeltaTable(uri).to_pyarrow_dataset().to_table(["_source_file", "_source_sha256"])
        seen = set(zip(*(done[c].to_pylist() for c in done.column_names), strict=True))
    batch, at = uuid.uuid4().hex, dt.datetime.now(dt.UTC)
    parts = []
    for path in sorted((root / LANDING_FOLDER).glob("*.csv")):
        name, content = path.relative_to(root).as_posix(), path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        if (name, digest) not in seen:
            parts.append(read_landing_file(content, name, digest, batch, at))
    rows = pa.concat_tables(parts) if parts else RAW_SCHEMA.empty_table()
    write_deltalake(uri, rows, mode="append")
    return MaterializeResult(metadata={"dagster/row_count": rows.num_rows})


# -- the other tables: the domains' SQL over their inputs ---------------------------------------

Compute = Callable[[duckdb.DuckDBPyConnection], duckdb.DuckDBPyRelation]


def curated_transactions(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """payments/curated/transactions: parseable raw records, typed here (no contract casts)."""
    return con.sql(
        """
        SELECT
            NULLIF(trim(transaction_id), '')               AS transaction_id,
            NULLIF(trim(account_id), '')                   AS account_id,
            TRY_CAST(trim(amount) AS DECIMAL(18, 2))       AS amount,
            NULLIF(trim(currency), '')                     AS currency,
            merchant,
            TRY_CAST(trim(created_at) AS TIMESTAMPTZ)      AS created_at,
            NULLIF(trim(status), '')                       AS status
        FROM raw
        WHERE _parse_error IS NULL
        ORDER BY _source_file, _line_number
        """
    )


SETTLED_PER_DAY = """
    CREATE OR REPLACE TEMP VIEW settled_per_day AS
    SELECT
        CAST(created_at AS DATE)                                            AS day,
        currency,
        count(*) FILTER (WHERE status = 'settled')                          AS settled_count,
        coalesce(sum(amount) FILTER (WHERE status = 'settled'), 0)          AS settled_amount,
        coalesce(sum(amount) FILTER (WHERE status = 'refunded'), 0)         AS refunded_amount
    FROM transactions
    GROUP BY ALL
"""


def settlements(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """payments/product/settlements: per day and currency, settled count and amount."""
    con.execute(SETTLED_PER_DAY)
    return con.sql(
        "SELECT day, currency, settled_count, settled_amount FROM settled_per_day "
        "ORDER BY day, currency"
    )


def settlements_v2(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """payments/product/settlements_v2: gross settled, refunded and net amounts."""
    con.execute(SETTLED_PER_DAY)
    return con.sql(
        "SELECT day, currency, settled_count, settled_amount AS gross_amount, refunded_amount, "
        "settled_amount - refunded_amount AS net_amount FROM settled_per_day "
        "ORDER BY day, currency"
    )


def account_risk(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """fraud/product/account_risk: per account, from the raw records."""
    return con.sql(
        """
        WITH attempts AS (
            SELECT
                NULLIF(trim(account_id), '')                  AS account_id,
                TRY_CAST(trim(amount) AS DECIMAL(18, 2))      AS amount,
                trim(status)                                  AS status,
                _parse_error IS NOT NULL
                    OR TRY_CAST(trim(amount) AS DECIMAL(18, 2)) IS NULL
                    OR TRY_CAST(trim(amount) AS DECIMAL(18, 2)) <= 0
                    OR TRY_CAST(trim(created_at) AS TIMESTAMPTZ) IS NULL AS invalid
            FROM payments_raw
        ),
        typical AS (
            SELECT account_id, median(amount) AS median_amount
            FROM attempts
            WHERE NOT invalid
            GROUP BY account_id
        ),
        per_account AS (
            SELECT
                a.account_id,
                count(*)                                          AS attempts,
                count(*) FILTER (WHERE a.invalid)                 AS invalid_attempts,
                count(*) FILTER (WHERE a.status = 'declined')     AS declines,
                count(*) FILTER (
                    WHERE NOT a.invalid AND a.amount > $factor * t.median_amount
                )                                                 AS unusual_amounts
            FROM attempts AS a
            LEFT JOIN typical AS t USING (account_id)
            WHERE a.account_id IS NOT NULL
            GROUP BY a.account_id
        )
        SELECT
            account_id,
            attempts,
            invalid_attempts,
            declines,
            unusual_amounts,
            round(
                0.4 * invalid_attempts / attempts
                + 0.3 * declines / attempts
                + 0.3 * least(unusual_amounts, 3) / 3,
                4
            ) AS risk_score
        FROM per_account
        ORDER BY account_id
        """,
        params={"factor": UNUSUAL_AMOUNT_FACTOR},
    )


def daily_revenue(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """finance/product/daily_revenue: per UTC day and currency, settled minus refunded."""
    return con.sql(
        """
        SELECT
            CAST(created_at AS DATE)                                        AS day,
            currency,
            coalesce(sum(amount) FILTER (WHERE status = 'settled'), 0)      AS settled_amount,
            coalesce(sum(amount) FILTER (WHERE status = 'refunded'), 0)     AS refunded_amount,
            coalesce(sum(amount) FILTER (WHERE status = 'settled'), 0)
              - coalesce(sum(amount) FILTER (WHERE status = 'refunded'), 0) AS net_revenue,
            count(*) FILTER (WHERE status IN ('settled', 'refunded'))       AS transactions
        FROM transactions
        GROUP BY ALL
        ORDER BY day, currency
        """
    )


def reconciliation(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """finance/product/reconciliation: finance's net revenue against payments' settlements."""
    return con.sql(
        """
        SELECT
            coalesce(r.day, s.day)                        AS day,
            coalesce(r.currency, s.currency)              AS currency,
            coalesce(r.net_revenue, 0)                    AS revenue,
            coalesce(s.net_amount, 0)                     AS settled_net,
            coalesce(r.net_revenue, 0) - coalesce(s.net_amount, 0) AS difference
        FROM revenue AS r
        FULL OUTER JOIN settled AS s USING (day, currency)
        ORDER BY day, currency
        """
    )


TABLES: dict[str, tuple[Compute, dict[str, tuple[str, list[str] | None]]]] = {
    "payments/curated/transactions": (
        curated_transactions,
        {"raw": ("payments/raw/transactions", None)},
    ),
    "payments/product/settlements": (
        settlements,
        {"transactions": ("payments/curated/transactions", None)},
    ),
    "payments/product/settlements_v2": (
        settlements_v2,
        {"transactions": ("payments/curated/transactions", None)},
    ),
    "fraud/product/account_risk": (
        account_risk,
        {
            "payments_raw": (
                "payments/raw/transactions",
                ["account_id", "amount", "status", "created_at", "_parse_error"],
            )
        },
    ),
    "finance/product/daily_revenue": (
        daily_revenue,
        {
            "transactions": (
                "payments/curated/transactions",
                ["amount", "currency", "created_at", "status"],
            )
        },
    ),
    "finance/product/reconciliation": (
        reconciliation,
        {
            "revenue": ("finance/product/daily_revenue", ["day", "currency", "net_revenue"]),
            "settled": ("payments/product/settlements_v2", ["day", "currency", "net_amount"]),
        },
    ),
}
"""Table -> (its computation, input view -> (table read, columns read or all))."""


def compute_table(table: str, read: Callable[[str], str] = lake_uri) -> pa.Table:
    """Compute ``table`` from its inputs (``read`` gives each input's location) as Arrow."""
    compute, inputs = TABLES[table]
    with duckdb.connect() as con:
        for view, (source, columns) in inputs.items():
            con.register(view, DeltaTable(read(source)).to_pyarrow_dataset().to_table(columns))
        return compute(con).to_arrow_table()


def table_asset(table: str) -> AssetsDefinition:
    """The plain asset writing ``table`` (``domain/layer/name``) from its inputs."""
    domain, layer, name = table.split("/")
    _, inputs = TABLES[table]

    @asset(
        key=[domain, layer, name],
        group_name=domain,
        kinds={"delta"},
        deps=sorted({AssetKey(source.split("/")) for source, _ in inputs.values()}),
    )
    def _write() -> MaterializeResult:
        rows = compute_table(table)
        write_deltalake(lake_uri(table), rows, mode="overwrite")
        return MaterializeResult(metadata={"dagster/row_count": rows.num_rows})

    return _write


ASSETS = [payments_raw_transactions, *(table_asset(t) for t in TABLES)]
defs = Definitions(assets=ASSETS)


def main() -> int:
    """Materialise every table in this process; print the rows written per table as JSON."""
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT / ".dagster")
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    result = materialize(
        ASSETS, instance=DagsterInstance.get(), run_config=QUIET, raise_on_error=False
    )
    rows = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        rows[materialization.asset_key.to_user_string()] = materialization.metadata[
            "dagster/row_count"
        ].value
    print(json.dumps({"success": result.success, "rows": rows}))
    return 0 if result.success and len(rows) == len(ASSETS) else 1


if __name__ == "__main__":
    sys.exit(main())
