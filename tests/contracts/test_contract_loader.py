"""The contract loader: YAML, then the standard, then the platform's conventions, all placed."""

from pathlib import Path

import pytest

from platform_lib.cache import CACHE_SWITCH
from platform_lib.contracts.findings import Finding, FindingLevel, Issue
from platform_lib.contracts.loader import (
    ContractLoad,
    contract_files,
    forget_loaded_contracts,
    load_contract,
    load_contracts,
    place_issue,
)
from platform_lib.contracts.yaml_source import YAML_SYNTAX, Position
from platform_lib.conventions import Layer, TableKey
from tests.contracts.conftest import BASE_CONTRACT, CONTRACT_PATH, WriteContract


def test_the_base_contract_loads_into_the_platforms_contract(write_contract: WriteContract) -> None:
    path = write_contract()
    load = load_contract(path)
    assert load.ok
    assert load.findings == ()
    assert load.contract is not None
    assert load.contract.key == TableKey(
        domain="payments", layer=Layer.CURATED, table="transactions"
    )
    assert load.contract.column_names == ("transaction_id", "amount")
    assert load.contract.source == path


# (name, edits, rule id, line, field)
CONVENTION_BREAKS = [
    (
        "id not domain.layer.table",
        [("id: payments.curated.transactions", "id: payments.curated.orders")],
        "contract-id",
        3,
        "id",
    ),
    (
        "unknown layer",
        [("value: curated", "value: silver")],
        "layer",
        17,
        "customProperties[0].value",
    ),
    (
        "unsupported column type",
        [("physicalType: decimal(18,2)", "physicalType: blob")],
        "column-type",
        36,
        "schema[0].properties[1].physicalType",
    ),
    (
        "rule id that is no check name",
        [("id: has_rows", "id: has-rows")],
        "rule-id",
        26,
        "schema[0].quality[0].id",
    ),
    (
        "rule id used twice",
        [("id: amount_not_null", "id: has_rows")],
        "duplicate-id",
        26,
        "schema[0].quality[0]",
    ),
    (
        "sql rule that writes",
        [
            (
                "        metric: rowCount\n        mustBeGreaterThan: 0\n",
                "        type: sql\n        query: DELETE FROM ${table}\n        mustBe: 0\n",
            )
        ],
        "sql-rule",
        28,
        "schema[0].quality[0].query",
    ),
    (
        "no owning team",
        [("  name: payments\n", "  description: the payments team\n")],
        "owner",
        8,
        "team",
    ),
    (
        "invalid regular expression in logicalTypeOptions",
        [
            (
                "        required: true\n",
                "        required: true\n        logicalTypeOptions:\n          pattern: '(['\n",
            )
        ],
        "metric-arguments",
        35,
        "schema[0].properties[0].logicalTypeOptions.pattern",
    ),
    (
        "version not MAJOR.MINOR.PATCH",
        [("version: 1.0.0", "version: '1.0'")],
        "version-semver",
        5,
        "version",
    ),
]


@pytest.mark.parametrize(
    ("edits", "rule_id", "line", "field"),
    [case[1:] for case in CONVENTION_BREAKS],
    ids=[case[0] for case in CONVENTION_BREAKS],
)
def test_a_convention_break_is_a_convention_finding_at_the_right_line(
    write_contract: WriteContract,
    edits: list[tuple[str, str]],
    rule_id: str,
    line: int,
    field: str,
) -> None:
    load = load_contract(write_contract(*edits))
    assert load.standard_findings == ()
    assert [(f.rule_id, f.line, f.field) for f in load.convention_findings] == [
        (rule_id, line, field)
    ]
    assert load.contract is None
    assert not load.ok


def test_a_contract_in_the_wrong_place_is_a_contract_location_finding(
    write_contract: WriteContract,
) -> None:
    path = write_contract(relative=Path("contracts", "payments", "curated", "orders.odcs.yaml"))
    load = load_contract(path)
    [finding] = load.findings
    assert (finding.rule_id, finding.level, finding.line) == (
        "contract-location",
        FindingLevel.CONVENTION,
        3,
    )
    assert "contracts/payments/curated/transactions.odcs.yaml" in finding.fix


