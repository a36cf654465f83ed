"""Contract compatibility: what changed between two versions of a table's contract, and whether
an existing reader or writer of the table can break.

``compare_contracts(old, new)`` lists every change as a :class:`Change`: its kind, the column and
rule it concerns, whether it is breaking, and a sentence for the CI log. A breaking change needs a
new major version: ``ContractDiff.needs_major_bump`` is what CI fails on.

A change is breaking when a consumer can lose what it relied on (a column, its type, non-null or
unique values, access) or when rows a producer wrote before may now be rejected (a new required
column, a narrower type, a tightened rule). Loosening a value rule (a wider range, more accepted
values, a rule removed) and widening a type are not breaking.

====================== ======== ==================================================================
Kind                   Breaking When
====================== ======== ==================================================================
COLUMN_REMOVED         yes      a column is gone. A rename is a removal plus an addition; when
                                exactly one column went and one of the same type came, the
                                message asks "renamed to X?"
COLUMN_ADDED_REQUIRED  yes      a new required column: every producer must now supply it
COLUMN_ADDED_OPTIONAL  no       a new optional column
COLUMNS_REORDERED      no       the same columns in another order (columns are read by name)
TYPE_NARROWED          yes      the new type cannot hold every old value: int64 -> int32,
                                decimal(18,2) -> decimal(10,2) or fewer scale digits, float64 or
                                decimal -> an integer, int64 or decimal -> float64, string -> any
                                other type, timestamp <-> timestamp_tz, timestamp -> date
TYPE_CHANGED           yes      another kind of value: number <-> boolean or date, any -> string
TYPE_WIDENED           no       every old value fits: int32 -> int64, int32 -> float64,
                                decimal(10,2) -> decimal(18,2), int32 -> decimal(12,2)
NULLABILITY_TIGHTENED  yes      an optional column becomes required (``required``, or a rule
                                allowing no nulls): rows with nulls are now rejected
NULLABILITY_LOOSENED   yes      a required column becomes optional: readers relying on values
                                break on nulls
UNIQUENESS_ADDED       yes      a column becomes unique: duplicate rows are now rejected
UNIQUENESS_REMOVED     yes      a unique column no longer is: readers joining on it break
RULE_ADDED             yes      a new rule on an existing column or on the table
RULE_TIGHTENED         yes      a rule rejects values it accepted before: a range bound moved
                                inwards or added, more missing values, a stricter comparison, a
                                table rule's severity raised to error; also a lower quarantine
                                threshold, a new or shorter freshness SLA
RULE_CHANGED           yes      a rule changed in a way that is neither tighter nor looser: a new
                                pattern or query, another metric, column or kind under one id
VALID_VALUES_NARROWED  yes      accepted values removed (even if others were added)
RULE_REMOVED           no       a rule dropped
RULE_LOOSENED          no       the opposite of RULE_TIGHTENED
VALID_VALUES_WIDENED   no       accepted values added
ACCESS_NARROWED        yes      public -> internal -> private: consumers lose access
ACCESS_WIDENED         no       private -> internal -> public
LOCATION_CHANGED       yes      the table's Delta server path changed
PARTITIONING_CHANGED   no       a column's ``partitioned`` flag (the physical layout)
STATUS_CHANGED         no       e.g. active -> deprecated
DOCS_CHANGED           no       names, descriptions, owners, a column's classification, logical
                                type or primary-key flag, a rule's description, a row rule's
                                severity (breakers are quarantined whatever it is)
TABLE_REMOVED          yes      the table's contract is gone (:func:`removed_table`)
====================== ======== ==================================================================

Rules are compared by id. A column's type, ``required`` and ``unique`` are compared as the
column's type, nullability and uniqueness (a ``nullValues`` or ``duplicateValues`` rule allowing
no rows counts too), not as rules. The rules of a column that was added or removed (the generated
``<column>_type``, ``_required``, ``_unique``, ``_range``, ``_length`` and ``_pattern`` and its
own) come with the column and are not reported on their own. Range bounds given as text (dates)
compare as text.
"""

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from platform_lib.contracts.model import Access, ColumnContract, TableContract
from platform_lib.contracts.rules import (
    THRESHOLD_RULE,
    AcceptedValues,
    Comparison,
    Length,
    MetricThreshold,
    NotNull,
    Operator,
    Pattern,
    Range,
    RowCount,
    Rule,
    SqlCheck,
    TypeConforms,
    Unique,
)


