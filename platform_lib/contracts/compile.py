"""ODCS v3 document -> the platform's :class:`TableContract`, checking this platform's conventions.

The document is already valid ODCS (``standard.py`` checked it). Here the platform's stricter rules
apply, each reported as an :class:`Issue` with its rule id and the field it concerns:

- ``contract-location``: the file is ``contracts/<domain>/<layer>/<table>.odcs.yaml``;
- ``contract-id``: the id is ``<domain>.<layer>.<table>``;
- ``version-semver``: the version is ``MAJOR.MINOR.PATCH``;
- ``single-schema``: one schema object (one table) per contract;
- ``layer`` / ``access`` / ``quarantine-threshold``: the platform's ``customProperties``;
- ``owner``: a ``team`` with a name (the table's owners);
- ``column-type``: a supported ``physicalType`` consistent with the ``logicalType``;
- ``logical-type-option``: every ``logicalTypeOptions`` key is enforced (bounds, lengths,
  patterns; ``timezone`` as the physical type states it) and well formed, or refused;
- ``rule-id``: every quality rule has an id usable as a Dagster check name;
- ``duplicate-id``: rule ids (including generated ones) are unique;
- ``rule-column`` / ``metric-arguments`` / ``rule-type``: a rule the engine can run;
- ``sql-rule``: an SQL rule is one read-only SELECT;
- ``sla``: a freshness or latency SLA with a value and a known unit;
- ``server``: a ``local`` Delta server entry for the table;
- ``version-table``: major N >= 2 is published as the table ``<table>_v<N>``, major 1 without
  a suffix, so every major is its own table;
- ``deprecation-date``: ``customProperties`` ``deprecationDate`` is a date;
- ``purposes``: ``customProperties`` ``allowedPurposes`` is a list of purposes and
  ``readPurposes`` a list of ``{table, purpose, columns}`` (see ``contracts/access.py``);
- ``support-webhook``: a ``support`` entry with ``tool: webhook`` has an http(s) ``url``.
"""

import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb

from platform_lib.contracts.findings import FieldPath, Issue
from platform_lib.contracts.model import (
    DEFAULT_QUARANTINE_THRESHOLD,
    Access,
    ColumnContract,
    ReadPurpose,
    TableContract,
)
from platform_lib.contracts.rules import (
    CHECK_NAME_PATTERN,
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
    Severity,
    SqlCheck,
    TypeConforms,
    Unique,
)
from platform_lib.contracts.sql_rule_check import sql_rule_problem
from platform_lib.contracts.types import SUPPORTED_TYPES, ColumnType, parse_column_type
from platform_lib.conventions import NAME_PATTERN, Layer, TableKey
from platform_lib.errors import MeshError

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
COLUMN_PLACEHOLDER = "${column}"
_UNITS = {
    "d": dt.timedelta(days=1),
    "day": dt.timedelta(days=1),
    "days": dt.timedelta(days=1),
    "h": dt.timedelta(hours=1),
    "hr": dt.timedelta(hours=1),
    "hour": dt.timedelta(hours=1),
    "hours": dt.timedelta(hours=1),
    "m": dt.timedelta(minutes=1),
    "min": dt.timedelta(minutes=1),
    "minute": dt.timedelta(minutes=1),
    "minutes": dt.timedelta(minutes=1),
}
MESH_ONLY_RULES = frozenset(
    {"contract-location", "contract-id", "layer", "owner", "server", "access"}
)
"""Conventions that name and place a mesh table; an external contract need not follow them."""
EXTERNAL_DOMAIN = "external"
WEBHOOK_TOOL = "webhook"
"""The ``tool`` of a ``support`` entry whose ``url`` receives the table's alerts as JSON."""
_LOGICAL_ALIASES = {"integer": {"integer", "number"}, "number": {"number"}}
OPTION_RULE = "logical-type-option"
"""The finding for a ``logicalTypeOptions`` key the platform does not enforce, or a wrong one."""
_BOUNDS = {
    "exclusiveMinimum": "greater_than",
    "minimum": "at_least",
    "exclusiveMaximum": "less_than",
    "maximum": "at_most",
}
_LENGTHS = {"minLength": "at_least", "maxLength": "at_most"}
_DATE_BOUND = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAIVE_BOUND = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?")
_ZONED_BOUND = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)"
)
_BOUND_FORMS: dict[str, re.Pattern[str] | None] = {
    "integer": None,
    "number": None,
    "date": _DATE_BOUND,
    "timestamp": _NAIVE_BOUND,
}
"""The form of a range bound, by logical type (None: a number)."""
_BOUND_EXAMPLES = {
    _DATE_BOUND.pattern: 'an ISO date, e.g. "2024-01-31"',
    _NAIVE_BOUND.pattern: 'an ISO timestamp without offset, e.g. "2024-01-31 12:00:00"',
    _ZONED_BOUND.pattern: 'an ISO timestamp with its offset, e.g. "2024-01-31 12:00:00+01:00"',
}
_UNENFORCED_FIX = {
    "format": "remove it: text is read in one form per type (see the README's cast rules); "
    "state a string's form as a pattern",
    "multipleOf": "remove it, or check it with an sql quality rule",
    "defaultTimezone": "remove it: a naive timestamp is never given a zone; use physicalType "
    "timestamp_tz and give timestamps with their offset",
}