def test_conventions_are_not_checked_when_the_file_is_not_valid_odcs(
    write_contract: WriteContract,
) -> None:
    load = load_contract(
        write_contract(("kind: DataContract", "kind: Contract"), ("value: curated", "value: x"))
    )
    assert [f.rule_id for f in load.findings] == ["odcs-schema"]
    assert load.convention_findings == ()
    assert load.contract is None


def test_an_issue_is_placed_at_its_field_or_its_nearest_placed_ancestor() -> None:
    positions = {(): Position(1, 1), ("schema",): Position(5, 1), ("schema", 0): Position(6, 5)}
    source = Path("c.odcs.yaml")

    def placed(path: tuple[str | int, ...]) -> tuple[int, int]:
        finding = place_issue(
            Issue(path=path, rule_id="r", message="m", fix="f"), source, positions
        )
        return finding.line, finding.column

    assert placed(("schema", 0)) == (6, 5)
    assert placed(("schema", 0, "properties", 3, "name")) == (6, 5)
    assert placed(("servers",)) == (1, 1)
    assert place_issue(Issue(path=("x",), rule_id="r", message="m", fix="f"), source, {}).line == 1


def test_load_contracts_takes_files_and_folders_and_never_raises(tmp_path: Path) -> None:
    (tmp_path / "b" / "deep").mkdir(parents=True)
    for name in ("b/deep/z.odcs.yaml", "b/a.odcs.yaml", "b/notes.yaml", "single.yaml"):
        (tmp_path / name).write_text(BASE_CONTRACT)
    missing = tmp_path / "missing.odcs.yaml"
    paths = [tmp_path / "single.yaml", tmp_path / "b", missing, tmp_path / "b" / "a.odcs.yaml"]
    assert contract_files(paths) == [
        tmp_path / "single.yaml",
        tmp_path / "b" / "a.odcs.yaml",
        tmp_path / "b" / "deep" / "z.odcs.yaml",
        missing,
    ]
    loads = load_contracts(paths)
    assert [load.source for load in loads] == contract_files(paths)
    assert [f.rule_id for f in loads[-1].findings] == [YAML_SYNTAX]


def test_contract_load_splits_findings_by_level() -> None:
    def finding(rule_id: str, level: FindingLevel) -> Finding:
        return Finding(
            file=CONTRACT_PATH,
            line=1,
            column=1,
            field="id",
            rule_id=rule_id,
            level=level,
            message="m",
            fix="f",
        )

    standard = finding("odcs-schema", FindingLevel.STANDARD)
    convention = finding("contract-id", FindingLevel.CONVENTION)
    load = ContractLoad(source=CONTRACT_PATH, contract=None, findings=(standard, convention))
    assert (load.standard_findings, load.convention_findings) == ((standard,), (convention,))
    assert not load.ok
    assert not ContractLoad(source=CONTRACT_PATH, contract=None).ok


def test_a_project_caches_each_contract_version_and_reloads_an_edited_one(
    write_contract: WriteContract, tmp_path: Path
) -> None:
    (tmp_path / "workspace.yaml").write_text("load_from: []\n")
    path = write_contract()
    first = load_contract(path)
    cached = list((tmp_path / ".mesh" / "cache" / "contracts").iterdir())
    forget_loaded_contracts()

    again = load_contract(path)
    write_contract(("required: true", "requried: true"))
    edited = load_contract(path)

    assert len(cached) == 1
    assert again == first and again.ok
    assert not edited.ok
    assert edited.content_digest != first.content_digest
    assert len(list((tmp_path / ".mesh" / "cache" / "contracts").iterdir())) == 2


def test_the_cache_can_be_switched_off(
    write_contract: WriteContract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_SWITCH, "off")
    (tmp_path / "workspace.yaml").write_text("load_from: []\n")

    assert load_contract(write_contract()).ok
    assert not (tmp_path / ".mesh").exists()