class ChangeKind(StrEnum):
    """What changed between two versions of a contract (see the module's table)."""

    COLUMN_REMOVED = "column_removed"
    COLUMN_ADDED_REQUIRED = "column_added_required"
    COLUMN_ADDED_OPTIONAL = "column_added_optional"
    COLUMNS_REORDERED = "columns_reordered"
    TYPE_NARROWED = "type_narrowed"
    TYPE_CHANGED = "type_changed"
    TYPE_WIDENED = "type_widened"
    NULLABILITY_TIGHTENED = "nullability_tightened"
    NULLABILITY_LOOSENED = "nullability_loosened"
    UNIQUENESS_ADDED = "uniqueness_added"
    UNIQUENESS_REMOVED = "uniqueness_removed"
    RULE_ADDED = "rule_added"
    RULE_TIGHTENED = "rule_tightened"
    RULE_CHANGED = "rule_changed"
    VALID_VALUES_NARROWED = "valid_values_narrowed"
    RULE_REMOVED = "rule_removed"
    RULE_LOOSENED = "rule_loosened"
    VALID_VALUES_WIDENED = "valid_values_widened"
    ACCESS_NARROWED = "access_narrowed"
    ACCESS_WIDENED = "access_widened"
    LOCATION_CHANGED = "location_changed"
    PARTITIONING_CHANGED = "partitioning_changed"
    STATUS_CHANGED = "status_changed"
    DOCS_CHANGED = "docs_changed"
    TABLE_REMOVED = "table_removed"


BREAKING_KINDS: frozenset[ChangeKind] = frozenset(
    {
        ChangeKind.COLUMN_REMOVED,
        ChangeKind.COLUMN_ADDED_REQUIRED,
        ChangeKind.TYPE_NARROWED,
        ChangeKind.TYPE_CHANGED,
        ChangeKind.NULLABILITY_TIGHTENED,
        ChangeKind.NULLABILITY_LOOSENED,
        ChangeKind.UNIQUENESS_ADDED,
        ChangeKind.UNIQUENESS_REMOVED,
        ChangeKind.RULE_ADDED,
        ChangeKind.RULE_TIGHTENED,
        ChangeKind.RULE_CHANGED,
        ChangeKind.VALID_VALUES_NARROWED,
        ChangeKind.ACCESS_NARROWED,
        ChangeKind.LOCATION_CHANGED,
        ChangeKind.TABLE_REMOVED,
    }
)
"""The kinds of change that need a new major version."""


class Change(BaseModel):
    """One change between two versions of a contract."""

    model_config = ConfigDict(frozen=True)

    kind: ChangeKind
    column: str | None = None
    """The column it concerns, if any."""
    rule_id: str | None = None
    """The rule (asset check) it concerns, if any."""
    breaking: bool
    description: str
    """A sentence for people, e.g. ``column amount: type decimal(18,2) -> string``."""


class ContractDiff(BaseModel):
    """Every change between two versions of one table's contract."""

    model_config = ConfigDict(frozen=True)

    contract_id: str
    old_version: str
    new_version: str | None
    """None when the table's contract was removed."""
    changes: tuple[Change, ...] = ()

    @property
    def breaking(self) -> tuple[Change, ...]:
        """The breaking changes, in order."""
        return tuple(c for c in self.changes if c.breaking)

    @property
    def major_bumped(self) -> bool:
        """Whether the new version's major part is greater than the old one's."""
        if self.new_version is None:
            return False
        return _major(self.new_version) > _major(self.old_version)

    @property
    def needs_major_bump(self) -> bool:
        """Whether a breaking change came without a new major version (CI fails on this)."""
        return bool(self.breaking) and not self.major_bumped


