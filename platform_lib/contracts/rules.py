"""The quality rules a contract promises, as typed models the engine compiles.

Row-level rules judge each row: a row breaking one is quarantined, never published and never
dropped. Table-level rules judge the batch as a whole; a failing one with severity ``error``
blocks the publish (nothing is committed) and the table's consumers.

Every rule has an ``id`` that names its Dagster asset check, and the ``field`` of the contract it
comes from, so a failure can point at the contract line.
"""

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from platform_lib.contracts.findings import FieldPath

CHECK_NAME_PATTERN = r"^[A-Za-z0-9_]+$"
"""Dagster check names allow letters, digits and underscores only."""
SCHEMA_RULE = "schema"
"""The check that the written columns and types are the contract's."""
THRESHOLD_RULE = "quarantine_threshold"
"""The check that the share of quarantined rows stays within the contract's threshold."""


class Severity(StrEnum):
    """How much a failing rule matters: ``error`` blocks, the others warn."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Operator(StrEnum):
    """ODCS comparison operators (``mustBe``, ``mustBeGreaterThan``, ...)."""

    EQUAL = "mustBe"
    NOT_EQUAL = "mustNotBe"
    GREATER = "mustBeGreaterThan"
    GREATER_OR_EQUAL = "mustBeGreaterOrEqualTo"
    LESS = "mustBeLessThan"
    LESS_OR_EQUAL = "mustBeLessOrEqualTo"
    BETWEEN = "mustBeBetween"
    NOT_BETWEEN = "mustNotBeBetween"


class Comparison(BaseModel):
    """A measured value must compare with ``value`` by ``operator``."""

    model_config = ConfigDict(frozen=True)

    operator: Operator
    value: float | tuple[float, float]

    def holds(self, observed: float) -> bool:
        """Whether ``observed`` satisfies the comparison."""
        value = self.value
        if isinstance(value, tuple):
            low, high = value
            inside = low <= observed <= high
            return inside if self.operator is Operator.BETWEEN else not inside
        return {
            Operator.EQUAL: observed == value,
            Operator.NOT_EQUAL: observed != value,
            Operator.GREATER: observed > value,
            Operator.GREATER_OR_EQUAL: observed >= value,
            Operator.LESS: observed < value,
            Operator.LESS_OR_EQUAL: observed <= value,
        }.get(self.operator, False)

    @property
    def allows_none(self) -> bool:
        """Whether the comparison demands a count of zero (``mustBe: 0``, ``< 1``, ``<= 0``)."""
        return (
            (self.operator is Operator.EQUAL and self.value == 0)
            or (self.operator is Operator.LESS and self.value == 1)
            or (self.operator is Operator.LESS_OR_EQUAL and self.value == 0)
        )

    def __str__(self) -> str:
        return f"{self.operator.value} {self.value}"


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=CHECK_NAME_PATTERN, description="Stable id; names the asset check.")
    description: str = ""
    severity: Severity = Severity.WARNING
    field: FieldPath = Field(default=(), description="Where the rule is in the contract.")

    @property
    def blocking(self) -> bool:
        """Whether a failure blocks the publish and the consumers."""
        return self.severity is Severity.ERROR


class TypeConforms(_Rule):
    """The value casts to the column's contract type (implicit for every column)."""

    kind: Literal["type"] = "type"
    column: str
    type_name: str


class NotNull(_Rule):
    """The column holds a value in every row (``required``, or ``nullValues`` must be 0)."""

    kind: Literal["not_null"] = "not_null"
    column: str
    missing_values: tuple[str, ...] = ()
    """Values that count as missing too (``missingValues``), besides null."""


class Unique(_Rule):
    """No two rows share a value (nulls excepted); the first row in batch order is kept."""

    kind: Literal["unique"] = "unique"
    column: str


class AcceptedValues(_Rule):
    """The value is one of ``values`` (nulls pass; add NotNull to forbid them)."""

    kind: Literal["accepted_values"] = "accepted_values"
    column: str
    values: tuple[str, ...] = Field(min_length=1)


class Pattern(_Rule):
    """The value, as text, matches the regular expression ``pattern`` (nulls pass)."""

    kind: Literal["pattern"] = "pattern"
    column: str
    pattern: str


class Length(_Rule):
    """The value's length in characters (Unicode code points) lies within the bounds
    (``minLength``, ``maxLength``; nulls pass)."""

    kind: Literal["length"] = "length"
    column: str
    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)


RangeBound = float | str | dt.datetime | dt.date
"""A range's bound: a number, a date or datetime, or text DuckDB casts."""
BoundOperator = Literal[">", ">=", "<", "<="]
"""How a value compares with a range's bound to lie within it."""


class Range(_Rule):
    """The value lies within the given bounds (nulls pass)."""

    kind: Literal["range"] = "range"
    column: str
    greater_than: RangeBound | None = None
    at_least: RangeBound | None = None
    less_than: RangeBound | None = None
    at_most: RangeBound | None = None

    @property
    def bounds(self) -> tuple[tuple[BoundOperator, RangeBound], ...]:
        """The bounds given, each with the comparison a value within it passes: ``>``
        (``greater_than``), ``>=`` (``at_least``), ``<`` (``less_than``), ``<=`` (``at_most``),
        in that order.

        Example:
            >>> Range(id="r", column="n", at_least=0.0, less_than=10.0).bounds
            (('>=', 0.0), ('<', 10.0))
        """
        candidates: tuple[tuple[BoundOperator, RangeBound | None], ...] = (
            (">", self.greater_than),
            (">=", self.at_least),
            ("<", self.less_than),
            ("<=", self.at_most),
        )
        return tuple((op, bound) for op, bound in candidates if bound is not None)


class MetricThreshold(_Rule):
    """A column metric over the batch, with a tolerance: a table-level rule, nothing quarantined."""

    kind: Literal["metric"] = "metric"
    metric: Literal["nullValues", "missingValues", "invalidValues", "duplicateValues"]
    column: str
    comparison: Comparison
    percent: bool = False
    """Compare the share of rows (0-100) instead of the count."""
    valid_values: tuple[str, ...] = ()
    pattern: str | None = None
    missing_values: tuple[str, ...] = ()


class RowCount(_Rule):
    """The number of rows to publish compares as required (table-level)."""

    kind: Literal["row_count"] = "row_count"
    comparison: Comparison


class SqlCheck(_Rule):
    """A read-only query over the rows to publish (``${table}``) returns a value to compare."""

    kind: Literal["sql"] = "sql"
    query: str
    comparison: Comparison


RowRule = TypeConforms | NotNull | Unique | AcceptedValues | Pattern | Length | Range
TableRule = MetricThreshold | RowCount | SqlCheck
Rule = Annotated[RowRule | TableRule, Field(discriminator="kind")]


def split_rules(rules: Iterable[Rule]) -> tuple[tuple[RowRule, ...], tuple[TableRule, ...]]:
    """The row-level rules and the table-level rules of ``rules``, in their order."""
    row: list[RowRule] = []
    table: list[TableRule] = []
    for rule in rules:
        if isinstance(
            rule, TypeConforms | NotNull | Unique | AcceptedValues | Pattern | Length | Range
        ):
            row.append(rule)
        else:
            table.append(rule)
    return tuple(row), tuple(table)