class _Compiler:
    """Walks one document, collecting columns, rules and issues."""

    def __init__(self, document: dict[str, Any], source: Path, external: bool) -> None:
        self.document = document
        self.source = source
        self.external = external
        self.issues: list[Issue] = []
        self.rules: list[Rule] = []

    def issue(self, path: FieldPath, rule_id: str, message: str, fix: str) -> None:
        if self.external and rule_id in MESH_ONLY_RULES:
            return
        self.issues.append(Issue(path=path, rule_id=rule_id, message=message, fix=fix))

    def compile(self) -> TableContract | None:
        doc = self.document
        schemas = doc.get("schema") or []
        if len(schemas) != 1:
            self.issue(
                ("schema",),
                "single-schema",
                f"the contract has {len(schemas)} schema objects",
                "describe exactly one table per contract (one file per table)",
            )
            return None
        table = schemas[0]
        key = self._key(table)
        self._check_version()
        owners = self._owners()
        columns = [self._column(i, p) for i, p in enumerate(table.get("properties") or [])]
        self._table_rules(table.get("quality") or [], ("schema", 0, "quality"), None)
        self._check_duplicate_ids()
        freshness, freshness_field = self._freshness({c.name for c in columns if c})
        server_path = self._delta_server_path(key)
        access = self._access()
        threshold = self._threshold()
        deprecation = self._deprecation_date()
        allowed_purposes = self._allowed_purposes()
        read_purposes = self._read_purposes()
        webhooks = self._alert_webhooks()
        self._check_major_table(key)
        if key is None or any(c is None for c in columns) or self.issues:
            return None
        description = doc.get("description") or {}
        return TableContract(
            id=str(doc["id"]),
            version=str(doc["version"]),
            key=key,
            source=self.source,
            name=str(doc.get("name") or ""),
            description=str(description.get("purpose") or table.get("description") or ""),
            status=str(doc.get("status") or "active"),
            owners=owners,
            columns=tuple(c for c in columns if c is not None),
            rules=tuple(self.rules),
            access=access,
            quarantine_threshold=threshold,
            freshness=freshness,
            freshness_field=freshness_field,
            server_path=server_path,
            deprecation_date=deprecation,
            allowed_purposes=allowed_purposes,
            read_purposes=read_purposes,
            alert_webhooks=webhooks,
        )

    # -- identity -------------------------------------------------------------------------------

    def _custom(self, name: str) -> tuple[Any, FieldPath] | None:
        for index, entry in enumerate(self.document.get("customProperties") or []):
            if entry.get("property") == name:
                return entry.get("value"), ("customProperties", index, "value")
        return None

    def _key(self, table: dict[str, Any]) -> TableKey | None:
        if self.external:
            return _external_key(self.document, table)
        domain = self.document.get("domain")
        layer_entry = self._custom("layer")
        table_name = table.get("name")
        if layer_entry is None or str(layer_entry[0]) not in {layer.value for layer in Layer}:
            self.issue(
                layer_entry[1] if layer_entry else ("customProperties",),
                "layer",
                f"layer is {layer_entry[0]!r}" if layer_entry else "the contract has no layer",
                "add a customProperties entry {property: layer, value: raw|curated|product}",
            )
            return None
        for value, path, what in (
            (domain, ("domain",), "domain"),
            (table_name, ("schema", 0, "name"), "table name"),
        ):
            if not isinstance(value, str) or not NAME_PATTERN.match(value):
                self.issue(
                    path,
                    "contract-id",
                    f"{what} {value!r} is not a mesh name",
                    f"set {what} to lower-case letters, digits and underscores",
                )
                return None
        key = TableKey(domain=str(domain), layer=Layer(layer_entry[0]), table=str(table_name))
        expected_id = f"{key.domain}.{key.layer.value}.{key.table}"
        if self.document.get("id") != expected_id:
            self.issue(
                ("id",),
                "contract-id",
                f"id is {self.document.get('id')!r}, expected {expected_id!r}",
                f"set `id: {expected_id}` (domain.layer.table of the table it describes)",
            )
        self._check_location(key)
        return key

    def _check_location(self, key: TableKey) -> None:
        parts = self.source.resolve().parts
        if "contracts" not in parts:
            return
        expected = ("contracts", key.domain, key.layer.value, f"{key.table}.odcs.yaml")
        if parts[-4:] != expected:
            self.issue(
                ("id",),
                "contract-location",
                f"the contract of {key} is at {self.source}",
                f"move it to {'/'.join(expected)}",
            )

    def _check_version(self) -> None:
        version = str(self.document.get("version"))
        if not SEMVER.match(version):
            self.issue(
                ("version",),
                "version-semver",
                f"version {version!r} is not semantic (MAJOR.MINOR.PATCH)",
                "write the version as three numbers, e.g. 1.0.0",
            )

    def _owners(self) -> tuple[str, ...]:
        team = self.document.get("team")
        name = team.get("name") if isinstance(team, dict) else None
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            self.issue(
                ("team",),
                "owner",
                "the contract names no owning team" if not name else f"team name {name!r}",
                "add `team: {name: <team>}` with a lower-case team name",
            )
            return ()
        members = team.get("members") or [] if isinstance(team, dict) else []
        emails = [m["username"] for m in members if "@" in str(m.get("username", ""))]
        return (f"team:{name}", *emails)

    def _alert_webhooks(self) -> tuple[str, ...]:
        urls: list[str] = []
        for index, entry in enumerate(self.document.get("support") or []):
            if str(entry.get("tool") or "").lower() != WEBHOOK_TOOL:
                continue
            url = str(entry.get("url") or "")
            if not url.startswith(("http://", "https://")):
                self.issue(
                    ("support", index, "url"),
                    "support-webhook",
                    f"the webhook channel {entry.get('channel')!r} has no http(s) url",
                    "give the entry `url: https://...`, the address alerts are posted to",
                )
                continue
            urls.append(url)
        return tuple(urls)

    def _access(self) -> Access:
        entry = self._custom("access")
        if entry is None:
            return Access.PRIVATE
        if entry[0] not in {a.value for a in Access}:
            self.issue(
                entry[1],
                "access",
                f"access {entry[0]!r} is unknown",
                "use public, internal or private",
            )
            return Access.PRIVATE
        return Access(entry[0])

    def _deprecation_date(self) -> dt.date | None:
        entry = self._custom("deprecationDate")
        if entry is None:
            return None
        try:
            return dt.date.fromisoformat(str(entry[0]))
        except ValueError:
            self.issue(
                entry[1],
                "deprecation-date",
                f"deprecationDate {entry[0]!r} is not a date",
                'write it as "YYYY-MM-DD" (quoted)',
            )
            return None

    def _allowed_purposes(self) -> tuple[str, ...]:
        entry = self._custom("allowedPurposes")
        if entry is None:
            return ()
        value, path = entry
        if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
            self.issue(
                path,
                "purposes",
                f"allowedPurposes {value!r} is not a list of purposes",
                "list the purposes as text, e.g. [fraud detection]",
            )
            return ()
        return tuple(value)

    def _read_purposes(self) -> tuple[ReadPurpose, ...]:
        entry = self._custom("readPurposes")
        if entry is None:
            return ()
        value, path = entry
        if not isinstance(value, list):
            value = [value]
        purposes = []
        for index, item in enumerate(value):
            purpose = self._read_purpose(item, (*path, index))
            if purpose is not None:
                purposes.append(purpose)
        return tuple(purposes)

    def _read_purpose(self, item: Any, path: FieldPath) -> ReadPurpose | None:
        fix = "write {table: domain/layer/table, purpose: ..., columns: [column, ...]}"
        if not isinstance(item, dict):
            self.issue(path, "purposes", f"readPurposes entry {item!r} is not a mapping", fix)
            return None
        purpose, columns = item.get("purpose"), item.get("columns")
        try:
            table = TableKey.parse(str(item.get("table") or ""))
        except (MeshError, ValueError) as error:
            self.issue((*path, "table"), "purposes", f"readPurposes table: {error}", fix)
            return None
        if not isinstance(purpose, str) or not purpose:
            self.issue((*path, "purpose"), "purposes", "readPurposes entry has no purpose", fix)
            return None
        if (
            not isinstance(columns, list)
            or not columns
            or not all(isinstance(c, str) for c in columns)
        ):
            self.issue((*path, "columns"), "purposes", "readPurposes entry lists no columns", fix)
            return None
        return ReadPurpose(table=table, purpose=purpose, columns=tuple(columns), field=path)

    def _check_major_table(self, key: TableKey | None) -> None:
        version = str(self.document.get("version"))
        if key is None or self.external or not SEMVER.match(version):
            return
        major = int(version.split(".", 1)[0])
        if key.major != major:
            expected = key.for_major(major).table
            self.issue(
                ("version",),
                "version-table",
                f"version {version} is major {major}, but table {key.table!r} publishes major "
                f"{key.major}",
                f"a new major is a new table beside the old one: name it {expected!r} "
                f"(contracts/{key.domain}/{key.layer.value}/{expected}.odcs.yaml)",
            )

    def _threshold(self) -> float:
        entry = self._custom("quarantineThreshold")
        if entry is None:
            return DEFAULT_QUARANTINE_THRESHOLD
        value = entry[0]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            self.issue(
                entry[1],
                "quarantine-threshold",
                f"quarantineThreshold {value!r} is not a share between 0 and 1",
                "set it to the largest share of rejected rows still published, e.g. 0.1",
            )
            return DEFAULT_QUARANTINE_THRESHOLD
        return float(value)

    # -- columns --------------------------------------------------------------------------------

    def _column(self, index: int, prop: dict[str, Any]) -> ColumnContract | None:
        path: FieldPath = ("schema", 0, "properties", index)
        name = prop.get("name")
        if not isinstance(name, str) or not name:
            self.issue(path, "column-type", "a property has no name", "give every property a name")
            return None
        if not re.match(CHECK_NAME_PATTERN, name):
            self.issue(
                (*path, "name"),
                "column-name",
                f"column name {name!r} has characters other than letters, digits and '_' (it "
                "names the column's checks)",
                "rename the column with letters, digits and underscores only",
            )
            return None
        column_type = parse_column_type(str(prop.get("physicalType") or ""))
        if column_type is None:
            self.issue(
                (*path, "physicalType"),
                "column-type",
                f"column {name!r} has physicalType {prop.get('physicalType')!r}",
                f"use one of: {', '.join(SUPPORTED_TYPES)}",
            )
            return None
        logical = prop.get("logicalType")
        if logical and logical not in _LOGICAL_ALIASES.get(
            column_type.logical, {column_type.logical}
        ):
            self.issue(
                (*path, "logicalType"),
                "column-type",
                f"column {name!r}: logicalType {logical!r} does not fit physicalType "
                f"{column_type.name!r}",
                f"use logicalType {column_type.logical!r}",
            )
        self.rules.append(
            TypeConforms(
                id=f"{name}_type",
                column=name,
                type_name=column_type.name,
                description=f"{name} is a {column_type.name}",
                field=(*path, "physicalType"),
            )
        )
        required = bool(prop.get("required")) or bool(prop.get("primaryKey"))
        unique = bool(prop.get("unique")) or bool(prop.get("primaryKey"))
        if required:
            self.rules.append(
                NotNull(
                    id=f"{name}_required",
                    column=name,
                    description=f"{name} is required",
                    field=(*path, "required"),
                )
            )
        if unique:
            self.rules.append(
                Unique(
                    id=f"{name}_unique",
                    column=name,
                    description=f"{name} is unique",
                    field=(*path, "unique"),
                )
            )
        self._type_options(
            name, column_type, prop.get("logicalTypeOptions") or {}, (*path, "logicalTypeOptions")
        )
        self._table_rules(prop.get("quality") or [], (*path, "quality"), name)
        return ColumnContract(
            name=name,
            type_name=column_type.name,
            logical_type=str(logical or column_type.logical),
            required=required,
            unique=unique,
            primary_key=bool(prop.get("primaryKey")),
            partitioned=bool(prop.get("partitioned")),
            classification=prop.get("classification"),
            description=str(prop.get("description") or ""),
            field=path,
        )

    def _type_options(
        self, column: str, column_type: ColumnType, options: Any, path: FieldPath
    ) -> None:
        """The column's ``logicalTypeOptions`` as rules; any option the platform does not
        enforce is a ``logical-type-option`` finding, never silently ignored."""
        if not isinstance(options, dict):
            self.issue(
                path,
                OPTION_RULE,
                f"column {column!r}: logicalTypeOptions is not a mapping",
                "write the options as a mapping, e.g. {minimum: 0}",
            )
            return
        bounds: dict[str, Any] = {}
        lengths: dict[str, int] = {}
        for key, value in options.items():
            where: FieldPath = (*path, key)
            if key in _BOUNDS and column_type.logical in _BOUND_FORMS:
                if self._valid_bound(column, column_type, value, where):
                    bounds[_BOUNDS[key]] = value
            elif key in _LENGTHS and column_type.name == "string":
                if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                    lengths[_LENGTHS[key]] = value
                else:
                    self.issue(
                        where,
                        OPTION_RULE,
                        f"column {column!r}: {key} {value!r} is not a count of characters",
                        f"write {key} as a whole number, 0 or more",
                    )
            elif key == "pattern":
                self._pattern_option(column, value, where)
            elif key == "timezone" and column_type.logical == "timestamp":
                self._timezone_option(column, column_type, value, where)
            else:
                self.issue(
                    where,
                    OPTION_RULE,
                    f"column {column!r}: logicalTypeOptions.{key} is not enforced by the "
                    f"platform (for a {column_type.name} column)",
                    _UNENFORCED_FIX.get(key, "remove it"),
                )
        if bounds:
            self.rules.append(
                Range(
                    id=f"{column}_range",
                    column=column,
                    field=path,
                    description=f"{column} within {options}",
                    **bounds,
                )
            )
        if lengths:
            self.rules.append(
                Length(
                    id=f"{column}_length",
                    column=column,
                    field=path,
                    description=f"{column} has {_length_text(lengths)} characters",
                    at_least=lengths.get("at_least"),
                    at_most=lengths.get("at_most"),
                )
            )

    def _valid_bound(
        self, column: str, column_type: ColumnType, value: Any, where: FieldPath
    ) -> bool:
        """Whether ``value`` is a bound of the column's kind (else a finding)."""
        form = _BOUND_FORMS[column_type.logical]
        if column_type.name == "timestamp_tz":
            form = _ZONED_BOUND
        if form is None:
            valid = isinstance(value, int | float) and not isinstance(value, bool)
            expected = "a number"
        else:
            valid = isinstance(value, str) and form.fullmatch(value) is not None
            valid = valid and _iso_value(str(value), column_type.logical)
            expected = _BOUND_EXAMPLES[form.pattern]
        if not valid:
            self.issue(
                where,
                OPTION_RULE,
                f"column {column!r}: bound {value!r} is not {expected} (a {column_type.name} "
                "bound)",
                f"write the bound as {expected}",
            )
        return valid

    def _pattern_option(self, column: str, pattern: Any, where: FieldPath) -> None:
        if not isinstance(pattern, str) or not pattern:
            self.issue(
                where,
                OPTION_RULE,
                f"column {column!r}: pattern {pattern!r} is no regular expression (an empty "
                "one matches only empty text)",
                "write the regular expression the values match, or remove it",
            )
            return
        if not _valid_regex(pattern):
            self.issue(
                where,
                "metric-arguments",
                f"column {column!r}: pattern {pattern!r} is not a valid regular expression",
                "fix the regular expression",
            )
            return
        self.rules.append(
            Pattern(
                id=f"{column}_pattern",
                column=column,
                pattern=pattern,
                field=where,
                description=f"{column} matches its pattern",
            )
        )

    def _timezone_option(
        self, column: str, column_type: ColumnType, value: Any, where: FieldPath
    ) -> None:
        """``timezone`` states what the physical type holds: true for ``timestamp_tz``."""
        zoned = column_type.name == "timestamp_tz"
        if value is not zoned:
            self.issue(
                where,
                OPTION_RULE,
                f"column {column!r}: timezone {value!r} contradicts physicalType "
                f"{column_type.name!r}, which holds {'zoned' if zoned else 'naive'} timestamps",
                f"write timezone: {str(zoned).lower()}, or use physicalType "
                f"{'timestamp' if zoned else 'timestamp_tz'}",
            )

    # -- quality rules --------------------------------------------------------------------------

    def _table_rules(self, entries: list[Any], path: FieldPath, column: str | None) -> None:
        for index, entry in enumerate(entries):
            rule = self._quality_rule(entry, (*path, index), column)
            if rule is not None:
                self.rules.append(rule)

    def _quality_rule(self, q: dict[str, Any], path: FieldPath, column: str | None) -> Rule | None:
        kind = q.get("type") or ("library" if q.get("metric") or q.get("rule") else None)
        if kind == "text":
            return None
        if kind not in {"library", "sql"}:
            self.issue(
                path,
                "rule-type",
                f"quality rules of type {kind!r} are not enforced here",
                "express the rule as a library metric or an sql rule",
            )
            return None
        rule_id = q.get("id")
        if not isinstance(rule_id, str) or not re.match(CHECK_NAME_PATTERN, rule_id):
            self.issue(
                (*path, "id") if rule_id else path,
                "rule-id",
                "the rule has no id"
                if not rule_id
                else f"rule id {rule_id!r} is not a Dagster check name",
                "give it an id of letters, digits and underscores",
            )
            return None
        comparison = _comparison(q)
        if comparison is None:
            self.issue(
                path,
                "metric-arguments",
                "the rule's mustBe... value is not a number (or a pair of numbers)",
                "compare the metric with a number, e.g. mustBe: 0",
            )
            return None
        common: dict[str, Any] = {
            "id": rule_id,
            "description": str(q.get("description") or q.get("name") or ""),
            "severity": _severity(q.get("severity")),
            "field": path,
        }
        if kind == "sql":
            return self._sql_rule(q, path, column, comparison, common)
        metric = q.get("metric") or q.get("rule")
        arguments = q.get("arguments") or {}
        for name in ("validValues", "missingValues"):
            if name in arguments and not isinstance(arguments[name], list):
                self.issue(
                    (*path, "arguments", name),
                    "metric-arguments",
                    f"arguments.{name} is {arguments[name]!r}, not a list",
                    f"write {name} as a list, e.g. [a, b]",
                )
                return None
        if metric == "rowCount":
            return RowCount(comparison=comparison, **common)
        if column is None:
            self.issue(
                path,
                "rule-column",
                f"metric {metric} at table level names no column",
                "move the rule under the quality of the property it checks",
            )
            return None
        percent = str(q.get("unit") or "").lower() in {"percent", "%"}
        quarantines = comparison.allows_none and not percent
        if metric == "nullValues":
            if quarantines:
                return NotNull(column=column, **common)
            return MetricThreshold(
                metric=metric, column=column, comparison=comparison, percent=percent, **common
            )
        if metric == "missingValues":
            missing = tuple(str(v) for v in arguments.get("missingValues") or ("",))
            if quarantines:
                return NotNull(column=column, missing_values=missing, **common)
            return MetricThreshold(
                metric=metric,
                column=column,
                comparison=comparison,
                percent=percent,
                missing_values=missing,
                **common,
            )
        if metric == "duplicateValues":
            if quarantines:
                return Unique(column=column, **common)
            return MetricThreshold(
                metric=metric, column=column, comparison=comparison, percent=percent, **common
            )
        if metric == "invalidValues":
            return self._invalid_values(arguments, path, column, comparison, percent, common)
        self.issue(
            path,
            "metric-arguments",
            f"metric {metric!r} is unknown",
            "use nullValues, missingValues, invalidValues, duplicateValues or rowCount",
        )
        return None

    def _invalid_values(
        self,
        arguments: dict[str, Any],
        path: FieldPath,
        column: str,
        comparison: Comparison,
        percent: bool,
        common: dict[str, Any],
    ) -> Rule | None:
        valid = arguments.get("validValues")
        pattern = arguments.get("pattern")
        booleans = [v for v in valid or () if isinstance(v, bool)]
        if booleans:
            self.issue(
                (*path, "arguments", "validValues"),
                "metric-arguments",
                f"validValues holds the boolean(s) {booleans}: YAML reads unquoted NO, yes, on "
                "or off as booleans",
                'quote the values, e.g. [SE, "NO", DK]',
            )
            return None
        if not valid and not pattern:
            self.issue(
                (*path, "arguments"),
                "metric-arguments",
                "invalidValues needs arguments.validValues or arguments.pattern",
                "list the valid values, or give a regular expression",
            )
            return None
        if pattern and not _valid_regex(str(pattern)):
            self.issue(
                (*path, "arguments", "pattern"),
                "metric-arguments",
                f"pattern {pattern!r} is not a valid regular expression",
                "fix the regular expression",
            )
            return None
        values = tuple(str(v) for v in valid or ())
        if comparison.allows_none and not percent:
            if values:
                return AcceptedValues(column=column, values=values, **common)
            return Pattern(column=column, pattern=str(pattern), **common)
        return MetricThreshold(
            metric="invalidValues",
            column=column,
            comparison=comparison,
            percent=percent,
            valid_values=values,
            pattern=str(pattern) if pattern else None,
            **common,
        )

    def _sql_rule(
        self,
        q: dict[str, Any],
        path: FieldPath,
        column: str | None,
        comparison: Comparison,
        common: dict[str, Any],
    ) -> Rule | None:
        query = str(q.get("query") or "")
        if column is not None:
            query = query.replace(COLUMN_PLACEHOLDER, '"' + column.replace('"', '""') + '"')
        problem = sql_rule_problem(query)
        if problem:
            self.issue(
                (*path, "query"),
                "sql-rule",
                problem,
                "write one read-only SELECT over ${table} returning one value",
            )
            return None
        return SqlCheck(query=query, comparison=comparison, **common)

    def _check_duplicate_ids(self) -> None:
        seen: dict[str, FieldPath] = {}
        for rule in self.rules:
            if rule.id in seen:
                self.issue(
                    rule.field,
                    "duplicate-id",
                    f"rule id {rule.id!r} is used twice (also at {seen[rule.id]})",
                    "give each rule its own id (ids <column>_type, _required, _unique, "
                    "_range, _length and _pattern are generated)",
                )
            seen.setdefault(rule.id, rule.field)

    # -- SLA and servers ------------------------------------------------------------------------

    def _freshness(self, columns: set[str]) -> tuple[dt.timedelta | None, FieldPath]:
        for index, sla in enumerate(self.document.get("slaProperties") or []):
            if sla.get("property") not in {"freshness", "latency"}:
                continue
            path: FieldPath = ("slaProperties", index)
            value, unit = sla.get("value"), str(sla.get("unit") or "d").lower()
            if isinstance(value, bool) or not isinstance(value, int | float) or unit not in _UNITS:
                self.issue(
                    path,
                    "sla",
                    f"{sla.get('property')} {value!r} {unit!r} is not a duration",
                    "give a number and a unit (d, h or m)",
                )
                return None, path
            element = sla.get("element")
            if element and str(element).split(".")[-1] not in columns:
                self.issue(
                    (*path, "element"),
                    "rule-column",
                    f"SLA element {element!r} names no column of the table",
                    "name a column as <table>.<column>",
                )
            return value * _UNITS[unit], path
        return None, ()

    def _delta_server_path(self, key: TableKey | None) -> str | None:
        """The ``path`` of the contract's local Delta server entry."""
        for server in self.document.get("servers") or []:
            if server.get("type") == "local" and server.get("format") == "delta":
                return str(server.get("path") or "") or None
        self.issue(
            ("servers",),
            "server",
            "the contract has no local Delta server entry",
            f"add `servers: [{{server: local, type: local, format: delta, path: {key}}}]`",
        )
        return None