def compare_contracts(old: TableContract, new: TableContract) -> ContractDiff:
    """List the changes from ``old`` to ``new``, each classified as breaking or not.

    Args:
        old: The contract as it was (e.g. on the target branch).
        new: The contract as it is proposed.

    Returns:
        The changes: table properties first, then columns in contract order, then rules.

    Raises:
        ValueError: The two contracts describe different tables.

    Example:
        >>> diff = compare_contracts(main_contract, branch_contract)
        >>> if diff.needs_major_bump:
        ...     print("\\n".join(c.description for c in diff.breaking))
    """
    if old.key != new.key:
        raise ValueError(f"{old.id} and {new.id} describe different tables ({old.key}, {new.key})")
    columns = _ColumnDiff(old, new)
    changes = [*_table_changes(old, new), *columns.changes(), *_rule_changes(old, new, columns)]
    return ContractDiff(
        contract_id=new.id,
        old_version=old.version,
        new_version=new.version,
        changes=tuple(changes),
    )


def removed_table(old: TableContract) -> ContractDiff:
    """The diff of a table whose contract disappeared: one breaking ``TABLE_REMOVED`` change.

    Args:
        old: The contract as it was.

    Returns:
        A diff with no new version, which needs a major bump.
    """
    change = _change(ChangeKind.TABLE_REMOVED, f"table {old.key} removed (contract {old.id})")
    return ContractDiff(
        contract_id=old.id, old_version=old.version, new_version=None, changes=(change,)
    )


def _change(
    kind: ChangeKind, description: str, *, column: str | None = None, rule_id: str | None = None
) -> Change:
    return Change(
        kind=kind,
        column=column,
        rule_id=rule_id,
        breaking=kind in BREAKING_KINDS,
        description=description,
    )


def _major(version: str) -> int:
    return int(version.split(".", 1)[0])


# -- table ---------------------------------------------------------------------------------------

_ACCESS_RANK = {Access.PRIVATE: 0, Access.INTERNAL: 1, Access.PUBLIC: 2}


def _table_changes(old: TableContract, new: TableContract) -> list[Change]:
    changes: list[Change] = []
    for what, before, after in (
        ("name", old.name, new.name),
        ("description", old.description, new.description),
        ("owners", ", ".join(old.owners), ", ".join(new.owners)),
    ):
        if before != after:
            changes.append(
                _change(ChangeKind.DOCS_CHANGED, f"table {what}: {before!r} -> {after!r}")
            )
    if old.status != new.status:
        changes.append(
            _change(ChangeKind.STATUS_CHANGED, f"table status: {old.status} -> {new.status}")
        )
    if old.access != new.access:
        narrowed = _ACCESS_RANK[new.access] < _ACCESS_RANK[old.access]
        changes.append(
            _change(
                ChangeKind.ACCESS_NARROWED if narrowed else ChangeKind.ACCESS_WIDENED,
                f"table access: {old.access} -> {new.access}",
            )
        )
    if old.server_path != new.server_path:
        changes.append(
            _change(
                ChangeKind.LOCATION_CHANGED,
                f"table location: {old.server_path} -> {new.server_path}",
            )
        )
    if old.quarantine_threshold != new.quarantine_threshold:
        tightened = new.quarantine_threshold < old.quarantine_threshold
        changes.append(
            _change(
                ChangeKind.RULE_TIGHTENED if tightened else ChangeKind.RULE_LOOSENED,
                f"quarantine threshold: {old.quarantine_threshold:g} -> "
                f"{new.quarantine_threshold:g}"
                + (" (fewer rejected rows tolerated)" if tightened else ""),
                rule_id=THRESHOLD_RULE,
            )
        )
    if old.freshness != new.freshness:
        tightened = new.freshness is not None and (
            old.freshness is None or new.freshness < old.freshness
        )
        changes.append(
            _change(
                ChangeKind.RULE_TIGHTENED if tightened else ChangeKind.RULE_LOOSENED,
                f"freshness SLA: {old.freshness or 'none'} -> {new.freshness or 'none'}",
            )
        )
    return changes


