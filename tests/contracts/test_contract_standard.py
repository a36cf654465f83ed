"""Standard-level validation: the ODCS JSON schema and model, every error at its line."""

from pathlib import Path

import pytest

from platform_lib.contracts.findings import FindingLevel
from platform_lib.contracts.loader import load_contract
from platform_lib.contracts.odcs_versions import (
    SUPPORTED_API_VERSIONS,
    later_versions,
    odcs_json_schema,
)
from platform_lib.contracts.standard import (
    ODCS_MODEL,
    ODCS_SCHEMA,
    model_issues,
    schema_issues,
    validate_standard,
)
from platform_lib.contracts.yaml_source import (
    YAML_DUPLICATE_KEY,
    YAML_SYNTAX,
    parse_yaml,
    read_yaml,
)
from tests.contracts.conformance_corpus import (
    ConformanceContract,
    conformance_contracts,
    example_contracts,
)
from tests.contracts.conftest import BASE_CONTRACT, WriteContract, edit


@pytest.mark.parametrize("contract", conformance_contracts(), ids=lambda contract: contract.name)
def test_every_conformance_contract_is_valid_at_the_standard_level(
    contract: ConformanceContract,
) -> None:
    """Valid by the schema of its ``apiVersion``; a standard's example, possibly by a later one.

    Some of the standard's examples keep an older ``apiVersion`` while using later forms: at
    commit e6a1c66 three declare v3.0.2 and use v3.1.0's (the ``timestamp`` logical type, library
    rules by ``metric``, ``team`` as an object), which v3.0.2's own schema rejects. The platform
    reports them, and each finding names the version whose schema accepts the file.
    """
    findings = load_contract(contract.path).standard_findings
    if contract in example_contracts() and findings:
        data = read_yaml(contract.path).data
        assert data is not None
        accepting = [
            version
            for version in later_versions(data["apiVersion"])
            if validate_standard({**data, "apiVersion": version}) == []
        ]
        assert accepting, [f.render() for f in findings]
        assert all(f"declare apiVersion: {accepting[0]}" in f.fix for f in findings)
    else:
        assert [f.render() for f in findings] == []


def test_the_base_contract_is_valid_odcs() -> None:
    data = parse_yaml(BASE_CONTRACT, Path("base.odcs.yaml")).data
    assert data is not None
    assert validate_standard(data) == []


# (name, edits, rule id, line, field, words in the message or fix)
BROKEN = [
    (
        "unknown top-level field",
        [("status: active\n", "status: active\nstatuz: draft\n")],
        ODCS_SCHEMA,
        7,
        "statuz",
        "did you mean 'status'",
    ),
    (
        "misspelt property field",
        [("    required: true", "    requried: true")],
        ODCS_SCHEMA,
        33,
        "schema[0].properties[0].requried",
        "did you mean 'required'",
    ),
    (
        "wrong apiVersion",
        [("apiVersion: v3.1.0", "apiVersion: v9.0.0")],
        ODCS_SCHEMA,
        1,
        "apiVersion",
        "v3.1.0",
    ),
    (
        "wrong kind",
        [("kind: DataContract", "kind: Contract")],
        ODCS_SCHEMA,
        2,
        "kind",
        "did you mean 'DataContract'",
    ),
    (
        "missing id",
        [("id: payments.curated.transactions\n", "")],
        ODCS_SCHEMA,
        1,
        "(document)",
        "required field 'id'",
    ),
    (
        "missing version",
        [("version: 1.0.0\n", "")],
        ODCS_SCHEMA,
        1,
        "(document)",
        "required field 'version'",
    ),
    (
        "version read as a number",
        [("version: 1.0.0", "version: 1.0")],
        ODCS_SCHEMA,
        5,
        "version",
        "quote the value ('1.0')",
    ),
    (
        "required as a string",
        [("required: true", 'required: "yes"')],
        ODCS_SCHEMA,
        33,
        "schema[0].properties[0].required",
        "write true or false",
    ),
    (
        "unknown metric",
        [("metric: nullValues", "metric: nullValuez")],
        ODCS_SCHEMA,
        39,
        "schema[0].properties[1].quality[0].metric",
        "did you mean 'nullValues'",
    ),
    (
        "mustBeBetween with one element",
        [("mustBe: 0", "mustBeBetween: [1]")],
        ODCS_SCHEMA,
        40,
        "schema[0].properties[1].quality[0].mustBeBetween",
        "at least 2",
    ),
    (
        "two comparison operators",
        [("mustBe: 0", "mustBe: 0\n            mustBeLessThan: 3")],
        ODCS_SCHEMA,
        38,
        "schema[0].properties[1].quality[0]",
        "only one of them",
    ),
    (
        "no comparison operator",
        [("            mustBe: 0\n", "")],
        ODCS_SCHEMA,
        38,
        "schema[0].properties[1].quality[0]",
        "has none of: mustBe",
    ),
    (
        "SLA value of the wrong type",
        [("    value: 1\n", "    value: [1, 2]\n")],
        ODCS_SCHEMA,
        20,
        "slaProperties[0].value",
        "a string, a number, an integer, a boolean or null",
    ),
    (
        "schema object without a name",
        [("  - name: transactions\n    physicalType: table", "  - physicalType: table")],
        ODCS_SCHEMA,
        23,
        "schema[0]",
        "required field 'name'",
    ),
    (
        "sql rule without a query",
        [("        metric: rowCount\n", "        type: sql\n")],
        ODCS_SCHEMA,
        26,
        "schema[0].quality[0]",
        "required field 'query'",
    ),
    (
        "misspelt field in a team (an object or a list)",
        [("  name: payments\n", "  name: payments\n  memberz: []\n")],
        ODCS_SCHEMA,
        10,
        "team.memberz",
        "did you mean 'members'",
    ),
    (
        "unknown dimension",
        [("mustBe: 0", "mustBe: 0\n            dimension: completness")],
        ODCS_SCHEMA,
        41,
        "schema[0].properties[1].quality[0].dimension",
        "did you mean 'completeness'",
    ),
    (
        "duplicate key",
        [("status: active\n", "status: active\nstatus: draft\n")],
        YAML_DUPLICATE_KEY,
        7,
        "status",
        "first at line 6",
    ),
    (
        "YAML syntax error",
        [("name: Transactions", "name: Transactions: all")],
        YAML_SYNTAX,
        4,
        "(document)",
        "mapping values are not allowed",
    ),
]


