"""A typed batch with breakers, split in polars: one boolean mask per rule, as the SQL judges it.

When every column already has its contract type (curated and product tables), nothing needs
casting, and each row-level rule is a boolean mask over the typed columns. Only the rules the
aggregate pass (``fast_path.py``) found breakers of get a mask; valid rows are the ones no mask
marks, and ``violated_rules`` is built only for the rejected rows. The masks say exactly what the
engine's DuckDB query says. Where polars would judge a value differently from DuckDB,
:func:`rule_mask` (and :func:`metric_mask`) return None and the batch takes the query instead:

- **values compared as text** (accepted values, patterns, missing values): DuckDB compares
  ``CAST(value AS VARCHAR)``. Strings, integers, booleans and decimals with an integer digit
  (``scale < precision``) render alike in both; dates are compared as dates (a value that is
  not an ISO date of years 1-9999 cannot equal DuckDB's text of such a date; any other value
  falls back, as does a pattern on a date). Floats (``nan`` vs ``NaN``, ``1e-07`` vs ``1e-7``),
  timestamps (polars always prints microseconds) and decimals without an integer digit
  (DuckDB prints ``.50``) fall back.
- **patterns**: DuckDB's ``regexp_full_match`` is RE2, polars' ``str.contains`` is Rust's
  ``regex``. Their syntax and semantics agree on literals, ``.``, anchors, groups, alternation,
  greedy and lazy quantifiers and plain character classes; they differ on ``\\d \\w \\s`` (and
  their negations), which RE2 reads as ASCII and Rust as Unicode, so those are translated to
  their ASCII classes. Anything else (flags, Unicode classes, word boundaries, named groups,
  nested or set-operation classes, ``\\<``, counted repetitions RE2 refuses) falls back; so does
  a pattern RE2 itself does not compile (the query then reports the error).
- **ranges**: DuckDB compares a number column with a number bound as ``DOUBLE`` (the column
  is cast; NaN sorts above every number in both); date bounds on date columns and datetime
  bounds on timestamp columns of the same kind (aware on ``timestamp_tz``, naive on
  ``timestamp``) compare alike. Text bounds, NaN bounds and mixed kinds fall back.
- **uniqueness**: every non-null value after its first occurrence in row order breaks it, as
  ``row_number() OVER (PARTITION BY value ORDER BY row) > 1``; both engines group -0.0 with 0.0
  and NaN with NaN. The split looks for repeats among the rows whose hash repeats
  (:func:`repeats`). ``taken`` values are compared with ``is_in`` when they have the column's
  type (else the query).
"""

import datetime as dt
import functools
import re
import string
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import polars as pl
import pyarrow as pa

from platform_lib.contracts.model import TableContract
from platform_lib.contracts.rules import (
    AcceptedValues,
    MetricThreshold,
    NotNull,
    Pattern,
    Range,
    RowRule,
    TypeConforms,
    Unique,
)
from platform_lib.contracts.types import parse_column_type

VIOLATIONS_TYPE = pa.list_(pa.field("l", pa.string()))
"""The Arrow type of ``violated_rules``, as DuckDB returns its ``VARCHAR[]``."""
_MASK = "__mesh_mask_{}"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBERS = (pl.Int32, pl.Int64, pl.Float64)


@dataclass(frozen=True)
class TypedSplit:
    """What the engine's query computes for a batch, from the polars masks."""

    is_valid: pa.Array
    """Per row of the batch, whether it breaks no row-level rule."""
    violations: pa.Array
    """``violated_rules`` of the rejected rows, in row order (rule ids in contract order)."""
    breakers: Counter[str]
    """Rows breaking each row-level rule, by rule id."""


