"""Quality rules a table promises, as typed models.

Row-level rules judge each row: rows that break one are quarantined, never published and never
dropped. Table-level rules judge the batch as a whole: when a blocking one fails, nothing is
committed.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from platform_lib.conventions import NAME_PATTERN


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=NAME_PATTERN.pattern, description="Stable id; names the asset check.")
    description: str = ""
    blocking: bool = Field(
        default=False, description="A failure stops the publish and the table's consumers."
    )


class NotNull(_Rule):
    """The column holds a value in every row."""

    kind: Literal["not_null"] = "not_null"
    column: str


class Unique(_Rule):
    """No two rows share a value (nulls excepted); the first row in batch order is kept."""

    kind: Literal["unique"] = "unique"
    column: str


class AcceptedValues(_Rule):
    """The column's value is one of ``values`` (nulls pass; add NotNull to forbid them)."""

    kind: Literal["accepted_values"] = "accepted_values"
    column: str
    values: tuple[str, ...] = Field(min_length=1)


class Range(_Rule):
    """The column's value lies within the given bounds (nulls pass)."""

    kind: Literal["range"] = "range"
    column: str
    greater_than: float | None = None
    at_least: float | None = None
    less_than: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _has_a_bound(self) -> "Range":
        bounds = (self.greater_than, self.at_least, self.less_than, self.at_most)
        if all(bound is None for bound in bounds):
            raise ValueError("a range rule needs at least one bound")
        return self


class RowCount(_Rule):
    """The number of published rows lies within ``minimum`` and ``maximum`` (table-level)."""

    kind: Literal["row_count"] = "row_count"
    minimum: int | None = None
    maximum: int | None = None
    blocking: bool = True


RowRule = NotNull | Unique | AcceptedValues | Range
Rule = Annotated[RowRule | RowCount, Field(discriminator="kind")]


def is_row_rule(rule: Rule) -> bool:
    """Whether the rule judges single rows (and quarantines the ones breaking it)."""
    return not isinstance(rule, RowCount)
