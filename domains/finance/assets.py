"""Finance: revenue per day and currency from the curated (valid) payments."""

from duckdb import DuckDBPyConnection, DuckDBPyRelation

from platform_lib import Layer, reads, table


@table(
    Layer.PRODUCT,
    reads={
        "transactions": reads(
            "payments/curated/transactions", columns=["amount", "currency", "created_at", "status"]
        )
    },
)
def daily_revenue(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
    """Per UTC day and currency: settled amount, refunded amount and net revenue."""
    return duckdb.sql(
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
