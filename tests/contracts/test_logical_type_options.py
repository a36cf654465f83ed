"""Every ``logicalTypeOptions`` key ODCS defines for the platform's logical types is enforced (a
rule) or refused by lint (a ``logical-type-option`` finding at the key): none silently ignored."""

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from platform_lib.contracts.loader import load_contract
from platform_lib.contracts.rules import Length, Pattern, Range
from tests.conftest import write_contract

OPTION_RULE = "logical-type-option"
ENFORCED: dict[tuple[str, str], type] = {
    ("string", "minLength"): Length,
    ("string", "maxLength"): Length,
    ("string", "pattern"): Pattern,
    **{
        (logical, bound): Range
        for logical in ("integer", "number", "date", "timestamp")
        for bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
    },
}
"""Options that become a rule of the column, by logical type."""
HELD_BY_THE_TYPE = {("timestamp", "timezone")}
"""Options the column's type itself states (a contradiction is refused)."""
PHYSICAL = {
    "string": "string",
    "integer": "int64",
    "number": "decimal(18,2)",
    "date": "date",
    "timestamp": "timestamp_tz",
    "boolean": "boolean",
}
EXAMPLES: dict[str, Any] = {
    "minLength": 1,
    "maxLength": 8,
    "pattern": "^[a-z]+$",
    "format": "email",
    "multipleOf": 5,
    "timezone": True,
    "defaultTimezone": "Europe/Paris",
}
FORMATS = {"string": "email", "integer": "i32", "number": "f64", "date": "yyyy-MM-dd"}
FORMATS["timestamp"] = "yyyy-MM-dd HH:mm:ssXXX"
BOUNDS = {
    "integer": 0,
    "number": 0.5,
    "date": "2024-01-01",
    "timestamp": "2024-01-01T00:00:00+01:00",
}


def standard_options() -> list[tuple[str, str]]:
    """(logical type, option) for every option the shipped ODCS schema defines for the logical
    types the platform stores."""
    schema = json.loads(
        resources.files("open_data_contract_standard").joinpath("schema.json").read_text()
    )
    found = []
    for branch in schema["$defs"]["SchemaBaseProperty"]["allOf"]:
        condition = json.dumps(branch.get("if", {}))
        options = branch.get("then", {}).get("properties", {}).get("logicalTypeOptions", {})
        for logical in PHYSICAL:
            if f'"const": "{logical}"' in condition:
                found += [(logical, key) for key in options.get("properties", {})]
    return found


def column_with(tmp_path: Path, logical: str, option: str, value: Any) -> Path:
    text = json.dumps({option: value})
    return write_contract(
        tmp_path,
        "shop/curated/things",
        "schema:\n  - name: things\n    physicalType: table\n    properties:\n"
        f"      - name: thing\n        logicalType: {logical}\n"
        f"        physicalType: '{PHYSICAL[logical]}'\n        logicalTypeOptions: {text}\n",
    )


def test_the_standard_defines_the_options_this_test_goes_through() -> None:
    assert len(standard_options()) == 28, standard_options()  # 4 + 5 + 7 + 6 + 6
    assert ("string", "minLength") in standard_options()


@pytest.mark.parametrize(("logical", "option"), standard_options())
def test_every_option_is_enforced_or_refused_by_lint(
    logical: str, option: str, tmp_path: Path
) -> None:
    value = BOUNDS[logical] if "imum" in option else EXAMPLES[option]
    if option == "format":
        value = FORMATS[logical]
    path = column_with(tmp_path, logical, option, value)
    load = load_contract(path)

    assert not load.standard_findings, [f.render() for f in load.findings]
    if (logical, option) in ENFORCED:
        assert load.contract is not None, [f.render() for f in load.findings]
        kinds = {type(rule) for rule in load.contract.rules}
        assert ENFORCED[logical, option] in kinds
    elif (logical, option) in HELD_BY_THE_TYPE:
        assert load.ok, [f.render() for f in load.findings]
    else:
        (finding,) = load.findings
        assert (finding.file, finding.line) == (path, 22)  # the options' line
        assert finding.rule_id == OPTION_RULE
        assert finding.field == f"schema[0].properties[0].logicalTypeOptions.{option}"
        assert "not enforced" in finding.message and finding.fix


@pytest.mark.parametrize(
    ("logical", "physical", "option", "value"),
    [
        ("timestamp", "timestamp", "timezone", True),
        ("timestamp", "timestamp_tz", "timezone", False),
        ("date", "date", "minimum", "2024-13-01"),
        ("timestamp", "timestamp_tz", "minimum", "2024-01-01 00:00:00"),
        ("timestamp", "timestamp", "maximum", "2024-01-01 00:00:00+01:00"),
    ],
)
def test_an_option_contradicting_the_column_is_a_finding(
    logical: str, physical: str, option: str, value: Any, tmp_path: Path
) -> None:
    path = write_contract(
        tmp_path,
        "shop/curated/things",
        "schema:\n  - name: things\n    physicalType: table\n    properties:\n"
        f"      - name: thing\n        logicalType: {logical}\n        physicalType: '{physical}'\n"
        f"        logicalTypeOptions: {json.dumps({option: value})}\n",
    )

    load = load_contract(path)

    assert load.contract is None
    assert [f.field for f in load.findings] == [
        f"schema[0].properties[0].logicalTypeOptions.{option}"
    ], [f.render() for f in load.findings]
