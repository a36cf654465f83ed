"""Generate the demo landing files of the ``payments`` domain.

The files imitate what a card processor drops into the landing zone, one CSV file per day:
``transactions_2026-11-01.csv``, ``transactions_2026-11-02.csv``, ... with the header
``transaction_id,account_id,amount,currency,merchant,created_at,status``.

Most rows are clean, but the realism that ingestion has to cope with is there on purpose:
merchant names with commas, quotes, non-ASCII letters and line breaks (properly quoted), time
stamps with different offsets, late arrivals from the previous day, a handful of accounts with
unusually large amounts, and the second file written with CRLF line endings. About 4% of the
rows carry a deliberate defect (see ``DEFECT_KINDS``), placed deterministically: the same seed
always gives byte-identical files.

Run ``python data/generate_demo.py [--out DIR]`` to (re)write the committed demo files, or call
:func:`write_demo_landing` from tests. Only the standard library is used.
"""

import argparse
import csv
import io
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Final

HEADER: Final = (
    "transaction_id",
    "account_id",
    "amount",
    "currency",
    "merchant",
    "created_at",
    "status",
)
DEFAULT_SEED: Final = 20261125
DEFAULT_OUT: Final = Path(__file__).resolve().parent / "landing" / "payments" / "transactions"
FIRST_DAY: Final = date(2026, 11, 1)
FILE_PATTERN: Final = re.compile(r"transactions_\d{4}-\d{2}-\d{2}\.csv")
CRLF_FILE_INDEX: Final = 1  # the second file is written with Windows line endings
MIN_ROWS_PER_FILE: Final = 100
BASE_ROWS: Final = 1200  # the per-file counts below are for this many rows and scale with it

ACCOUNT_COUNT: Final = 300
UNUSUAL_ACCOUNT_COUNT: Final = 5  # accounts that now and then spend 4000-9000
CURRENCY_WEIGHTS: Final = {"EUR": 70, "SEK": 10, "USD": 7, "GBP": 5, "NOK": 4, "DKK": 4}
STATUS_WEIGHTS: Final = {"settled": 70, "authorized": 18, "declined": 7, "refunded": 5}
OFFSET_WEIGHTS: Final[dict[str, int]] = {"+01:00": 50, "Z": 25, "+02:00": 15, "-05:00": 10}
ZONES: Final[dict[str, tzinfo]] = {
    "+01:00": timezone(timedelta(hours=1)),
    "Z": UTC,
    "+02:00": timezone(timedelta(hours=2)),
    "-05:00": timezone(timedelta(hours=-5)),
}
MERCHANTS: Final = (
    "ICA Maxi",
    "Coop Konsum",
    "Lidl",
    "Aldi Süd",
    "Rewe",
    "Carrefour",
    "Tesco Express",
    "Sainsbury's",
    "Åhléns City",
    "Søstrene Grene",
    "Bäckerei Müller",
    "Café Nero",
    "Espresso House",
    "Starbucks",
    "Pressbyrån",
    "7-Eleven",
    "Shell",
    "Circle K",
    "SJ Biljetter",
    "Deutsche Bahn",
    "Uber",
    "Bolt",
    "Spotify",
    "Netflix",
    "Amazon Marketplace",
    "Zalando",
    "IKEA",
    "H&M",
    "Apotek Hjärtat",
    "Systembolaget",
    "Booking.com",
    "Ryanair",
    "Wolt",
    "Foodora",
    "Steam Games",
    "Apple Store",
)
QUOTED_MERCHANTS: Final = (  # need CSV quoting: commas and/or double quotes
    "Smith, Jones & Co",
    'Café "Le Petit" Nord',
    "Books, Coffee & More",
    'The "Corner" Shop, Ltd',
    '"Best Buy" Outlet',
)
UNQUOTED_COMMA_MERCHANTS: Final = ("Smith, Jones & Co", "Books, Coffee & More")
MULTILINE_MERCHANTS: Final = (  # the line break is written with the file's own line ending
    "Kiosk Centralen\nPlatform 3",
    "Hotel Bristol\nRoom Service",
    "Nordic Rail\nOnboard Bistro",
)
QUOTED_MERCHANT_SHARE: Final = 0.03
FOREIGN_CURRENCY_SHARE: Final = 0.08

