"""A plain-Python validation engine: what ``validate_batch`` must give, written from its docs.

No DuckDB, no polars, no Arrow compute: loops over ``to_pylist()``. It implements the semantics
``platform_lib/quality/engine.py`` documents, for the rules the fuzz tests generate:

- **casting** (text to the contract type, after trimming spaces; empty text is null): integers are
  ``[+-]digits`` within the type's range; decimals a number with at most the scale's digits after
  the point (then only zeros) and within the precision; floats a decimal number with an optional
  exponent, ``nan`` or ``inf``/``infinity``; booleans ``true/t/yes/y/1`` and ``false/f/no/n/0`` in
  any case; dates ``YYYY-MM-DD``; naive timestamps a date with an optional ``[T ]HH:MM[:SS[.f]]``
  (at most six digits of ``f``, then only zeros); ``timestamp_tz`` the same with its offset (``Z``,
  ``+HH``, ``+HHMM``, ``+HH:MM``, under 24 hours), stored in UTC. Typed values of the contract type
  are taken as they are; a typed value of another type casts only exactly (:func:`cast_typed`):
  within its kind (numbers, booleans, naive dates and timestamps, zoned timestamps), and only when
  casting it back gives it again (no rounding, no overflow, a timestamp into a date only at
  midnight).
- **type**: a value given (non-empty after trimming) that does not cast breaks ``<col>_type``;
- **not null** (with missing values, compared as text); **unique**: a non-null value repeating
  an earlier row's (in batch order, every row counted, -0.0 equal to 0.0, NaN equal to NaN) or
  one of the values published elsewhere (``taken``);
- **accepted values** and **patterns**: the value as text in the set, or fully matching;
- **lengths**: a string's characters (code points) within ``minLength`` and ``maxLength``;
- **ranges**: numbers compared as floats, NaN above every number; dates with ISO date bounds;
- **metrics** count over every row, with their counts (or shares of all rows in percent);
  ``rowCount`` judges the valid rows; the quarantine threshold the share of rejected rows.
"""

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

import pyarrow as pa

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.rules import (
    AcceptedValues,
    Length,
    MetricThreshold,
    NotNull,
    Pattern,
    Range,
    RowCount,
    SqlCheck,
    TypeConforms,
    Unique,
)
from platform_lib.contracts.types import parse_column_type

_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLOAT = re.compile(
    r"[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|nan|inf|infinity)", re.ASCII | re.I
)
_DATE = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
_TIME = r"([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6})0*)?)?"
_DATE_ONLY = re.compile(_DATE, re.ASCII)
_NAIVE = re.compile(rf"{_DATE}(?:[T ]{_TIME})?", re.ASCII)
_AWARE = re.compile(rf"{_DATE}[T ]{_TIME}(Z|[+-][0-9]{{2}}(?::?[0-9]{{2}})?)", re.ASCII)
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_INT_RANGES = {"int32": 2**31, "int64": 2**63}


def _datetime(groups: tuple[str | None, ...]) -> dt.datetime | None:
    year, month, day, hour, minute, second, fraction = groups[:7]
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return dt.datetime(
            int(year or 0),
            int(month or 0),
            int(day or 0),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micros,
        )
    except ValueError:
        return None


def _offset(text: str) -> dt.timedelta | None:
    """The UTC offset ``text`` states, or None when it is no offset (24 hours or more, or 60
    minutes or more)."""
    if text == "Z":
        return dt.timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        return None
    return sign * dt.timedelta(hours=hours, minutes=minutes)


def cast_text(text: str, type_name: str) -> Any:
    """``text`` cast to ``type_name`` as the engine casts it, or None where it does not cast."""
    value = text.strip(" ")
    if type_name == "string":
        return text
    if value == "":
        return None
    if type_name in _INT_RANGES:
        if not _INTEGER.fullmatch(value):
            return None
        number = int(value)
        limit = _INT_RANGES[type_name]
        return number if -limit <= number < limit else None
    if type_name == "float64":
        return float(value) if _FLOAT.fullmatch(value) else None
    if type_name == "boolean":
        lowered = value.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else None
    if type_name.startswith("decimal("):
        precision, scale = map(int, type_name[8:-1].split(","))
        digits = r"[0-9]+(\.0*)?" + (rf"|[0-9]*\.[0-9]{{1,{scale}}}0*" if scale else "")
        if not re.fullmatch(rf"[+-]?({digits})", value, re.ASCII):
            return None
        number = Decimal(value).quantize(Decimal(1).scaleb(-scale))
        return number if abs(number) < Decimal(10) ** (precision - scale) else None
    if type_name == "date":
        match = _DATE_ONLY.fullmatch(value)
        if not match:
            return None
        try:
            return dt.date(*map(int, match.groups()))
        except ValueError:
            return None
    if type_name == "timestamp":
        match = _NAIVE.fullmatch(value)
        return _datetime(match.groups()) if match else None
    if type_name == "timestamp_tz":
        match = _AWARE.fullmatch(value)
        if not match:
            return None
        local, offset = _datetime(match.groups()), _offset(match.group(8))
        if local is None or offset is None:
            return None
        utc = local - offset
        return utc.replace(tzinfo=dt.UTC)
    raise ValueError(type_name)