# -- columns -------------------------------------------------------------------------------------


def _not_null_columns(contract: TableContract) -> set[str]:
    """Columns whose values may not be null: ``required``, or a rule allowing no nulls."""
    rules = {r.column for r in contract.rules if isinstance(r, NotNull)}
    return rules | {c.name for c in contract.columns if c.required}


def _unique_columns(contract: TableContract) -> set[str]:
    """Columns whose values are unique: ``unique``, or a rule allowing no duplicates."""
    rules = {r.column for r in contract.rules if isinstance(r, Unique)}
    return rules | {c.name for c in contract.columns if c.unique}


class _ColumnDiff:
    """The columns of two versions of a contract, matched by name."""

    def __init__(self, old: TableContract, new: TableContract) -> None:
        self.old = old
        self.new = new
        self.removed = [c for c in old.columns if new.column(c.name) is None]
        self.added = [c for c in new.columns if old.column(c.name) is None]
        self.old_not_null = _not_null_columns(old)
        self.new_not_null = _not_null_columns(new)
        self.old_unique = _unique_columns(old)
        self.new_unique = _unique_columns(new)

    @property
    def came_or_went(self) -> set[str]:
        """Names of the columns added or removed."""
        return {c.name for c in (*self.removed, *self.added)}

    def nullability_changed(self, column: str) -> bool:
        return (column in self.old_not_null) != (column in self.new_not_null)

    def uniqueness_changed(self, column: str) -> bool:
        return (column in self.old_unique) != (column in self.new_unique)

    def changes(self) -> list[Change]:
        changes: list[Change] = []
        renamed = (
            len(self.removed) == 1
            and len(self.added) == 1
            and self.removed[0].type_name == self.added[0].type_name
        )
        for column in self.removed:
            hint = f" (renamed to {self.added[0].name}?)" if renamed else ""
            changes.append(
                _change(
                    ChangeKind.COLUMN_REMOVED,
                    f"column {column.name} ({column.type_name}) removed{hint}",
                    column=column.name,
                )
            )
        for column in self.added:
            required = column.name in self.new_not_null
            hint = f" (renamed from {self.removed[0].name}?)" if renamed else ""
            changes.append(
                _change(
                    ChangeKind.COLUMN_ADDED_REQUIRED
                    if required
                    else ChangeKind.COLUMN_ADDED_OPTIONAL,
                    f"column {column.name} ({column.type_name}) added, "
                    f"{'required' if required else 'optional'}{hint}",
                    column=column.name,
                )
            )
        kept = [c.name for c in self.old.columns if self.new.column(c.name) is not None]
        if kept != [c.name for c in self.new.columns if self.old.column(c.name) is not None]:
            changes.append(_change(ChangeKind.COLUMNS_REORDERED, "columns reordered"))
        for name in kept:
            before, after = self.old.column(name), self.new.column(name)
            assert before is not None and after is not None
            changes.extend(self._column_changes(before, after))
        return changes

    def _column_changes(self, old: ColumnContract, new: ColumnContract) -> list[Change]:
        name = old.name
        changes: list[Change] = []
        type_kind = _type_change(old.type_name, new.type_name)
        if type_kind is not None:
            reason = {
                ChangeKind.TYPE_NARROWED: " (not every value fits)",
                ChangeKind.TYPE_WIDENED: " (every value fits)",
            }.get(type_kind, "")
            changes.append(
                _change(
                    type_kind,
                    f"column {name}: type {old.type_name} -> {new.type_name}{reason}",
                    column=name,
                )
            )
        if self.nullability_changed(name):
            required = name in self.new_not_null
            changes.append(
                _change(
                    ChangeKind.NULLABILITY_TIGHTENED
                    if required
                    else ChangeKind.NULLABILITY_LOOSENED,
                    f"column {name}: "
                    + ("optional -> required" if required else "required -> optional (nulls)"),
                    column=name,
                )
            )
        if self.uniqueness_changed(name):
            unique = name in self.new_unique
            changes.append(
                _change(
                    ChangeKind.UNIQUENESS_ADDED if unique else ChangeKind.UNIQUENESS_REMOVED,
                    f"column {name}: " + ("now unique" if unique else "no longer unique"),
                    column=name,
                )
            )
        if old.partitioned != new.partitioned:
            changes.append(
                _change(
                    ChangeKind.PARTITIONING_CHANGED,
                    f"column {name}: partitioned {old.partitioned} -> {new.partitioned}",
                    column=name,
                )
            )
        docs = [
            (what, before, after)
            for what, before, after in (
                ("description", old.description, new.description),
                ("classification", old.classification, new.classification),
                ("primary key", old.primary_key, new.primary_key),
                (
                    "logical type",
                    old.logical_type if type_kind is None else None,
                    new.logical_type if type_kind is None else None,
                ),
            )
            if before != after
        ]
        changes.extend(
            _change(ChangeKind.DOCS_CHANGED, f"column {name}: {what} {b!r} -> {a!r}", column=name)
            for what, b, a in docs
        )
        return changes