def split_typed(
    frame: pl.DataFrame,
    contract: TableContract,
    taken: Mapping[str, pa.Array],
    counts: Mapping[str, int],
) -> TypedSplit | None:
    """The valid-row mask and the rejected rows' ``violated_rules`` of a typed batch.

    Args:
        frame: The batch's contract columns (``fast_path.contract_frame``), each of its
            contract type (else None is returned).
        contract: The rules.
        taken: For a ``unique`` column, values published outside the batch.
        counts: :func:`~platform_lib.quality.fast_path.count_breakers`'s answer for the batch:
            a rule it finds no breaker of (zero is exact) needs no mask.

    Returns:
        None when polars would judge a rule differently from the engine's query (see the
        module's documentation): the query must split this batch.
    """
    schema = frame.schema
    for column in contract.columns:
        if schema.get(column.name) != polars_type(column.type_name):
            return None
    if len({rule.id for rule in contract.row_rules}) != len(contract.row_rules):
        return None  # compiled contracts have unique ids; a hand-made one takes the query
    masks: dict[str, pl.Expr | pl.Series] = {}  # by mask column, in rule order
    named: list[tuple[str, str]] = []  # (mask column, rule id) in rule order
    for index, rule in enumerate(contract.row_rules):
        mask = rule_mask(rule, schema)
        if mask is None:
            return None
        if isinstance(rule, TypeConforms) or not counts.get(rule.id):
            continue  # no row breaks it
        name = _MASK.format(index)
        if isinstance(rule, Unique):
            values = frame.get_column(rule.column)
            found = repeats(values)
            if rule.column in taken:
                published = pl.Series(taken[rule.column])
                if published.dtype != values.dtype:
                    return None
                found = found | (values.is_not_null() & values.is_in(published.implode()))
            masks[name] = found.fill_null(False).alias(name)
        else:
            masks[name] = mask.fill_null(False).alias(name)  # as CASE WHEN: null is no breach
        named.append((name, rule.id))
    if not named:  # only reached with the counts of another batch
        return None
    expressions = [mask for mask in masks.values() if isinstance(mask, pl.Expr)]
    computed = frame.select(expressions)
    flags = pl.DataFrame(
        [m if isinstance(m, pl.Series) else computed.get_column(n) for n, m in masks.items()]
    )
    broken = flags.select(pl.any_horizontal(pl.all())).to_series()
    breakers: Counter[str] = Counter()
    for (_, rule_id), count in zip(named, flags.sum().row(0), strict=True):
        if count:
            breakers[rule_id] += int(count)
    lists = (
        flags.filter(broken)
        .select(
            pl.concat_list(
                [pl.when(pl.col(name)).then(pl.lit(rule_id)) for name, rule_id in named]
            ).list.drop_nulls()
        )
        .to_series()
    )
    return TypedSplit(
        is_valid=(~broken).to_arrow(),
        violations=lists.to_arrow().cast(VIOLATIONS_TYPE),
        breakers=breakers,
    )


def polars_type(type_name: str) -> pl.DataType | None:
    """The polars type of a column of contract type ``type_name``."""
    column_type = parse_column_type(type_name)
    if column_type is None:
        return None
    if column_type.name.startswith("decimal"):
        arrow = column_type.arrow
        return pl.Decimal(arrow.precision, arrow.scale)
    return {
        "string": pl.String(),
        "int32": pl.Int32(),
        "int64": pl.Int64(),
        "float64": pl.Float64(),
        "boolean": pl.Boolean(),
        "date": pl.Date(),
        "timestamp_tz": pl.Datetime("us", "UTC"),
        "timestamp": pl.Datetime("us"),
    }.get(column_type.name)


def repeats(values: pl.Series) -> pl.Series:
    """Whether each value is non-null and repeats an earlier one (in row order), exactly as
    ``row_number() OVER (PARTITION BY value ORDER BY row) > 1``.

    Equal values hash alike, so only rows whose 64-bit hash occurs twice can repeat a value:
    those (found by sorting the hashes, far cheaper than grouping text) are compared by value.
    """
    hashes = values.hash()
    ordered = hashes.sort()
    twice = ordered.filter(ordered == ordered.shift(1)).unique()
    candidates = pl.arg_where(hashes.is_in(twice.implode()), eager=True)
    among = values.gather(candidates)
    again = candidates.filter(among.is_not_null() & ~among.is_first_distinct())
    return pl.repeat(False, values.len(), eager=True).scatter(again, True)