_INT_TYPES = {"int32", "int64"}


def _kind(arrow: pa.DataType) -> str:
    if pa.types.is_boolean(arrow):
        return "boolean"
    if pa.types.is_integer(arrow) or pa.types.is_floating(arrow) or pa.types.is_decimal(arrow):
        return "number"
    if pa.types.is_timestamp(arrow) and arrow.tz is not None:
        return "zoned time"
    if pa.types.is_timestamp(arrow) or pa.types.is_date(arrow):
        return "naive time"
    return "other"


def _target_kind(type_name: str) -> str:
    if type_name == "boolean":
        return "boolean"
    if type_name == "timestamp_tz":
        return "zoned time"
    if type_name in {"date", "timestamp"}:
        return "naive time"
    return "number"


def _exact_number(value: int | float | Decimal, type_name: str) -> Any:
    """A number cast to a number type only when casting it back gives it again."""
    with localcontext() as context:
        context.prec = 1_000  # every float's and decimal's digits, exactly
        return _exact_number_in_context(value, type_name)


def _exact_number_in_context(value: int | float | Decimal, type_name: str) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return value if type_name == "float64" else None
    exact = Decimal(value)
    if type_name in _INT_TYPES:
        limit = _INT_RANGES[type_name]
        integral = exact == exact.to_integral_value()
        return int(exact) if integral and -limit <= exact < limit else None
    if type_name == "float64":
        number = float(value)
        back: Any = type(value)(number)
        if isinstance(value, Decimal):  # back at the input's scale
            back = Decimal(number).quantize(Decimal(1).scaleb(int(value.as_tuple().exponent)))
        return number if back == value else None
    precision, scale = map(int, type_name[8:-1].split(","))
    quantized = exact.quantize(Decimal(1).scaleb(-scale))
    back = float(quantized) if isinstance(value, float) else quantized
    fits = abs(quantized) < Decimal(10) ** (precision - scale)
    return quantized if back == value and fits else None


def cast_typed(value: Any, arrow: pa.DataType, type_name: str) -> Any:
    """A typed value (of Arrow type ``arrow``, not text) cast to ``type_name`` as the engine
    casts it, or None where the cast would lose or invent something. (A ``string`` column takes
    the value's DuckDB text, which the fuzz tests do not generate.)"""
    if type_name == "string":
        raise ValueError("typed values of other types into a string column are not modelled")
    if _kind(arrow) != _target_kind(type_name):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return _exact_number(value, type_name)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    if type_name == "date" and isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0) else None
    if type_name == "timestamp" and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def _cast(value: Any, type_name: str, arrow: pa.DataType) -> Any:
    """A batch value cast to its column's type: text as :func:`cast_text` says, a value of the
    column's type as it is, any other typed value as :func:`cast_typed` says."""
    if value is None:
        return None
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return cast_text(value, type_name)
    column_type = parse_column_type(type_name)
    if column_type is not None and column_type.arrow.equals(arrow):
        return value
    return cast_typed(value, arrow, type_name)


def _key(value: Any) -> Any:
    """What makes two cast values equal (-0.0 is 0.0; every NaN is one value)."""
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return value