_DECIMAL_NAME = re.compile(r"^decimal\((\d+),(\d+)\)$")
_INTEGERS = {"int32": (10, 9), "int64": (19, 18)}
"""Integer types: the digits a value may have, and the digits of any value that fits."""
_TIMESTAMPS = {"timestamp", "timestamp_tz"}


def _exact_number(type_name: str) -> tuple[int, int, int] | None:
    """An exact numeric type as (integer digits needed, integer digits held, scale)."""
    if type_name in _INTEGERS:
        needed, held = _INTEGERS[type_name]
        return needed, held, 0
    match = _DECIMAL_NAME.match(type_name)
    if match:
        precision, scale = int(match.group(1)), int(match.group(2))
        return precision - scale, precision - scale, scale
    return None


def _type_change(old: str, new: str) -> ChangeKind | None:
    """How a column's canonical type changed, if it did."""
    if old == new:
        return None
    if new == "string":
        return ChangeKind.TYPE_CHANGED
    if old == "string" or {old, new} == _TIMESTAMPS or (old in _TIMESTAMPS and new == "date"):
        return ChangeKind.TYPE_NARROWED
    old_exact, new_exact = _exact_number(old), _exact_number(new)
    if old_exact is not None and new_exact is not None:
        fits = new_exact[1] >= old_exact[0] and new_exact[2] >= old_exact[2]
        return ChangeKind.TYPE_WIDENED if fits else ChangeKind.TYPE_NARROWED
    if old == "int32" and new == "float64":
        return ChangeKind.TYPE_WIDENED
    old_numeric = old_exact is not None or old == "float64"
    new_numeric = new_exact is not None or new == "float64"
    return ChangeKind.TYPE_NARROWED if old_numeric and new_numeric else ChangeKind.TYPE_CHANGED


# -- rules ---------------------------------------------------------------------------------------


class _Verdict(StrEnum):
    TIGHTENED = "tightened"
    LOOSENED = "loosened"
    CHANGED = "changed"


_Aspect = tuple[_Verdict, str]
"""One way a rule changed, and how to say it."""
_TABLE_RULES = (MetricThreshold, RowCount, SqlCheck)


def _rule_column(rule: Rule) -> str | None:
    return None if isinstance(rule, RowCount | SqlCheck) else rule.column


def _compared_rules(contract: TableContract) -> dict[str, Rule]:
    """Rules by id, less the ones that state a column's type, ``required`` and ``unique``."""
    return {
        r.id: r
        for r in contract.rules
        if not isinstance(r, TypeConforms)
        and not (isinstance(r, NotNull) and r.id == f"{r.column}_required")
        and not (isinstance(r, Unique) and r.id == f"{r.column}_unique")
    }


