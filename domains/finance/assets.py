"""Finance: revenue per day and currency from the curated (valid) payments."""

from duckdb import DuckDBPyConnection, DuckDBPyRelation

from platform_lib import Layer, reads, table


@table(
    Layer.PRODUCT,
    reads={
        "transactions": reads(
            "payments/curated/transactions",
            major=1,
            columns=["amount", "currency", "created_at", "status"],
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


@table(
    Layer.PRODUCT,
    reads={
        "revenue": reads(
            "finance/product/daily_revenue", columns=["day", "currency", "net_revenue"]
        ),
        "settled": reads(
            "payments/product/settlements",
            major=2,
            columns={"day": "date", "currency": "string", "net_amount": "decimal(18,2)"},
        ),
    },
)
def reconciliation(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
    """Per day and currency, finance's net revenue against payments' net settlements."""
    return duckdb.sql(
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
