"""Deterministic card-transaction tables for the benchmarks, written once as Delta tables.

``make_transactions(rows, seed, bad_share)`` builds an ``rows`` x 8 Arrow table from seeded
uniform draws (``pyarrow.compute.random``) shaped with polars expressions; numpy is not needed.
``ensure_delta(rows, ...)`` writes it under ``benchmarks/results/data/<rows>`` (or
``<rows>-bad<share>``) and reuses the table when its manifest records the same parameters.

A share of bad rows can be injected, spread evenly over six kinds of defect, each breaking one
rule of ``contract.odcs.yaml``: a null ``account_id``, a ``transaction_id`` repeating the previous
row's, an unknown currency, an unknown status, a negative amount and a malformed country code.

Run it to (re)build a table: ``python benchmarks/data.py --rows 1000000 --bad-share 0.01``.
"""

import argparse
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import deltalake
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

RESULTS = Path(__file__).resolve().parent / "results"
DATA_ROOT = RESULTS / "data"
MANIFEST = "benchmark-manifest.json"
GENERATOR_VERSION = 1
"""Bump when the generated values change, so stored tables are rebuilt."""
DEFAULT_SEED = 20261125

CURRENCIES = ("EUR", "SEK", "USD", "GBP", "NOK", "DKK")
STATUSES = ("settled", "authorized", "declined", "refunded")
STATUS_WEIGHTS = (0.70, 0.20, 0.07, 0.03)
COUNTRIES = (
    "SE", "NO", "DK", "FI", "DE", "FR", "GB", "NL", "ES", "IT",
    "PL", "US", "IE", "BE", "AT", "CH", "PT", "IS", "EE", "LT",
)  # fmt: skip
ACCOUNTS = 1_000_000
MERCHANTS = 50_000
MERCHANT_NULL_SHARE = 0.01
"""Share of rows without a merchant in clean data (the contract tolerates up to 5%)."""
MAX_CENTS = 500_000
"""Amounts are log-uniform between 0.01 and 5,000.00."""
START_US = 1_735_689_600_000_000
"""2025-01-01T00:00:00Z in microseconds; timestamps span 2025, so none is in the future."""
YEAR_US = 365 * 86_400 * 1_000_000

DEFECTS = (
    "null_account",
    "duplicate_id",
    "unknown_currency",
    "unknown_status",
    "negative_amount",
    "bad_country",
)
"""The kinds of bad row, in the order they are assigned."""
BAD_CURRENCY = "XXX"
BAD_STATUS = "unknown"
BAD_COUNTRY = "x1"

SCHEMA = pa.schema(
    [
        pa.field("transaction_id", pa.string()),
        pa.field("account_id", pa.string()),
        pa.field("amount", pa.decimal128(18, 2)),
        pa.field("currency", pa.string()),
        pa.field("merchant", pa.string()),
        pa.field("created_at", pa.timestamp("us", tz="UTC")),
        pa.field("status", pa.string()),
        pa.field("country", pa.string()),
    ]
)


@dataclass(frozen=True)
class DataSpec:
    """What identifies a generated table: stored next to it and compared before reuse."""

    rows: int
    seed: int
    bad_share: float
    generator_version: int = GENERATOR_VERSION


def _uniform(rows: int, seed: int, stream: int) -> pl.Series:
    """``rows`` seeded uniform draws in [0, 1); each ``stream`` is an independent sequence."""
    return pl.Series(f"u{stream}", pc.random(rows, initializer=seed * 100 + stream))


def _pick(values: tuple[str, ...], draw: pl.Expr) -> pl.Expr:
    """One of ``values`` per row, uniformly by ``draw`` in [0, 1)."""
    index = (draw * len(values)).floor().cast(pl.UInt32)
    return pl.lit(pl.Series(values, dtype=pl.String)).gather(index)


def _weighted(values: tuple[str, ...], weights: tuple[float, ...], draw: pl.Expr) -> pl.Expr:
    """One of ``values`` per row, with the given probabilities, by ``draw`` in [0, 1)."""
    bounds = [sum(weights[: i + 1]) for i in range(len(weights) - 1)]
    expression: pl.Expr = pl.lit(values[-1])
    for value, bound in zip(values[-2::-1], bounds[::-1], strict=True):
        expression = pl.when(draw < bound).then(pl.lit(value)).otherwise(expression)
    return expression