# Slot kinds. A slot is one record of a file; every slot that is not "normal" is planned up front.
NORMAL: Final = "normal"
LARGE_AMOUNT: Final = "large_amount"
MULTILINE_MERCHANT: Final = "multiline_merchant"
LATE_ARRIVAL: Final = "late_arrival"
DUPLICATE: Final = "duplicate_transaction_id"
TOO_FEW_FIELDS: Final = "too_few_fields"
TOO_MANY_FIELDS: Final = "too_many_fields"
INVALID_UTF8: Final = "invalid_utf8"
NUL_BYTE: Final = "nul_byte"

# Realistic but valid rows, per BASE_ROWS rows of a file (at least one each).
FEATURES_PER_FILE: Final = {LARGE_AMOUNT: 3, MULTILINE_MERCHANT: 1, LATE_ARRIVAL: 4}
# Deliberate defects, per BASE_ROWS rows of a file (at least one each).
DEFECTS_PER_FILE: Final = {
    "missing_transaction_id": 5,
    DUPLICATE: 8,
    "missing_account_id": 5,
    "amount_zero": 3,
    "amount_negative": 4,
    "amount_non_numeric": 4,
    "unknown_currency": 5,
    "unknown_status": 5,
    "invalid_timestamp": 5,
    TOO_FEW_FIELDS: 2,
    TOO_MANY_FIELDS: 2,
}
# Exactly one line each in the whole set: NUL in the first file, invalid UTF-8 in the last.
DEFECT_KINDS: Final = (*DEFECTS_PER_FILE, INVALID_UTF8, NUL_BYTE)
MALFORMED_KINDS: Final = frozenset({TOO_FEW_FIELDS, TOO_MANY_FIELDS, INVALID_UTF8, NUL_BYTE})

BAD_AMOUNTS: Final = ("12,50", "abc")
BAD_CURRENCIES: Final = ("XXX", "eur")
BAD_STATUSES: Final = ("pending",)
BAD_TIMESTAMPS: Final = ("2026-13-45T99:00:00Z", "yesterday")

Row = tuple[str, ...]


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`write_demo_landing` wrote.

    ``records`` counts every record after the header lines (a quoted value spanning two lines is
    one record), malformed ones included. ``malformed`` counts the records a strict reader must
    reject: wrong number of fields, bytes that are not UTF-8, or a NUL byte.
    """

    files: list[Path]
    records: int
    malformed: int


def _scaled(count: int, rows_per_file: int) -> int:
    """Scale a per-``BASE_ROWS`` count to ``rows_per_file`` rows, keeping at least one."""
    return max(1, round(count * rows_per_file / BASE_ROWS))


def _encode(fields: Sequence[str], eol: str) -> bytes:
    """Encode one record with standard CSV quoting; lone surrogates become the raw bytes."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=eol).writerow(fields)
    return buffer.getvalue().encode("utf-8", errors="surrogateescape")


def _encode_unquoted(fields: Sequence[str], eol: str) -> bytes:
    """Encode one record without any quoting, the way a broken exporter would."""
    return (",".join(fields) + eol).encode("utf-8")


