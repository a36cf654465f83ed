"""Payments: card transactions from the landing zone, curated into a clean, typed table."""

from duckdb import DuckDBPyConnection, DuckDBPyRelation

from platform_lib import (
    AcceptedValues,
    CsvSource,
    Layer,
    NotNull,
    Range,
    RowCount,
    Unique,
    reads,
    table,
)

CURRENCIES = ("EUR", "SEK", "USD", "GBP", "NOK", "DKK")
STATUSES = ("authorized", "settled", "declined", "refunded")

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
    description="Every card transaction record as the acquirer delivered it, malformed included.",
)

# An ISO-8601 timestamp with an explicit offset; one without is ambiguous, so invalid.
# DuckDB's TIMESTAMPTZ is UTC here (the ICU extension is not bundled), so offsets are honoured.
_TIMESTAMP_WITH_OFFSET = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$"
)


@table(
    Layer.CURATED,
    reads={"raw": reads("payments/raw/transactions")},
    rules=[
        NotNull(id="transaction_id_present", column="transaction_id"),
        Unique(id="transaction_id_unique", column="transaction_id"),
        NotNull(id="account_id_present", column="account_id"),
        NotNull(id="amount_present", column="amount", description="amount is a decimal number"),
        Range(id="amount_positive", column="amount", greater_than=0),
        AcceptedValues(id="currency_known", column="currency", values=CURRENCIES),
        NotNull(id="currency_present", column="currency"),
        AcceptedValues(id="status_known", column="status", values=STATUSES),
        NotNull(id="status_present", column="status"),
        NotNull(
            id="created_at_valid",
            column="created_at",
            description="created_at is an ISO-8601 timestamp with an offset",
        ),
        RowCount(id="has_rows", minimum=1),
    ],
)
def transactions(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
    """Typed card transactions, one row per transaction id, timestamps in UTC.

    Duplicates keep the first occurrence by file name, then line; every other row breaking a rule
    is quarantined with its original raw record.
    """
    return duckdb.sql(
        """
        SELECT
            NULLIF(trim(transaction_id), '')                   AS transaction_id,
            NULLIF(trim(account_id), '')                       AS account_id,
            TRY_CAST(trim(amount) AS DECIMAL(18, 2))           AS amount,
            NULLIF(trim(currency), '')                         AS currency,
            merchant,
            CASE WHEN regexp_matches(trim(created_at), $timestamp_pattern)
                 THEN TRY_CAST(trim(created_at) AS TIMESTAMPTZ) END AS created_at,
            NULLIF(trim(status), '')                           AS status,
            _source_file,
            _line_number,
            _raw_record,
            _parse_error
        FROM raw
        ORDER BY _source_file, _line_number
        """,
        params={"timestamp_pattern": _TIMESTAMP_WITH_OFFSET},
    )