def make_transactions(rows: int, *, seed: int = DEFAULT_SEED, bad_share: float = 0.0) -> pa.Table:
    """A deterministic table of ``rows`` card transactions, ``bad_share`` of them defective.

    Args:
        rows: Number of rows.
        seed: Seed of every random draw; the same seed gives the same table.
        bad_share: Share of rows (0-1) given one defect each, cycling through ``DEFECTS``.

    Returns:
        A table with ``SCHEMA`` (strings as ``string``, amount as ``decimal(18,2)``).
    """
    draws = pl.DataFrame([_uniform(rows, seed, stream) for stream in range(9)])
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    is_bad = pl.col("u8") < bad_share
    # A bad row's defect kind: spread evenly by the bad draw itself (u8 is uniform below bad_share).
    defect = (
        (pl.col("u8") / max(bad_share, 1e-12) * len(DEFECTS))
        .clip(0, len(DEFECTS) - 1)
        .floor()
        .cast(pl.Int32)
    )

    def broken(kind: str) -> pl.Expr:
        return is_bad & (defect == DEFECTS.index(kind))

    def padded(number: pl.Expr, width: int) -> pl.Expr:
        return number.cast(pl.String).str.zfill(width)

    cents = (pl.col("u1") * pl.lit(MAX_CENTS).log()).exp().floor().cast(pl.Int64).clip(1, MAX_CENTS)
    amount = (cents.cast(pl.Decimal(18, 2)) / 100).cast(pl.Decimal(18, 2))
    account = (pl.col("u0") * ACCOUNTS).floor().cast(pl.Int64)
    merchant = (pl.col("u3") * MERCHANTS).floor().cast(pl.Int64)
    created = (pl.col("u4") * YEAR_US).floor().cast(pl.Int64) + START_US

    frame = draws.select(
        pl.format(
            "tx_{}",
            padded(pl.when(broken("duplicate_id")).then((row - 1).clip(0)).otherwise(row), 10),
        ).alias("transaction_id"),
        pl.when(broken("null_account"))
        .then(pl.lit(None, pl.String))
        .otherwise(pl.format("acc_{}", padded(account, 7)))
        .alias("account_id"),
        pl.when(broken("negative_amount")).then(-amount).otherwise(amount).alias("amount"),
        pl.when(broken("unknown_currency"))
        .then(pl.lit(BAD_CURRENCY))
        .otherwise(_pick(CURRENCIES, pl.col("u2")))
        .alias("currency"),
        pl.when(pl.col("u5") < MERCHANT_NULL_SHARE)
        .then(pl.lit(None, pl.String))
        .otherwise(pl.format("merchant_{}", padded(merchant, 5)))
        .alias("merchant"),
        created.cast(pl.Datetime("us", time_zone="UTC")).alias("created_at"),
        pl.when(broken("unknown_status"))
        .then(pl.lit(BAD_STATUS))
        .otherwise(_weighted(STATUSES, STATUS_WEIGHTS, pl.col("u6")))
        .alias("status"),
        pl.when(broken("bad_country"))
        .then(pl.lit(BAD_COUNTRY))
        .otherwise(_pick(COUNTRIES, pl.col("u7")))
        .alias("country"),
    )
    return frame.to_arrow().cast(SCHEMA)


def table_path(rows: int, bad_share: float = 0.0) -> Path:
    """Where the table of ``rows`` rows (with ``bad_share`` bad rows) is stored."""
    name = str(rows) if bad_share == 0 else f"{rows}-bad{bad_share:g}"
    return DATA_ROOT / name


def ensure_delta(rows: int, *, seed: int = DEFAULT_SEED, bad_share: float = 0.0) -> Path:
    """The Delta table for these parameters, generated and written only when not already stored.

    Args:
        rows: Number of rows.
        seed: Seed of the generator.
        bad_share: Share of defective rows (0-1).

    Returns:
        The table's folder (``benchmarks/results/data/<rows>`` or ``<rows>-bad<share>``).
    """
    path = table_path(rows, bad_share)
    spec = DataSpec(rows=rows, seed=seed, bad_share=bad_share)
    manifest = path / MANIFEST
    if manifest.exists() and json.loads(manifest.read_text()) == asdict(spec):
        return path
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    table = make_transactions(rows, seed=seed, bad_share=bad_share)
    deltalake.write_deltalake(str(path), table, mode="overwrite")
    manifest.write_text(json.dumps(asdict(spec), indent=2) + "\n")
    return path


def add_table_arguments(parser: argparse.ArgumentParser, *, rows: int) -> None:
    """The generated table's options: ``--rows`` (default ``rows``) and ``--seed``."""
    parser.add_argument("--rows", type=int, default=rows, help="rows of the table")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of its values")


def main() -> None:
    """Build (or confirm) one benchmark table and print where it is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_table_arguments(parser, rows=1_000_000)
    parser.add_argument("--bad-share", type=float, default=0.0)
    args = parser.parse_args()
    print(ensure_delta(args.rows, seed=args.seed, bad_share=args.bad_share))


if __name__ == "__main__":
    main()
