"""How a typed value (not text) is cast to its column's contract type: exactly, or not at all.

DuckDB alone rounds ``1.5`` into an integer, ``1.005`` into a ``decimal(18,2)``, reads a naive
timestamp as UTC and drops sub-microseconds. The engine casts a typed value only when nothing is
lost or invented, the rule text already follows:

- **kinds**: numbers (integers, floats, decimals) cast to numbers, booleans to booleans, dates
  and timestamps to dates and timestamps; any value casts to ``string`` (its text);
- **zones**: a ``timestamp_tz`` takes only zoned timestamps (a naive timestamp or a date is
  ambiguous, as text without an offset is); a zoned timestamp goes into no naive ``timestamp``
  or ``date`` (its offset would be dropped, as text with an offset is refused);
- **exactness**: the cast value, cast back to the input's type, is the input again: a float into
  an integer only when integral and in range, an integer into ``int32`` or ``float64`` only
  when it fits exactly, a decimal (or a float) into ``decimal(p,s)`` only with at most ``s``
  decimals and within ``p`` digits, a timestamp into a ``date`` only at midnight, nanoseconds
  into microseconds only when whole.

A value that does not cast is null in the typed column and breaks the column's type rule.
"""

import re

_NUMBER = re.compile(
    r"^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\(\d+,\s*\d+\))$"
)
_NAIVE_TIME = re.compile(r"^(DATE|TIMESTAMP(_S|_MS|_NS)?)$")
_ZONED_TIME = re.compile(r"^(TIMESTAMP WITH TIME ZONE|TIMESTAMPTZ(_NS)?)$")
TEXT_TYPE = "VARCHAR"
"""The DuckDB type of text inputs, which the text rules cast."""
_SYNONYMS = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ"}
"""Names ``DESCRIBE`` gives to types the contract names otherwise."""


def value_kind(duckdb_type: str) -> str:
    """What kind of value a DuckDB type holds: ``number``, ``boolean``, ``naive time``,
    ``zoned time``, ``text`` or ``other`` (lists, structs, intervals, blobs...)."""
    name = duckdb_type.upper()
    if name == TEXT_TYPE:
        return "text"
    if name == "BOOLEAN":
        return "boolean"
    if _NUMBER.match(name):
        return "number"
    if _NAIVE_TIME.match(name):
        return "naive time"
    if _ZONED_TIME.match(name):
        return "zoned time"
    return "other"


def typed_cast_expression(source: str, source_type: str, target_type: str) -> str:
    """SQL casting the typed column ``source`` (of DuckDB type ``source_type``, not text) to
    ``target_type``, null where the cast is not exact (see the module's rules).

    Args:
        source: The quoted column.
        source_type: Its DuckDB type, as ``DESCRIBE`` names it.
        target_type: The contract type's DuckDB type.

    Example:
        >>> typed_cast_expression('"n"', "DOUBLE", "BIGINT")  # 1.5 is null, 2.0 is 2
        'CASE WHEN TRY_CAST(TRY_CAST("n" AS BIGINT) AS DOUBLE) = "n" THEN TRY_CAST(...) END'
    """
    if _SYNONYMS.get(source_type, source_type) == target_type:
        return source
    if target_type == TEXT_TYPE:
        return f"TRY_CAST({source} AS {TEXT_TYPE})"
    if value_kind(source_type) != value_kind(target_type):
        return f"CAST(NULL AS {target_type})"
    cast = f"TRY_CAST({source} AS {target_type})"
    return f"CASE WHEN TRY_CAST({cast} AS {source_type}) = {source} THEN {cast} END"