def _rule_changes(old: TableContract, new: TableContract, columns: _ColumnDiff) -> list[Change]:
    old_rules, new_rules = _compared_rules(old), _compared_rules(new)

    def reported(rule: Rule) -> bool:
        column = _rule_column(rule)
        if column is None:
            return True
        if column in columns.came_or_went:
            return False
        if isinstance(rule, NotNull) and columns.nullability_changed(column):
            return False
        return not (isinstance(rule, Unique) and columns.uniqueness_changed(column))

    changes: list[Change] = []
    for rule_id, rule in old_rules.items():
        if rule_id not in new_rules and reported(rule):
            changes.append(
                _change(
                    ChangeKind.RULE_REMOVED,
                    f"{_rule_name(rule)} removed",
                    column=_rule_column(rule),
                    rule_id=rule_id,
                )
            )
    for rule_id, rule in new_rules.items():
        if rule_id not in old_rules and reported(rule):
            changes.append(
                _change(
                    ChangeKind.RULE_ADDED,
                    f"{_rule_name(rule)} added",
                    column=_rule_column(rule),
                    rule_id=rule_id,
                )
            )
    for rule_id, rule in old_rules.items():
        if rule_id in new_rules:
            change = _rule_change(rule, new_rules[rule_id])
            if change is not None:
                changes.append(change)
    return changes


def _rule_name(rule: Rule) -> str:
    column = _rule_column(rule)
    return f"{rule.kind} rule {rule.id}" + (f" on column {column}" if column else "")


def _rule_change(old: Rule, new: Rule) -> Change | None:
    column = _rule_column(new)
    if old.kind != new.kind or _rule_column(old) != column:
        return _change(
            ChangeKind.RULE_CHANGED,
            f"rule {new.id}: {_rule_name(old)} -> {_rule_name(new)}",
            column=column,
            rule_id=new.id,
        )
    aspects = _aspects(old, new)
    table_rule = isinstance(new, _TABLE_RULES)
    if table_rule and old.blocking != new.blocking:
        verdict = _Verdict.TIGHTENED if new.blocking else _Verdict.LOOSENED
        aspects.append((verdict, f"severity {old.severity} -> {new.severity}"))
    if not aspects:
        docs = [
            f"{what} {before!r} -> {after!r}"
            for what, before, after in (
                ("description", old.description, new.description),
                ("severity", old.severity.value, new.severity.value),
            )
            if before != after
        ]
        if not docs:
            return None
        return _change(
            ChangeKind.DOCS_CHANGED,
            f"{_rule_name(new)}: {'; '.join(docs)}",
            column=column,
            rule_id=new.id,
        )
    verdicts = {verdict for verdict, _ in aspects}
    if _Verdict.CHANGED in verdicts:
        kind = ChangeKind.RULE_CHANGED
    elif _Verdict.TIGHTENED in verdicts:
        narrowed = isinstance(new, AcceptedValues)
        kind = ChangeKind.VALID_VALUES_NARROWED if narrowed else ChangeKind.RULE_TIGHTENED
    else:
        widened = isinstance(new, AcceptedValues)
        kind = ChangeKind.VALID_VALUES_WIDENED if widened else ChangeKind.RULE_LOOSENED
    return _change(
        kind,
        f"{_rule_name(new)}: {'; '.join(text for _, text in aspects)}",
        column=column,
        rule_id=new.id,
    )


