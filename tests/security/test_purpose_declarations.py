"""``mesh check`` validates the purposes a consumer declares to read restricted columns."""

from pathlib import Path

from platform_lib.contracts.access import read_decision
from platform_lib.contracts.registry import load_registry
from platform_lib.conventions import TableKey
from platform_lib.governance.check import check_mesh
from tests.conftest import PROJECT_ROOT
from tests.security.bank_contracts import (
    ACCOUNT_COLUMNS,
    PAIR_COLUMNS,
    PRODUCER_PURPOSES,
    contract,
)


def purpose_findings(root: Path, declaration: str) -> list[str]:
    (root / "workspace.yaml").write_text("load_from: []\n")
    contract(root, "bank/curated/accounts", ACCOUNT_COLUMNS, properties=PRODUCER_PURPOSES)
    contract(
        root,
        "risk/product/scores",
        PAIR_COLUMNS,
        properties=f"  - property: readPurposes\n    value:\n      - {declaration}\n",
    )
    report = check_mesh(root, use_cache=False)
    return [v.message for v in report.violations if v.rule_id == "read-purposes"]


def test_an_allowed_purpose_passes(tmp_path: Path) -> None:
    declaration = "{table: bank/curated/accounts, purpose: fraud detection, columns: [account_id]}"

    assert purpose_findings(tmp_path, declaration) == []


def test_a_purpose_the_producer_does_not_allow_is_an_error(tmp_path: Path) -> None:
    declaration = "{table: bank/curated/accounts, purpose: marketing, columns: [account_id]}"

    (message,) = purpose_findings(tmp_path, declaration)

    assert "for 'marketing', which its contract does not allow" in message
    assert "'fraud detection'" in message


def test_an_unknown_table_is_an_error(tmp_path: Path) -> None:
    declaration = "{table: bank/curated/nope, purpose: fraud detection, columns: [account_id]}"

    (message,) = purpose_findings(tmp_path, declaration)

    assert "bank/curated/nope, which has no contract" in message


def test_an_unknown_column_is_an_error(tmp_path: Path) -> None:
    declaration = "{table: bank/curated/accounts, purpose: fraud detection, columns: [iban]}"

    (message,) = purpose_findings(tmp_path, declaration)

    assert "names columns iban that bank/curated/accounts does not have" in message


def test_a_malformed_declaration_is_a_contract_finding(tmp_path: Path) -> None:
    (tmp_path / "workspace.yaml").write_text("load_from: []\n")
    contract(
        tmp_path,
        "risk/product/scores",
        PAIR_COLUMNS,
        properties="  - property: readPurposes\n"
        "    value:\n"
        "      - {table: bank/curated/accounts}\n",
    )

    report = check_mesh(tmp_path, use_cache=False)

    lint = [v.message for v in report.violations if v.rule_id == "contract-lint"]
    assert lint == ["[purposes] readPurposes entry has no purpose"]


def test_the_demo_fraud_domain_reads_account_ids_in_clear_for_its_declared_purpose() -> None:
    contracts = load_registry(PROJECT_ROOT / "contracts")
    producer = TableKey.parse("payments/raw/transactions")
    consumer = contracts.require(TableKey.parse("fraud/product/account_risk"))

    decision = read_decision(
        consumer, producer, contracts.get(producer), columns=["account_id", "amount"]
    )

    assert (decision.refusal, decision.masked, decision.in_clear) == (None, (), ("account_id",))
