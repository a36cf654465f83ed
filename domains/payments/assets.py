"""Payments: card transactions from the landing zone, curated into a clean, typed table.

The contracts in ``contracts/payments/`` say what a valid transaction is; this module only says
where the rows come from. Values arrive as text and the platform casts them to the contract's
types: an amount or a timestamp that does not cast is quarantined with its rule, not lost.
"""

from duckdb import DuckDBPyConnection, DuckDBPyRelation

from platform_lib import CsvSource, Layer, reads, table

transactions_landing = CsvSource(
    table="transactions",
    folder="payments/transactions",
    columns=(
        "transaction_id",
        "account_id",
        "amount",
        "currency",
        "merchant",
        "created_at",
        "status",
    ),
)


@table(Layer.CURATED, reads={"raw": reads("payments/raw/transactions")})
def transactions(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
    """Parseable raw records in arrival order, so the first of duplicates to arrive wins.

    A file landing later never displaces a published transaction, whatever its name. Records that
    could not be parsed stay in the raw table only; lineage columns (``_...``) follow each row into
    the quarantine.
    """
    return duckdb.sql(
        """
        SELECT
            NULLIF(trim(transaction_id), '') AS transaction_id,
            NULLIF(trim(account_id), '')     AS account_id,
            trim(amount)                     AS amount,
            NULLIF(trim(currency), '')       AS currency,
            merchant,
            trim(created_at)                 AS created_at,
            NULLIF(trim(status), '')         AS status,
            _source_file,
            _line_number,
            _raw_record,
            _arrival_seq
        FROM raw
        WHERE _parse_error IS NULL
        ORDER BY _arrival_seq
        """
    )


_SETTLED_PER_DAY = """
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


@table(
    Layer.PRODUCT,
    reads={"transactions": reads("payments/curated/transactions", major=1)},
)
def settlements(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
    """Major 1, deprecated: per day and currency, settled count and amount."""
    duckdb.execute(_SETTLED_PER_DAY)
    return duckdb.sql(
        "SELECT day, currency, settled_count, settled_amount FROM settled_per_day "
        "ORDER BY day, currency"
    )


@table(
    Layer.PRODUCT,
    reads={"transactions": reads("payments/curated/transactions", major=1)},
)
def settlements_v2(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
    """Major 2: per day and currency, gross settled, refunded and net amounts."""
    duckdb.execute(_SETTLED_PER_DAY)
    return duckdb.sql(
        "SELECT day, currency, settled_count, settled_amount AS gross_amount, refunded_amount, "
        "settled_amount - refunded_amount AS net_amount FROM settled_per_day "
        "ORDER BY day, currency"
    )