def _aspects(old: Rule, new: Rule) -> list[_Aspect]:
    """How the rule's meaning changed (same kind, same column), one entry per aspect."""
    found: list[_Aspect | None] = []
    if isinstance(old, AcceptedValues) and isinstance(new, AcceptedValues):
        found.append(_values_aspect("accepted values", old.values, new.values, accepting=True))
    elif isinstance(old, NotNull) and isinstance(new, NotNull):
        found.append(
            _values_aspect(
                "missing values", old.missing_values, new.missing_values, accepting=False
            )
        )
    elif isinstance(old, Pattern) and isinstance(new, Pattern):
        found.append(_text_aspect("pattern", old.pattern, new.pattern))
    elif isinstance(old, Range) and isinstance(new, Range):
        found.append(_bound_aspect(_lower(old), _lower(new), lower=True))
        found.append(_bound_aspect(_upper(old), _upper(new), lower=False))
    elif isinstance(old, Length) and isinstance(new, Length):
        found.append(_bound_aspect(_length(old.at_least), _length(new.at_least), lower=True))
        found.append(_bound_aspect(_length(old.at_most), _length(new.at_most), lower=False))
    elif isinstance(old, MetricThreshold) and isinstance(new, MetricThreshold):
        found.extend(
            (
                _text_aspect("metric", old.metric, new.metric),
                _text_aspect("unit", _unit(old.percent), _unit(new.percent)),
                _comparison_aspect(old.comparison, new.comparison),
                _values_aspect("valid values", old.valid_values, new.valid_values, accepting=True),
                _text_aspect("pattern", old.pattern, new.pattern),
                _values_aspect(
                    "missing values", old.missing_values, new.missing_values, accepting=False
                ),
            )
        )
    elif isinstance(old, RowCount) and isinstance(new, RowCount):
        found.append(_comparison_aspect(old.comparison, new.comparison))
    elif isinstance(old, SqlCheck) and isinstance(new, SqlCheck):
        found.append(_text_aspect("query", old.query, new.query))
        found.append(_comparison_aspect(old.comparison, new.comparison))
    return [aspect for aspect in found if aspect is not None]


def _unit(percent: bool) -> str:
    return "percent" if percent else "rows"


def _text_aspect(what: str, old: str | None, new: str | None) -> _Aspect | None:
    if old == new:
        return None
    return _Verdict.CHANGED, f"{what} {old!r} -> {new!r}"


def _values_aspect(
    what: str, old: Iterable[str], new: Iterable[str], *, accepting: bool
) -> _Aspect | None:
    """A set of values changed: accepted ones (more accept more) or missing ones (the reverse)."""
    before, after = set(old), set(new)
    removed, added = sorted(before - after), sorted(after - before)
    if not removed and not added:
        return None
    parts = [
        f"{label} [{', '.join(repr(v) for v in values)}]"
        for label, values in (("removed", removed), ("added", added))
        if values
    ]
    text = f"{what}: {', '.join(parts)}"
    if accepting and not (before and after):
        return _Verdict.CHANGED, text  # no list means the rule checks something else (a pattern)
    tightened = bool(removed) if accepting else bool(added)
    return (_Verdict.TIGHTENED if tightened else _Verdict.LOOSENED), text


# -- range bounds --------------------------------------------------------------------------------

_Bound = tuple[float | str, bool]
"""A range bound: its value and whether it is exclusive."""


def _order(a: float | str, b: float | str) -> int | None:
    """-1, 0 or 1 as ``a`` is below, equal to or above ``b``; None for a number and a text."""
    if isinstance(a, str) and isinstance(b, str):
        return (a > b) - (a < b)
    if not isinstance(a, str) and not isinstance(b, str):
        return (a > b) - (a < b)
    return None


def _stricter(a: _Bound, b: _Bound, *, lower: bool) -> bool | None:
    """Whether bound ``a`` excludes values ``b`` admits; None when they do not compare."""
    order = _order(a[0], b[0])
    if order is None:
        return None
    inwards = order if lower else -order
    return inwards > 0 or (inwards == 0 and a[1] and not b[1])


def _tightest(bounds: Sequence[_Bound], *, lower: bool) -> _Bound | None:
    best: _Bound | None = None
    for bound in bounds:
        if best is None or _stricter(bound, best, lower=lower):
            best = bound
    return best


def _length(characters: int | None) -> _Bound | None:
    """A length bound (inclusive), as a range bound."""
    return None if characters is None else (float(characters), False)