def _external_key(document: dict[str, Any], table: dict[str, Any]) -> TableKey:
    """A stand-in key for a table outside the mesh, from its domain and name where usable."""

    def name(value: Any, default: str) -> str:
        text = re.sub(r"[^a-z0-9_]+", "_", str(value or "").lower()).strip("_")
        return text if text and text[0].isalpha() else default

    return TableKey(
        domain=name(document.get("domain"), EXTERNAL_DOMAIN),
        layer=Layer.PRODUCT,
        table=name(table.get("name"), "table"),
    )


def _iso_value(text: str, logical: str) -> bool:
    """Whether ``text`` (of the bound's form) names a real day or instant."""
    try:
        if logical == "date":
            dt.date.fromisoformat(text)
        elif logical == "timestamp":
            dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _length_text(lengths: dict[str, int]) -> str:
    low, high = lengths.get("at_least"), lengths.get("at_most")
    if low is not None and high is not None:
        return f"{low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _comparison(q: dict[str, Any]) -> Comparison | None:
    for operator in Operator:
        if operator.value in q:
            value = q[operator.value]
            if isinstance(value, list) and len(value) == 2:
                return Comparison(operator=operator, value=(float(value[0]), float(value[1])))
            if isinstance(value, int | float) and not isinstance(value, bool):
                return Comparison(operator=operator, value=float(value))
    return None


def _severity(value: Any) -> Severity:
    text = str(value or "").lower()
    return Severity(text) if text in {s.value for s in Severity} else Severity.WARNING


def _valid_regex(pattern: str) -> bool:
    try:
        duckdb.execute("SELECT regexp_matches('', $p)", {"p": pattern}).fetchall()
    except duckdb.Error:
        return False
    return True


def compile_contract(
    document: dict[str, Any], source: Path, *, external: bool = False
) -> tuple[TableContract | None, list[Issue]]:
    """Compile a standard-valid ODCS document into the platform's contract.

    Args:
        document: The contract, already valid ODCS.
        source: Its file.
        external: The table is outside the mesh: skip the conventions in ``MESH_ONLY_RULES``.

    Returns:
        The contract (None when a convention error prevents it) and every convention issue.
    """
    compiler = _Compiler(document, source, external)
    contract = compiler.compile()
    return contract, compiler.issues