class _Generator:
    """Holds the random source and the state that runs across files (ids, earlier rows)."""

    def __init__(self, seed: int) -> None:
        """Set up accounts, their home currencies and the unusual accounts from ``seed``."""
        self.rng = random.Random(seed)
        self.accounts = [f"acc_{number:04d}" for number in range(1, ACCOUNT_COUNT + 1)]
        # Activity is skewed: a few accounts transact far more often than most.
        self.activity = [self.rng.lognormvariate(0, 0.8) for _ in self.accounts]
        currencies = list(CURRENCY_WEIGHTS)
        weights = list(CURRENCY_WEIGHTS.values())
        self.home_currency = {
            account: self.rng.choices(currencies, weights)[0] for account in self.accounts
        }
        self.unusual_accounts = self.rng.sample(self.accounts, UNUSUAL_ACCOUNT_COUNT)
        self.next_id = 1
        self.earlier_files_pool: list[Row] = []  # clean rows of earlier files, for re-sends
        self.uses: dict[str, int] = {}  # how often each kind was used, to cycle bad values
        self.records = 0
        self.malformed = 0

    def _cycle(self, kind: str, values: Sequence[str]) -> str:
        """Return the next of ``values`` for ``kind``, cycling through them across files."""
        used = self.uses.get(kind, 0)
        self.uses[kind] = used + 1
        return values[used % len(values)]

    def _timestamp(self, instant: datetime) -> str:
        """Render ``instant`` in a randomly chosen offset, as ISO-8601 with offset or ``Z``."""
        label = self.rng.choices(list(OFFSET_WEIGHTS), list(OFFSET_WEIGHTS.values()))[0]
        return instant.astimezone(ZONES[label]).strftime("%Y-%m-%dT%H:%M:%S") + label

    def _amount(self, large: bool) -> str:
        """Return an amount with two decimals: mostly 1-500, or 4000-9000 when ``large``."""
        if large:
            return f"{self.rng.uniform(4000, 9000):.2f}"
        return f"{min(500.0, max(1.0, self.rng.lognormvariate(3.4, 0.9))):.2f}"

    def _new_row(self, kind: str, instant: datetime, eol: str) -> Row:
        """Make a fresh transaction for a slot of ``kind`` (defect applied by the caller)."""
        transaction_id = f"tx_{self.next_id:06d}"
        self.next_id += 1
        if kind == LARGE_AMOUNT:
            account = self.rng.choice(self.unusual_accounts)
        else:
            account = self.rng.choices(self.accounts, self.activity)[0]
        currency = self.home_currency[account]
        if self.rng.random() < FOREIGN_CURRENCY_SHARE:
            currency = self.rng.choice(list(CURRENCY_WEIGHTS))
        if kind == MULTILINE_MERCHANT:
            merchant = self._cycle(kind, MULTILINE_MERCHANTS).replace("\n", eol)
        elif self.rng.random() < QUOTED_MERCHANT_SHARE:
            merchant = self.rng.choice(QUOTED_MERCHANTS)
        else:
            merchant = self.rng.choice(MERCHANTS)
        status = self.rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
        amount = self._amount(kind == LARGE_AMOUNT)
        created_at = self._timestamp(instant)
        return (transaction_id, account, amount, currency, merchant, created_at, status)

    def _plan(self, index: int, files: int, rows: int) -> list[str]:
        """Return the kind of every slot of file ``index``; the first 5% of slots stay normal."""
        special: list[str] = []
        for kind, count in (*FEATURES_PER_FILE.items(), *DEFECTS_PER_FILE.items()):
            special += [kind] * _scaled(count, rows)
        if index == 0:
            special += [MULTILINE_MERCHANT, NUL_BYTE]  # at least two multi-line values overall
        if index == files - 1:
            special.append(INVALID_UTF8)
        positions = self.rng.sample(range(rows // 20, rows), len(special))
        plan = [NORMAL] * rows
        for position, kind in zip(positions, special, strict=True):
            plan[position] = kind
        return plan

    def _resend(self, file_pool: list[Row]) -> Row:
        """Pick (and use up) a clean earlier row, alternating between earlier files and this one."""
        from_earlier = self._cycle(DUPLICATE, ("earlier", "same")) == "earlier"
        pool = self.earlier_files_pool if from_earlier and self.earlier_files_pool else file_pool
        return pool.pop(self.rng.randrange(len(pool)))

    def file_bytes(self, index: int, files: int, rows: int) -> bytes:
        """Return the complete content of file ``index`` (header plus ``rows`` records)."""
        eol = "\r\n" if index == CRLF_FILE_INDEX else "\n"
        day = FIRST_DAY + timedelta(days=index)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        plan = self._plan(index, files, rows)
        # Busy in the afternoon, quiet at night; sorted so the file reads in time order.
        seconds = sorted(int(self.rng.triangular(0, 86_400, 14 * 3_600)) for _ in range(rows))
        file_pool: list[Row] = []
        lines = [_encode(HEADER, eol)]
        for kind, second in zip(plan, seconds, strict=True):
            self.records += 1
            if kind in MALFORMED_KINDS:
                self.malformed += 1
            if kind == DUPLICATE:
                lines.append(_encode(self._resend(file_pool), eol))
                continue
            instant = start + timedelta(seconds=second)
            if kind == LATE_ARRIVAL:  # yesterday evening's transaction, delivered today
                instant = start - timedelta(seconds=self.rng.randint(3_600, 6 * 3_600))
            row = list(self._new_row(kind, instant, eol))
            match kind:
                case "missing_transaction_id":
                    row[0] = ""
                case "missing_account_id":
                    row[1] = ""
                case "amount_zero":
                    row[2] = "0.00"
                case "amount_negative":
                    row[2] = "-" + row[2]
                case "amount_non_numeric":
                    row[2] = self._cycle(kind, BAD_AMOUNTS)
                case "unknown_currency":
                    row[3] = self._cycle(kind, BAD_CURRENCIES)
                case "unknown_status":
                    row[6] = self._cycle(kind, BAD_STATUSES)
                case "invalid_timestamp":
                    row[5] = self._cycle(kind, BAD_TIMESTAMPS)
                case "invalid_utf8":
                    row[4] = "Kiosk \udcff\udcfe Nord"  # written as the bytes FF FE
                case "nul_byte":
                    row[4] = "Pressbyrån\x00 Centralen"
            if kind == TOO_FEW_FIELDS:  # truncated after the merchant
                lines.append(_encode(row[:5], eol))
            elif kind == TOO_MANY_FIELDS:  # a comma in the merchant, not quoted: one field more
                row[4] = self._cycle(kind, UNQUOTED_COMMA_MERCHANTS)
                lines.append(_encode_unquoted(row, eol))
            else:
                lines.append(_encode(row, eol))
            if kind == NORMAL:
                file_pool.append(tuple(row))
        self.earlier_files_pool += file_pool
        return b"".join(lines)


def write_demo_landing(
    out_dir: Path,
    *,
    files: int = 3,
    rows_per_file: int = BASE_ROWS,
    seed: int = DEFAULT_SEED,
) -> DemoSummary:
    """(Re)write the demo landing files into ``out_dir`` and return what was written.

    Writes ``files`` daily files starting at 2026-11-01 with ``rows_per_file`` records each
    (re-sent duplicates included). Earlier ``transactions_YYYY-MM-DD.csv`` files in ``out_dir``
    that this call does not rewrite are removed, so the folder holds exactly one demo set.
    """
    if files < 1:
        raise ValueError(f"files must be at least 1, got {files}")
    if rows_per_file < MIN_ROWS_PER_FILE:
        raise ValueError(f"rows_per_file must be at least {MIN_ROWS_PER_FILE}, got {rows_per_file}")
    out_dir.mkdir(parents=True, exist_ok=True)
    generator = _Generator(seed)
    written: list[Path] = []
    for index in range(files):
        day = FIRST_DAY + timedelta(days=index)
        path = out_dir / f"transactions_{day.isoformat()}.csv"
        path.write_bytes(generator.file_bytes(index, files, rows_per_file))
        written.append(path)
    for stale in sorted(out_dir.glob("transactions_*.csv")):
        if FILE_PATTERN.fullmatch(stale.name) and stale not in written:
            stale.unlink()
    return DemoSummary(files=written, records=generator.records, malformed=generator.malformed)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: write the demo files and print a one-line summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=DEFAULT_OUT,
        help="folder to write into (default: data/landing/payments/transactions next to this file)",
    )
    args = parser.parse_args(argv)
    summary = write_demo_landing(args.out)
    print(
        f"wrote {len(summary.files)} files to {args.out}: "
        f"{summary.records} records, {summary.malformed} malformed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