@pytest.mark.parametrize(
    ("edits", "rule_id", "line", "field", "words"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_a_broken_contract_gives_one_finding_at_the_right_line(
    write_contract: WriteContract,
    edits: list[tuple[str, str]],
    rule_id: str,
    line: int,
    field: str,
    words: str,
) -> None:
    load = load_contract(write_contract(*edits))
    assert load.contract is None
    [finding] = load.findings
    assert (finding.rule_id, finding.level) == (rule_id, FindingLevel.STANDARD)
    assert (finding.line, finding.field) == (line, field)
    assert words in f"{finding.message} (fix: {finding.fix})"


@pytest.mark.parametrize(
    ("content", "line", "column", "words"),
    [
        ("- apiVersion: v3.1.0\n- kind: DataContract\n", 1, 1, "a list"),
        ("", 1, 1, "empty"),
        (edit(BASE_CONTRACT, "Transactions", "Transacción").encode("latin-1"), 4, 16, "UTF-8"),
    ],
    ids=["a YAML list", "an empty file", "not UTF-8"],
)
def test_a_file_that_is_not_a_yaml_mapping_gives_a_yaml_syntax_finding(
    write_contract: WriteContract, content: str | bytes, line: int, column: int, words: str
) -> None:
    load = load_contract(write_contract(text=content))
    [finding] = load.findings
    assert (finding.rule_id, finding.line, finding.column) == (YAML_SYNTAX, line, column)
    assert words in finding.message


def test_every_schema_error_is_reported_at_once(write_contract: WriteContract) -> None:
    load = load_contract(
        write_contract(
            ("kind: DataContract", "kind: Contract"),
            ("    required: true", "    requried: true"),
            ("metric: nullValues", "metric: nullValuez"),
        )
    )
    assert [(f.rule_id, f.line) for f in load.findings] == [
        (ODCS_SCHEMA, 2),
        (ODCS_SCHEMA, 33),
        (ODCS_SCHEMA, 39),
    ]


def test_a_duplicate_key_does_not_hide_schema_errors(write_contract: WriteContract) -> None:
    load = load_contract(
        write_contract(
            ("status: active\n", "status: active\nstatus: draft\n"),
            ("kind: DataContract", "kind: Contract"),
        )
    )
    assert [(f.rule_id, f.line) for f in load.findings] == [
        (ODCS_SCHEMA, 2),
        (YAML_DUPLICATE_KEY, 7),
    ]


def test_an_unknown_field_without_a_close_match_suggests_custom_properties() -> None:
    text = edit(BASE_CONTRACT, "status: active", "status: active\nzzz: 1")
    data = parse_yaml(text, Path("x")).data
    assert data is not None
    [issue] = schema_issues(data)
    assert issue.path == ("zzz",)
    assert "customProperties" in issue.fix


def test_a_field_valid_only_in_another_form_of_rule_is_named() -> None:
    text = edit(
        BASE_CONTRACT, "            mustBe: 0", "            mustBe: 0\n            query: x"
    )
    data = parse_yaml(text, Path("x")).data
    assert data is not None
    [issue] = schema_issues(data)
    assert issue.path == ("schema", 0, "properties", 1, "quality", 0, "query")
    assert "not allowed in this form" in issue.message


def test_validate_standard_reports_each_missing_required_field() -> None:
    issues = validate_standard({"kind": "DataContract"})
    assert [i.rule_id for i in issues] == [ODCS_SCHEMA] * 3
    assert {i.message.split("'")[1] for i in issues} == {"version", "apiVersion", "id"}


def test_model_errors_are_placed_at_document_fields_without_union_member_names() -> None:
    document = {
        "version": 1,
        "kind": "DataContract",
        "team": {"name": "payments", "members": [{"username": 3}]},
    }
    issues = model_issues(document)
    assert {i.rule_id for i in issues} == {ODCS_MODEL}
    assert {i.path for i in issues} == {("version",), ("team", "members", 0, "username")}
    assert all(i.level is FindingLevel.STANDARD for i in issues)


def _with_relationship(text: str, target: str) -> str:
    """``text`` whose first column declares a foreign key to ``target``."""
    return edit(
        text,
        "        required: true\n",
        f"        required: true\n        relationships:\n          - to: {target}\n",
    )


@pytest.mark.parametrize(
    ("api_version", "findings"),
    [("v3.1.0", ["schema[0].properties[0].relationships[0].to"]), ("v3.2.0", [])],
)
def test_a_relationship_target_is_checked_by_the_form_its_version_allows(
    write_contract: WriteContract, api_version: str, findings: list[str]
) -> None:
    """A three-part target (schema.table.column) is ODCS v3.2.0; v3.1.0 allows table.column."""
    text = edit(BASE_CONTRACT, "apiVersion: v3.1.0", f"apiVersion: {api_version}")
    load = load_contract(write_contract(text=_with_relationship(text, "ledger.accounts.id")))
    schema_findings = [f for f in load.standard_findings if f.rule_id == ODCS_SCHEMA]
    assert [f.field for f in schema_findings] == findings
    assert all(f.line == 35 for f in schema_findings)


def test_a_version_without_a_schema_is_one_finding_naming_the_versions_there_are(
    write_contract: WriteContract,
) -> None:
    load = load_contract(write_contract(("apiVersion: v3.1.0", "apiVersion: v2.2.2")))
    [finding] = load.findings
    assert (finding.rule_id, finding.level) == (ODCS_SCHEMA, FindingLevel.STANDARD)
    assert (finding.line, finding.field) == (1, "apiVersion")
    assert "v3.0.0, v3.0.1, v3.0.2, v3.1.0 and v3.2.0" in finding.message
    assert "v2" in finding.fix


def test_a_contract_using_a_later_version_is_told_the_version_that_accepts_it(
    write_contract: WriteContract,
) -> None:
    """The base contract uses v3.1.0 forms (a team object, library rules without ``rule``)."""
    load = load_contract(write_contract(("apiVersion: v3.1.0", "apiVersion: v3.0.2")))
    assert load.findings
    assert {f.rule_id for f in load.findings} == {ODCS_SCHEMA}
    assert all("declare apiVersion: v3.1.0" in f.fix for f in load.findings)


def test_each_supported_version_has_its_schema_in_the_installed_package() -> None:
    """v3.0.0 is read with the v3.0.1 schema: the patch release that only added fields."""
    for version in SUPPORTED_API_VERSIONS:
        schema = odcs_json_schema(version)
        expected = "v3.0.1" if version == "v3.0.0" else version
        assert schema["properties"]["apiVersion"]["default"] == expected


def test_a_v3_0_2_contract_is_valid_with_the_library_rules_of_its_version() -> None:
    """v3.0.2 names a library rule by ``rule`` (v3.1.0 by ``metric``) and has no team object."""
    text = edit(BASE_CONTRACT, "apiVersion: v3.1.0", "apiVersion: v3.0.2")
    text = edit(text, "team:\n  name: payments\n", "")
    text = edit(text, "- id: has_rows\n        metric: rowCount", "- rule: rowCount")
    text = edit(text, "- id: amount_not_null\n            metric: nullValues", "- rule: nullCheck")
    data = parse_yaml(text, Path("x")).data
    assert data is not None
    assert validate_standard(data) == []
