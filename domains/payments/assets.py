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
    """Parseable raw records in file order (file name, then line), so the first of duplicates wins.

    Records that could not be parsed stay in the raw table only; lineage columns (``_...``) follow
    each row into the quarantine.
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
            _raw_record
        FROM raw
        WHERE _parse_error IS NULL
        ORDER BY _source_file, _line_number
        """
    )