def _lower(rule: Range) -> _Bound | None:
    bounds = [(rule.greater_than, True), (rule.at_least, False)]
    return _tightest([(_text(v), excl) for v, excl in bounds if v is not None], lower=True)


def _upper(rule: Range) -> _Bound | None:
    bounds = [(rule.less_than, True), (rule.at_most, False)]
    return _tightest([(_text(v), excl) for v, excl in bounds if v is not None], lower=False)


def _text(value: float | str | dt.date) -> float | str:
    """A bound as a contract writes it (a day or an instant as ISO text)."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _value(value: float | str) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _bound_text(bound: _Bound | None, *, lower: bool) -> str:
    if bound is None:
        return "none"
    operator = (">" if lower else "<") + ("" if bound[1] else "=")
    return f"{operator} {_value(bound[0])}"


def _bound_aspect(old: _Bound | None, new: _Bound | None, *, lower: bool) -> _Aspect | None:
    if old == new:
        return None
    text = (
        f"{'lower' if lower else 'upper'} bound {_bound_text(old, lower=lower)} -> "
        f"{_bound_text(new, lower=lower)}"
    )
    if old is None:
        return _Verdict.TIGHTENED, text
    if new is None:
        return _Verdict.LOOSENED, text
    inwards, outwards = _stricter(new, old, lower=lower), _stricter(old, new, lower=lower)
    if inwards is None or outwards is None:
        return _Verdict.CHANGED, text
    if inwards:
        return _Verdict.TIGHTENED, text
    return (_Verdict.LOOSENED, text) if outwards else None


# -- comparisons ---------------------------------------------------------------------------------

_Interval = tuple[float, bool, float, bool]
"""Low, low included, high, high included."""


def _accepted(comparison: Comparison) -> tuple[_Interval, ...]:
    """The observed values a comparison accepts, as disjoint intervals (as ``holds`` judges)."""
    inf = math.inf
    value = comparison.value
    if isinstance(value, tuple):
        low, high = value
        if comparison.operator is Operator.BETWEEN:
            return ((low, True, high, True),)
        return ((-inf, False, low, False), (high, False, inf, False))
    return {
        Operator.EQUAL: ((value, True, value, True),),
        Operator.NOT_EQUAL: ((-inf, False, value, False), (value, False, inf, False)),
        Operator.GREATER: ((value, False, inf, False),),
        Operator.GREATER_OR_EQUAL: ((value, True, inf, False),),
        Operator.LESS: ((-inf, False, value, False),),
        Operator.LESS_OR_EQUAL: ((-inf, False, value, True),),
    }.get(comparison.operator, ())


def _within(inner: _Interval, outer: _Interval) -> bool:
    low, low_in, high, high_in = inner
    if low > high or (low == high and not (low_in and high_in)):
        return True  # empty
    o_low, o_low_in, o_high, o_high_in = outer
    low_ok = low > o_low or (low == o_low and (o_low_in or not low_in))
    high_ok = high < o_high or (high == o_high and (o_high_in or not high_in))
    return low_ok and high_ok


def _subset(inner: Sequence[_Interval], outer: Sequence[_Interval]) -> bool:
    return all(any(_within(i, o) for o in outer) for i in inner)


def _comparison_text(comparison: Comparison) -> str:
    value = comparison.value
    shown = (
        f"[{_value(value[0])}, {_value(value[1])}]" if isinstance(value, tuple) else _value(value)
    )
    return f"{comparison.operator.value} {shown}"


def _comparison_aspect(old: Comparison, new: Comparison) -> _Aspect | None:
    before, after = _accepted(old), _accepted(new)
    looser, tighter = _subset(before, after), _subset(after, before)
    if looser and tighter:
        return None
    text = f"{_comparison_text(old)} -> {_comparison_text(new)}"
    if looser:
        return _Verdict.LOOSENED, text
    return (_Verdict.TIGHTENED if tighter else _Verdict.CHANGED), text