# -- rules as masks -----------------------------------------------------------------------------


def rule_mask(rule: RowRule, schema: Mapping[str, pl.DataType]) -> pl.Expr | None:
    """True where a row breaks ``rule`` (never null), or None where polars
    would judge differently from the engine's query. ``taken`` values are not part of a unique
    rule's mask (:func:`split_typed` adds them, and finds the same repeats by hash first)."""
    column = pl.col(rule.column)
    dtype = schema[rule.column]
    present = column.is_not_null()
    match rule:
        case TypeConforms():
            return pl.lit(False)
        case NotNull():
            return _missing(column, dtype, rule.missing_values)
        case Unique():
            return present & ~column.is_first_distinct()
        case AcceptedValues():
            accepted = _text_in(column, dtype, rule.values)
            return None if accepted is None else present & ~accepted
        case Pattern():
            matches = _full_match(column, dtype, rule.pattern)
            return None if matches is None else present & ~matches
        case Range():
            within = _within(rule, column, dtype)
            return None if within is None else present & ~within
    return None


def metric_mask(rule: MetricThreshold, schema: Mapping[str, pl.DataType]) -> pl.Expr | None:
    """True where a row counts towards the metric of ``rule``, or None (as :func:`rule_mask`)."""
    column = pl.col(rule.column)
    dtype = schema[rule.column]
    present = column.is_not_null()
    match rule.metric:
        case "nullValues":
            return column.is_null()
        case "missingValues":
            return _missing(column, dtype, rule.missing_values or ("",))
        case "duplicateValues":
            return present & ~column.is_first_distinct()
        case "invalidValues":
            if rule.valid_values:
                valid = _text_in(column, dtype, rule.valid_values)
            elif rule.pattern is not None:
                valid = _full_match(column, dtype, rule.pattern)
            else:
                return None
            return None if valid is None else present & ~valid
    return None


def _missing(column: pl.Expr, dtype: pl.DataType, missing: tuple[str, ...]) -> pl.Expr | None:
    if not missing:
        return column.is_null()
    listed = _text_in(column, dtype, missing)
    return None if listed is None else column.is_null() | listed


# -- values as DuckDB's text --------------------------------------------------------------------


def _as_text(column: pl.Expr, dtype: pl.DataType) -> pl.Expr | None:
    """The column as ``CAST(value AS VARCHAR)`` renders it, where polars renders it alike."""
    if dtype == pl.String:
        return column
    if dtype in (pl.Int32, pl.Int64, pl.Boolean):
        return column.cast(pl.String)
    if isinstance(dtype, pl.Decimal) and (dtype.scale or 0) < (dtype.precision or 38):
        return column.cast(pl.String)
    return None


def _text_in(column: pl.Expr, dtype: pl.DataType, values: tuple[str, ...]) -> pl.Expr | None:
    """Whether the value, as text, is one of ``values`` (null where the value is null)."""
    if dtype == pl.Date:
        dates = [_iso_date(value) for value in values]
        if any(date is None for date in dates):
            return None
        return column.is_in(pl.Series(dates, dtype=pl.Date).implode())
    text = _as_text(column, dtype)
    return None if text is None else text.is_in(pl.Series(values, dtype=pl.String).implode())


def _iso_date(value: str) -> dt.date | None:
    """The date DuckDB renders as ``value`` (``YYYY-MM-DD``, years 1-9999), if any."""
    if not _ISO_DATE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


# -- patterns -----------------------------------------------------------------------------------


def _full_match(column: pl.Expr, dtype: pl.DataType, pattern: str) -> pl.Expr | None:
    """Whether the value, as text, matches ``pattern`` as a whole (RE2 semantics)."""
    text = _as_text(column, dtype)
    translated = rust_pattern(pattern)
    if text is None or translated is None:
        return None
    return text.str.contains(f"^(?:{translated})$")


