"""Fraud: account risk from the raw payments, including the records payments rejected.

A malformed or invalid transaction is noise to finance but signal here, so this domain reads the
platform's raw layer rather than the curated table.
"""

from duckdb import DuckDBPyConnection, DuckDBPyRelation

from platform_lib import Layer, reads, table

UNUSUAL_AMOUNT_FACTOR = 5
"""An amount is unusual when it exceeds this many times the account's median amount."""


@table(
    Layer.PRODUCT,
    reads={
        "payments_raw": reads(
            "payments/raw/transactions",
            columns=["account_id", "amount", "status", "created_at", "_parse_error"],
        )
    },
)
def account_risk(duckdb: DuckDBPyConnection) -> DuckDBPyRelation:
    """Per account: attempts, invalid attempts, declines, unusual amounts and a 0-1 risk score.

    The score weighs the share of invalid attempts (40%), the share of declines (30%) and unusual
    amounts (30%, saturating at three). Records whose account cannot be read are not attributed.
    """
    return duckdb.sql(
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
