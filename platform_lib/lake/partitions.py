"""Daily partitions, the mesh's one partitioning convention.

A partitioned table is declared with ``@table(..., partition=daily("booking_date", start=...))``.
Its partition column is a ``date`` or a UTC ``timestamp_tz`` column of the contract, required.
Materialising the partition of one day (a Dagster partition key ``YYYY-MM-DD``):

- replaces exactly that day's rows, in one Delta commit (``replaceWhere``); other days are
  untouched. A ``date`` column also partitions the files (``partitionBy``); a timestamp column
  does not (one folder per instant would be absurd), its day is a range predicate;
- checks the batch written: a row of another day breaks the rule ``partition_day`` and is
  quarantined (it would otherwise overwrite or leak into another partition);
- keeps uniqueness a table-wide promise: the values of every ``unique`` column already published
  in the *other* days are read (that column only) and a row repeating one breaks the unique rule;
- replaces that day's quarantine rows (column ``partition_key``), so a re-run after a fix leaves
  only the rows that still fail.

Table-level counts (``rowCount``, metric thresholds, SQL rules) judge the batch written: the day.
"""

import datetime as dt
from dataclasses import dataclass

import pyarrow.compute as pc

from platform_lib.contracts.rules import Range, Severity
from platform_lib.errors import MeshError
from platform_lib.sql import quote_identifier

PARTITION_RULE = "partition_day"
"""The row-level rule a row of another day breaks."""
PARTITION_KEY_COLUMN = "partition_key"
"""The quarantine column naming the day a rejected row was written for."""
PARTITION_TYPES = ("date", "timestamp_tz")
RANGE_SEPARATOR = ".."


@dataclass(frozen=True)
class DailyPartition:
    """A table partitioned by the UTC day of ``column``, from ``start`` on."""

    column: str
    start: dt.date

    def day(self, partition_key: str) -> dt.date:
        """The day a partition key (``YYYY-MM-DD``) names."""
        return parse_day(partition_key, "partition key")

    def rule(self, day: dt.date, type_name: str) -> Range:
        """The row-level rule keeping a batch inside ``day``."""
        low, high = _bounds(day, type_name)
        return Range(
            id=PARTITION_RULE,
            description=f"{self.column} falls on the partition's day, {day.isoformat()} (UTC).",
            severity=Severity.WARNING,
            column=self.column,
            at_least=low,
            less_than=high,
        )

    def predicate(self, day: dt.date, type_name: str) -> str:
        """The Delta predicate selecting the rows of ``day`` (only ISO literals are formatted)."""
        column = quote_identifier(self.column)
        if type_name == "date":
            return f"{column} = '{day.isoformat()}'"
        low, high = _bounds(day, type_name)
        assert isinstance(low, dt.datetime) and isinstance(high, dt.datetime)
        return (
            f"{column} >= '{low.isoformat().replace('+00:00', 'Z')}' AND "
            f"{column} < '{high.isoformat().replace('+00:00', 'Z')}'"
        )

    def outside(self, day: dt.date, type_name: str) -> pc.Expression:
        """A dataset filter keeping the rows of every other day (for uniqueness across days)."""
        low, high = _bounds(day, type_name)
        column = pc.field(self.column)
        return (column < pc.scalar(low)) | (column >= pc.scalar(high))

    def physical_columns(self, type_name: str) -> tuple[str, ...]:
        """The Delta ``partitionBy`` columns: the column itself when it is a date, else none."""
        return (self.column,) if type_name == "date" else ()


@dataclass(frozen=True)
class PartitionWrite:
    """The day of a partitioned table one publish replaces."""

    partition: DailyPartition
    day: dt.date
    type_name: str
    """The contract type of the partition column: ``date`` or ``timestamp_tz``."""

    @property
    def key(self) -> str:
        """The partition key, ``YYYY-MM-DD``."""
        return self.day.isoformat()

    @property
    def predicate(self) -> str:
        """The Delta predicate of the day's rows."""
        return self.partition.predicate(self.day, self.type_name)

    @property
    def rule(self) -> Range:
        """The row-level rule keeping the batch inside the day."""
        return self.partition.rule(self.day, self.type_name)

    @property
    def physical_columns(self) -> tuple[str, ...]:
        """The table's Delta ``partitionBy`` columns."""
        return self.partition.physical_columns(self.type_name)

    @property
    def own_files(self) -> tuple[str, object] | None:
        """``(column, day)`` when the day is a Delta partition of its own (a date column)."""
        return (self.partition.column, self.day) if self.type_name == "date" else None

    @property
    def other_days(self) -> pc.Expression:
        """A dataset filter keeping the rows of every other day."""
        return self.partition.outside(self.day, self.type_name)


def daily(column: str, *, start: str | dt.date) -> DailyPartition:
    """Declare a table partitioned by the UTC day of ``column`` (a date or timestamp_tz column).

    Args:
        column: The contract column holding each row's day or instant; it must be required.
        start: The first day with data (``YYYY-MM-DD``); Dagster offers partitions from there.

    Example:
        >>> @table(Layer.CURATED, partition=daily("booking_date", start="2026-01-01"))
        ... def bookings(partition_date: dt.date, raw: pa.Table) -> pa.Table: ...
    """
    first = start if isinstance(start, dt.date) else parse_day(start, "partition start")
    return DailyPartition(column=column, start=first)


def parse_day(text: str, what: str) -> dt.date:
    """``text`` as an ISO day, or a MeshError naming ``what`` and the expected form."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise MeshError(
            f"{what} {text!r} is not a day",
            fix="write days as YYYY-MM-DD, e.g. 2026-03-01",
        ) from None


def days_in(text: str) -> list[str]:
    """The partition keys of ``FIRST..LAST`` (both included), or of the single day ``text``."""
    first, separator, last = text.partition(RANGE_SEPARATOR)
    start = parse_day(first, "partition range start")
    end = parse_day(last, "partition range end") if separator else start
    if end < start:
        raise MeshError(
            f"partition range {text!r} ends before it starts",
            fix="write the range as FIRST..LAST with FIRST <= LAST",
        )
    return [(start + dt.timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def _bounds(day: dt.date, type_name: str) -> tuple[dt.date | dt.datetime, dt.date | dt.datetime]:
    if type_name == "date":
        return day, day + dt.timedelta(days=1)
    low = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return low, low + dt.timedelta(days=1)