_PERL_CLASSES = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": "[0-9A-Za-z_]",
    "W": "[^0-9A-Za-z_]",
    "s": "[\\t\\n\\f\\r ]",
    "S": "[^\\t\\n\\f\\r ]",
}
"""RE2's ASCII-only ``\\d \\w \\s`` and negations, spelled out for Rust (Unicode by default)."""
_IN_CLASS = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}
_CONTROL = frozenset("tnrfv")
_LITERAL_ESCAPES = frozenset(string.punctuation) - {"<", ">"}
"""Escaped punctuation is the literal in both; Rust reads ``\\<`` and ``\\>`` as word bounds."""
_REPEAT = re.compile(r"\{(\d+)(?:(,)(\d*))?\}")
_MAX_REPEAT = 1000


@functools.lru_cache(maxsize=512)
def rust_pattern(pattern: str) -> str | None:
    """``pattern`` (RE2, as DuckDB reads it) for Rust's ``regex`` with the same matches, or None
    when it uses a construct outside the subset both read alike, or RE2 refuses it."""
    out: list[str] = []
    depth = 0
    atom = False  # whether the previous token may be repeated
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            token = _escape(pattern, i, in_class=False)
            if token is None:
                return None
            out.append(token)
            atom, i = True, i + 2
        elif char == "[":
            end = _class(pattern, i)
            if end is None:
                return None
            token, i = end
            out.append(token)
            atom = True
        elif char == "(":
            if pattern.startswith("(?:", i):
                out.append("(?:")
                i += 3
            elif pattern.startswith("(?", i):
                return None  # flags, named groups, look-arounds
            else:
                out.append("(")
                i += 1
            depth, atom = depth + 1, False
        elif char == ")":
            if depth == 0:
                return None
            out.append(")")
            depth, atom, i = depth - 1, True, i + 1
        elif char in "*+?{":
            if not atom:
                return None
            if char == "{":
                repeat = _REPEAT.match(pattern, i)
                if repeat is None or not _repeat_ok(repeat):
                    return None
                out.append(repeat.group(0))
                i = repeat.end()
            else:
                out.append(char)
                i += 1
            if pattern.startswith("?", i):  # lazy: the same full matches
                out.append("?")
                i += 1
            if i < len(pattern) and pattern[i] in "*+?{":
                return None  # stacked repetitions: RE2 refuses some, Rust reads others
            atom = False
        elif char in "^$|":
            out.append(char)
            atom, i = False, i + 1
        elif char in "]}":
            return None
        else:  # a literal, or "."
            out.append(char)
            atom, i = True, i + 1
    translated = "".join(out)
    if depth != 0 or not _re2_compiles(pattern) or not _rust_compiles(translated):
        return None
    return translated


def _escape(pattern: str, i: int, *, in_class: bool) -> str | None:
    if i + 1 >= len(pattern):
        return None
    char = pattern[i + 1]
    if char in _CONTROL or char in _LITERAL_ESCAPES:
        return "\\" + char
    if in_class:
        return _IN_CLASS.get(char)
    return _PERL_CLASSES.get(char)


def _class(pattern: str, start: int) -> tuple[str, int] | None:
    """The class opening at ``start`` for Rust, and the index after it; None when unsupported."""
    i = start + 1
    out = ["["]
    if pattern.startswith("^", i):
        out.append("^")
        i += 1
    if pattern.startswith("]", i):
        return None  # a leading "]": literal in both, but rare enough to leave to the query
    first = i
    while i < len(pattern):
        char = pattern[i]
        if char == "]":
            return "".join(out) + "]", i + 1
        if char == "[" or (char in "&~-" and pattern.startswith(char * 2, i)):
            return None  # POSIX or nested classes, Rust's set operations
        if char == "-" and i != first and not pattern.startswith("-]", i):
            return None  # a dash that is neither first, last nor inside a range
        low, i = _class_char(pattern, i)
        if low is None:
            return None
        if pattern.startswith("-", i) and not pattern.startswith("-]", i):
            high, i = _class_char(pattern, i + 1)
            if high is None or len(low) > 2 or len(high) > 2 or _code(low) > _code(high):
                return None
            out.append(f"{low}-{high}")
        else:
            out.append(low)
    return None