def _text(value: Any) -> str:
    """A cast value as the engine compares it with text (``CAST(value AS VARCHAR)``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: Any) -> float:
    return float(value)


def _breaks_range(rule: Range, value: Any) -> bool:
    number = _number(value)
    if math.isnan(number):  # NaN sorts above every number: only upper bounds exclude it
        return rule.less_than is not None or rule.at_most is not None
    bounds = (
        (rule.greater_than, lambda b: number > b),
        (rule.at_least, lambda b: number >= b),
        (rule.less_than, lambda b: number < b),
        (rule.at_most, lambda b: number <= b),
    )
    return not all(check(float(bound)) for bound, check in bounds if bound is not None)


def _breaks_date_range(rule: Range, value: dt.date) -> bool:
    """A date against bounds written as ISO dates."""
    bounds = (
        (rule.greater_than, lambda b: value > b),
        (rule.at_least, lambda b: value >= b),
        (rule.less_than, lambda b: value < b),
        (rule.at_most, lambda b: value <= b),
    )
    return not all(
        check(dt.date.fromisoformat(str(bound))) for bound, check in bounds if bound is not None
    )


@dataclass(frozen=True)
class RuleVerdict:
    """One rule's outcome, as the engine's ``RuleResult`` states it."""

    rule_id: str
    passed: bool
    observed: float | None
    failed_rows: int | None
    blocking: bool


@dataclass(frozen=True)
class ReferenceResult:
    """The reference split: valid rows (cast), rejected rows (original) and rule verdicts."""

    valid: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    """Original values, lineage columns included, and ``violated_rules``."""
    verdicts: list[RuleVerdict]
    blocked: bool


def reference_validate(
    batch: pa.Table, contract: TableContract, taken: Mapping[str, list[Any]] | None = None
) -> ReferenceResult:
    """Validate ``batch`` against ``contract`` with loops (the semantics in the module doc).

    ``taken`` holds, per unique column, values published elsewhere: a row repeating one breaks
    the unique rule too."""
    rows = batch.to_pylist()
    input_types = {field.name: field.type for field in batch.schema}
    cast_rows = [
        {c.name: _cast(row[c.name], c.type_name, input_types[c.name]) for c in contract.columns}
        for row in rows
    ]
    seen: dict[str, set[Any]] = {}
    violations: list[list[str]] = []
    for row, cast in zip(rows, cast_rows, strict=True):
        broken = []
        for rule in contract.row_rules:
            value = cast[rule.column]
            match rule:
                case TypeConforms():
                    original = row[rule.column]
                    given = original is not None and (
                        rule.type_name == "string" or str(original).strip(" ") != ""
                    )
                    breaks = given and value is None
                case NotNull():
                    breaks = value is None or _text(value) in rule.missing_values
                case Unique():
                    published = (taken or {}).get(rule.column, [])
                    earlier = seen.setdefault(
                        rule.id, {_key(v) for v in published if v is not None}
                    )
                    breaks = value is not None and _key(value) in earlier
                    if value is not None:
                        earlier.add(_key(value))
                case AcceptedValues():
                    breaks = value is not None and _text(value) not in rule.values
                case Pattern():
                    breaks = value is not None and not re.fullmatch(rule.pattern, _text(value))
                case Length():
                    breaks = value is not None and (
                        (rule.at_least is not None and len(value) < rule.at_least)
                        or (rule.at_most is not None and len(value) > rule.at_most)
                    )
                case Range() if isinstance(value, dt.date):
                    breaks = _breaks_date_range(rule, value)
                case Range():
                    breaks = value is not None and _breaks_range(rule, value)
            if breaks:
                broken.append(rule.id)
        violations.append(broken)
    valid = [cast for cast, broken in zip(cast_rows, violations, strict=True) if not broken]
    rejected = [
        {**row, "violated_rules": broken}
        for row, broken in zip(rows, violations, strict=True)
        if broken
    ]
    verdicts = [
        RuleVerdict(
            rule.id,
            passed=not count,
            observed=float(count),
            failed_rows=count,
            blocking=False,
        )
        for rule in contract.row_rules
        for count in [sum(rule.id in broken for broken in violations)]
    ]
    for rule in contract.table_rules:
        observed: float | None
        if isinstance(rule, MetricThreshold):
            count = _metric_count(rule, cast_rows)
            observed = 100.0 * count / len(rows) if rule.percent and rows else float(count)
        elif isinstance(rule, RowCount | SqlCheck):  # the fuzz contracts' SQL rule counts rows
            observed = float(len(valid))
        passed = observed is not None and rule.comparison.holds(observed)
        verdicts.append(RuleVerdict(rule.id, passed, observed, None, rule.blocking))
    share = len(rejected) / len(rows) if rows else 0.0
    verdicts.append(
        RuleVerdict(
            "quarantine_threshold",
            passed=share <= contract.quarantine_threshold,
            observed=round(share, 6),
            failed_rows=len(rejected),
            blocking=True,
        )
    )
    verdicts.append(RuleVerdict("schema", True, None, None, True))
    blocked = any(v.blocking and not v.passed for v in verdicts)
    return ReferenceResult(valid, rejected, verdicts, blocked)


def _metric_count(rule: MetricThreshold, cast_rows: list[dict[str, Any]]) -> int:
    values = [row[rule.column] for row in cast_rows]
    match rule.metric:
        case "nullValues":
            return sum(v is None for v in values)
        case "missingValues":
            missing = rule.missing_values or ("",)
            return sum(v is None or _text(v) in missing for v in values)
        case "duplicateValues":
            earlier: set[Any] = set()
            repeats = 0
            for value in values:
                if value is not None:
                    repeats += _key(value) in earlier
                    earlier.add(_key(value))
            return repeats
        case "invalidValues":
            if rule.valid_values:
                return sum(v is not None and _text(v) not in rule.valid_values for v in values)
            pattern = rule.pattern or ""
            return sum(v is not None and not re.fullmatch(pattern, _text(v)) for v in values)
    raise ValueError(rule.metric)