def _class_char(pattern: str, i: int) -> tuple[str | None, int]:
    if i >= len(pattern):
        return None, i
    if pattern[i] == "\\":
        return _escape(pattern, i, in_class=True), i + 2
    if pattern[i] in "[]":
        return None, i
    return pattern[i], i + 1


_CONTROL_CODES = {"t": 9, "n": 10, "v": 11, "f": 12, "r": 13}


def _code(token: str) -> int:
    if len(token) == 2:  # an escape: a control character or punctuation
        return _CONTROL_CODES.get(token[1], ord(token[1]))
    return ord(token)


def _repeat_ok(repeat: re.Match[str]) -> bool:
    low = int(repeat.group(1))
    high = low if repeat.group(2) is None else int(repeat.group(3) or low)
    return low <= _MAX_REPEAT and high <= _MAX_REPEAT and low <= high


@functools.lru_cache(maxsize=512)
def _re2_compiles(pattern: str) -> bool:
    """Whether DuckDB's RE2 accepts ``pattern`` (a refused one is the query's error to report)."""
    try:
        with duckdb.connect(":memory:") as connection:
            connection.execute("SELECT regexp_full_match('', ?)", [pattern]).fetchall()
    except duckdb.Error:
        return False
    return True


def _rust_compiles(pattern: str) -> bool:
    """Whether polars (Rust's ``regex``) accepts ``pattern`` (e.g. within its size limit)."""
    try:
        pl.Series([""]).str.contains(f"^(?:{pattern})$")
    except pl.exceptions.PolarsError:
        return False
    return True


# -- ranges -------------------------------------------------------------------------------------


def _within(rule: Range, column: pl.Expr, dtype: pl.DataType) -> pl.Expr | None:
    """Whether the value lies within the bounds, compared as DuckDB compares them."""
    bounds = [
        (op, bound)
        for op, bound in (
            ("gt", rule.greater_than),
            ("ge", rule.at_least),
            ("lt", rule.less_than),
            ("le", rule.at_most),
        )
        if bound is not None
    ]
    value = column
    literals: list[pl.Expr] = []
    for _, bound in bounds:
        literal = _bound(bound, dtype)
        if literal is None:
            return None
        literals.append(literal)
    if dtype in _NUMBERS or isinstance(dtype, pl.Decimal):
        value = column.cast(pl.Float64)  # DuckDB: CAST(column AS DOUBLE) <op> bound
    within = pl.lit(True)
    for (op, _), literal in zip(bounds, literals, strict=True):
        compared = {
            "gt": value > literal,
            "ge": value >= literal,
            "lt": value < literal,
            "le": value <= literal,
        }[op]
        within = within & compared
    return within


def _bound(bound: object, dtype: pl.DataType) -> pl.Expr | None:
    if dtype in _NUMBERS or isinstance(dtype, pl.Decimal):
        if type(bound) is float and bound == bound:  # not NaN
            return pl.lit(bound, dtype=pl.Float64)
        return None
    if dtype == pl.Date:
        if isinstance(bound, dt.date) and not isinstance(bound, dt.datetime):
            return pl.lit(bound, dtype=pl.Date)
        return None
    if isinstance(dtype, pl.Datetime) and isinstance(bound, dt.datetime):
        if dtype.time_zone is not None and bound.tzinfo is not None:
            return pl.lit(bound.astimezone(dt.UTC), dtype=pl.Datetime("us", "UTC"))
        if dtype.time_zone is None and bound.tzinfo is None:
            return pl.lit(bound, dtype=pl.Datetime("us"))
    return None
