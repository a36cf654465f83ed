"""Contract compatibility: each kind of change between two real contracts, classified."""

import datetime as dt
import re
from pathlib import Path

import pytest

from platform_lib.contracts import compatibility
from platform_lib.contracts.compatibility import (
    BREAKING_KINDS,
    ChangeKind,
    ContractDiff,
    compare_contracts,
    removed_table,
)
from platform_lib.contracts.model import Access, TableContract
from tests.conftest import contract_for

KEY = "payments/curated/transactions"
BASE = """schema:
  - name: transactions
    physicalType: table
    description: Card transactions.
    quality:
      - {id: has_rows, metric: rowCount, mustBeGreaterThan: 0, severity: error}
    properties:
      - name: transaction_id
        logicalType: string
        physicalType: string
        required: true
        unique: true
      - name: amount
        description: Amount in the transaction's currency.
        logicalType: number
        physicalType: "decimal(18,2)"
        logicalTypeOptions: {minimum: 0, maximum: 1000}
      - name: currency
        logicalType: string
        physicalType: string
        quality:
          - id: currency_known
            metric: invalidValues
            arguments: {validValues: [EUR, SEK]}
            mustBe: 0
      - name: card
        logicalType: string
        physicalType: string
        logicalTypeOptions: {pattern: "^[0-9]{4}$"}
      - {name: quantity, logicalType: integer, physicalType: int32}
"""


def edit(body: str, *replacements: tuple[str, str]) -> str:
    """``body`` with each (old, new) text replaced; every old text must occur."""
    for old, new in replacements:
        assert old in body, old
        body = body.replace(old, new)
    return body


def load_pair(tmp_path: Path, old_body: str, new_body: str) -> tuple[TableContract, TableContract]:
    """The contracts of ``old_body`` and ``new_body`` (both 1.0.0), loaded from two folders."""
    return contract_for(tmp_path / "old", KEY, old_body), contract_for(
        tmp_path / "new", KEY, new_body
    )


def diff(tmp_path: Path, new_body: str, *, version: str = "1.1.0") -> ContractDiff:
    """Compare the base contract (1.0.0) with ``new_body`` published as ``version``."""
    old, new = load_pair(tmp_path, BASE, new_body)
    return compare_contracts(old, new.model_copy(update={"version": version}))


def kinds(result: ContractDiff) -> list[ChangeKind]:
    return [c.kind for c in result.changes]


def test_identical_contracts_have_no_changes(tmp_path: Path) -> None:
    result = diff(tmp_path, BASE, version="1.0.0")
    assert result.changes == ()
    assert result.breaking == ()
    assert not result.needs_major_bump
    assert (result.contract_id, result.old_version, result.new_version) == (
        "payments.curated.transactions",
        "1.0.0",
        "1.0.0",
    )


def test_a_removed_column_is_breaking_and_its_rules_go_with_it(tmp_path: Path) -> None:
    new_body = edit(
        BASE,
        (
            """      - name: currency
        logicalType: string
        physicalType: string
        quality:
          - id: currency_known
            metric: invalidValues
            arguments: {validValues: [EUR, SEK]}
            mustBe: 0
""",
            "",
        ),
    )
    result = diff(tmp_path, new_body)
    assert kinds(result) == [ChangeKind.COLUMN_REMOVED]
    (change,) = result.changes
    assert change.breaking
    assert change.column == "currency"
    assert change.description == "column currency (string) removed"
    assert result.needs_major_bump

    at_two = diff(tmp_path / "major", new_body, version="2.0.0")
    assert at_two.major_bumped
    assert at_two.breaking == at_two.changes
    assert not at_two.needs_major_bump


def test_a_rename_is_a_removal_with_a_hint(tmp_path: Path) -> None:
    result = diff(tmp_path, edit(BASE, ("name: quantity", "name: qty")))
    assert kinds(result) == [ChangeKind.COLUMN_REMOVED, ChangeKind.COLUMN_ADDED_OPTIONAL]
    removed, added = result.changes
    assert removed.breaking and not added.breaking
    assert "renamed to qty?" in removed.description
    assert added.column == "qty"
    assert result.needs_major_bump


def test_no_rename_hint_when_the_types_differ(tmp_path: Path) -> None:
    result = diff(
        tmp_path,
        edit(
            BASE,
            (
                "{name: quantity, logicalType: integer, physicalType: int32}",
                "{name: qty, logicalType: string, physicalType: string}",
            ),
        ),
    )
    assert "renamed" not in result.changes[0].description


def test_an_optional_column_added_is_not_breaking(tmp_path: Path) -> None:
    result = diff(
        tmp_path, BASE + "      - {name: note, logicalType: string, physicalType: string}\n"
    )
    assert kinds(result) == [ChangeKind.COLUMN_ADDED_OPTIONAL]
    assert result.breaking == ()
    assert not result.needs_major_bump
    assert result.changes[0].description == "column note (string) added, optional"


@pytest.mark.parametrize(
    "column",
    [
        "      - {name: note, logicalType: string, physicalType: string, required: true}\n",
        """      - name: note
        logicalType: string
        physicalType: string
        quality:
          - {id: note_present, metric: nullValues, mustBe: 0}
""",
    ],
    ids=["required", "null-values-rule"],
)
def test_a_required_column_added_is_breaking(tmp_path: Path, column: str) -> None:
    result = diff(tmp_path, BASE + column)
    assert kinds(result) == [ChangeKind.COLUMN_ADDED_REQUIRED]
    assert result.changes[0].breaking
    assert result.needs_major_bump


def single_column(physical: str, logical: str) -> str:
    return f"""schema:
  - name: transactions
    physicalType: table
    properties:
      - {{name: value, logicalType: {logical}, physicalType: "{physical}"}}
"""


@pytest.mark.parametrize(
    ("old_type", "new_type", "kind"),
    [
        (("int32", "integer"), ("int64", "integer"), ChangeKind.TYPE_WIDENED),
        (("int32", "integer"), ("float64", "number"), ChangeKind.TYPE_WIDENED),
        (("int32", "integer"), ("decimal(12,2)", "number"), ChangeKind.TYPE_WIDENED),
        (("decimal(10,2)", "number"), ("decimal(18,2)", "number"), ChangeKind.TYPE_WIDENED),
        (("int64", "integer"), ("int32", "integer"), ChangeKind.TYPE_NARROWED),
        (("decimal(18,2)", "number"), ("decimal(10,2)", "number"), ChangeKind.TYPE_NARROWED),
        (("decimal(18,4)", "number"), ("decimal(18,2)", "number"), ChangeKind.TYPE_NARROWED),
        (("decimal(18,2)", "number"), ("int64", "integer"), ChangeKind.TYPE_NARROWED),
        (("float64", "number"), ("int64", "integer"), ChangeKind.TYPE_NARROWED),
        (("int64", "integer"), ("float64", "number"), ChangeKind.TYPE_NARROWED),
        (("string", "string"), ("decimal(18,2)", "number"), ChangeKind.TYPE_NARROWED),
        (("timestamp_tz", "timestamp"), ("timestamp", "timestamp"), ChangeKind.TYPE_NARROWED),
        (("timestamp", "timestamp"), ("timestamp_tz", "timestamp"), ChangeKind.TYPE_NARROWED),
        (("decimal(18,2)", "number"), ("string", "string"), ChangeKind.TYPE_CHANGED),
        (("boolean", "boolean"), ("int32", "integer"), ChangeKind.TYPE_CHANGED),
        (("date", "date"), ("timestamp", "timestamp"), ChangeKind.TYPE_CHANGED),
    ],
    ids=lambda value: value[0] if isinstance(value, tuple) else None,
)
def test_type_changes(
    tmp_path: Path, old_type: tuple[str, str], new_type: tuple[str, str], kind: ChangeKind
) -> None:
    old, new = load_pair(tmp_path, single_column(*old_type), single_column(*new_type))
    result = compare_contracts(old, new)
    assert kinds(result) == [kind]
    assert result.changes[0].breaking is (kind is not ChangeKind.TYPE_WIDENED)
    assert result.changes[0].column == "value"


def test_a_type_change_says_what_changed(tmp_path: Path) -> None:
    amount = """        logicalType: number
        physicalType: "decimal(18,2)"
        logicalTypeOptions: {minimum: 0, maximum: 1000}
"""
    result = diff(
        tmp_path,
        edit(BASE, (amount, "        logicalType: string\n        physicalType: string\n")),
    )
    assert kinds(result) == [ChangeKind.TYPE_CHANGED, ChangeKind.RULE_REMOVED]
    assert result.changes[0].description == "column amount: type decimal(18,2) -> string"
    assert result.changes[1].rule_id == "amount_range"


def test_valid_values_removed_is_breaking(tmp_path: Path) -> None:
    result = diff(tmp_path, edit(BASE, ("[EUR, SEK]", "[EUR]")))
    assert kinds(result) == [ChangeKind.VALID_VALUES_NARROWED]
    (change,) = result.changes
    assert change.breaking
    assert (change.rule_id, change.column) == ("currency_known", "currency")
    assert "accepted values: removed ['SEK']" in change.description


def test_valid_values_added_is_not_breaking(tmp_path: Path) -> None:
    result = diff(tmp_path, edit(BASE, ("[EUR, SEK]", "[EUR, SEK, NOK]")))
    assert kinds(result) == [ChangeKind.VALID_VALUES_WIDENED]
    assert result.breaking == ()


def test_valid_values_swapped_is_breaking(tmp_path: Path) -> None:
    result = diff(tmp_path, edit(BASE, ("[EUR, SEK]", "[EUR, NOK]")))
    assert kinds(result) == [ChangeKind.VALID_VALUES_NARROWED]


@pytest.mark.parametrize(
    ("options", "kind"),
    [
        ("{minimum: 10, maximum: 1000}", ChangeKind.RULE_TIGHTENED),
        ("{exclusiveMinimum: 0, maximum: 1000}", ChangeKind.RULE_TIGHTENED),
        ("{minimum: 0, maximum: 500}", ChangeKind.RULE_TIGHTENED),
        ("{minimum: -10, maximum: 500}", ChangeKind.RULE_TIGHTENED),
        ("{minimum: 0}", ChangeKind.RULE_LOOSENED),
        ("{minimum: 0, maximum: 5000}", ChangeKind.RULE_LOOSENED),
        ("{minimum: -1, exclusiveMaximum: 1001}", ChangeKind.RULE_LOOSENED),
        ("{minimum: 0, exclusiveMaximum: 1000}", ChangeKind.RULE_TIGHTENED),
    ],
)
def test_range_tightened_or_loosened(tmp_path: Path, options: str, kind: ChangeKind) -> None:
    result = diff(tmp_path, edit(BASE, ("{minimum: 0, maximum: 1000}", options)))
    assert kinds(result) == [kind]
    (change,) = result.changes
    assert change.rule_id == "amount_range"
    assert change.breaking is (kind is ChangeKind.RULE_TIGHTENED)


def test_range_change_is_described(tmp_path: Path) -> None:
    result = diff(
        tmp_path, edit(BASE, ("{minimum: 0, maximum: 1000}", "{minimum: 10, maximum: 1000}"))
    )
    assert result.changes[0].description == (
        "range rule amount_range on column amount: lower bound >= 0 -> >= 10"
    )


def test_a_rule_removed_is_not_breaking(tmp_path: Path) -> None:
    has_rows = "      - {id: has_rows, metric: rowCount, mustBeGreaterThan: 0, severity: error}\n"
    result = diff(tmp_path, edit(BASE, ("    quality:\n" + has_rows, "")))
    assert kinds(result) == [ChangeKind.RULE_REMOVED]
    assert result.changes[0].rule_id == "has_rows"
    assert not result.needs_major_bump


def test_a_generated_range_removed_is_not_breaking(tmp_path: Path) -> None:
    result = diff(
        tmp_path, edit(BASE, ("        logicalTypeOptions: {minimum: 0, maximum: 1000}\n", ""))
    )
    assert kinds(result) == [ChangeKind.RULE_REMOVED]
    assert result.changes[0].rule_id == "amount_range"


def test_a_rule_added_on_an_existing_column_is_breaking(tmp_path: Path) -> None:
    result = diff(
        tmp_path,
        edit(
            BASE,
            (
                "{name: quantity, logicalType: integer, physicalType: int32}",
                "{name: quantity, logicalType: integer, physicalType: int32, "
                "logicalTypeOptions: {minimum: 1}}",
            ),
        ),
    )
    assert kinds(result) == [ChangeKind.RULE_ADDED]
    assert (result.changes[0].rule_id, result.changes[0].column) == ("quantity_range", "quantity")
    assert result.needs_major_bump


@pytest.mark.parametrize(
    ("comparison", "kind"),
    [
        ("mustBeGreaterThan: 10", ChangeKind.RULE_TIGHTENED),
        ("mustBeGreaterOrEqualTo: 1", ChangeKind.RULE_TIGHTENED),
        ("mustBeGreaterOrEqualTo: 0", ChangeKind.RULE_LOOSENED),
        ("mustBeBetween: [1, 100]", ChangeKind.RULE_TIGHTENED),
        ("mustBeLessThan: 100", ChangeKind.RULE_CHANGED),
    ],
)
def test_row_count_comparisons(tmp_path: Path, comparison: str, kind: ChangeKind) -> None:
    result = diff(tmp_path, edit(BASE, ("mustBeGreaterThan: 0", comparison)))
    assert kinds(result) == [kind]
    assert result.changes[0].rule_id == "has_rows"


def test_table_rule_severity(tmp_path: Path) -> None:
    result = diff(tmp_path, edit(BASE, ("severity: error", "severity: warning")))
    assert kinds(result) == [ChangeKind.RULE_LOOSENED]
    assert "severity error -> warning" in result.changes[0].description


def test_a_changed_pattern_is_breaking(tmp_path: Path) -> None:
    result = diff(tmp_path, edit(BASE, ('"^[0-9]{4}$"', '"^[0-9]{4,6}$"')))
    assert kinds(result) == [ChangeKind.RULE_CHANGED]
    assert result.changes[0].breaking


def test_description_only_changes_are_docs(tmp_path: Path) -> None:
    result = diff(
        tmp_path,
        edit(
            BASE,
            ("description: Card transactions.", "description: Card payments, one row each."),
            ("Amount in the transaction's currency.", "Amount, in the currency."),
        ),
    )
    assert kinds(result) == [ChangeKind.DOCS_CHANGED, ChangeKind.DOCS_CHANGED]
    assert [c.column for c in result.changes] == [None, "amount"]
    assert result.breaking == ()
    assert not result.needs_major_bump


def test_uniqueness_removed_is_breaking(tmp_path: Path) -> None:
    result = diff(tmp_path, edit(BASE, ("        unique: true\n", "")))
    assert kinds(result) == [ChangeKind.UNIQUENESS_REMOVED]
    assert result.changes[0].column == "transaction_id"
    assert result.needs_major_bump


def test_uniqueness_added_is_breaking(tmp_path: Path) -> None:
    result = diff(
        tmp_path,
        edit(
            BASE,
            (
                "{name: quantity, logicalType: integer, physicalType: int32}",
                "{name: quantity, logicalType: integer, physicalType: int32, unique: true}",
            ),
        ),
    )
    assert kinds(result) == [ChangeKind.UNIQUENESS_ADDED]
    assert result.needs_major_bump


def test_nullability_either_way_is_breaking(tmp_path: Path) -> None:
    loosened = diff(tmp_path / "loose", edit(BASE, ("        required: true\n", "")))
    assert kinds(loosened) == [ChangeKind.NULLABILITY_LOOSENED]
    tightened = diff(
        tmp_path / "tight",
        edit(
            BASE,
            (
                "{name: quantity, logicalType: integer, physicalType: int32}",
                "{name: quantity, logicalType: integer, physicalType: int32, required: true}",
            ),
        ),
    )
    assert kinds(tightened) == [ChangeKind.NULLABILITY_TIGHTENED]
    assert loosened.needs_major_bump and tightened.needs_major_bump


REFERENCE = """      - name: reference
        logicalType: string
        physicalType: string
        quality:
          - {id: reference_present, metric: nullValues, mustBe: 0}
          - {id: reference_mostly_set, metric: missingValues, mustBeLessThan: 10, unit: percent}
"""


def test_a_rule_allowing_no_nulls_counts_as_required(tmp_path: Path) -> None:
    old, new = load_pair(
        tmp_path,
        BASE + REFERENCE,
        BASE
        + edit(
            REFERENCE, ("          - {id: reference_present, metric: nullValues, mustBe: 0}\n", "")
        ),
    )
    result = compare_contracts(old, new)
    assert kinds(result) == [ChangeKind.NULLABILITY_LOOSENED]
    assert result.changes[0].column == "reference"


def test_a_metric_tolerance_tightened_is_breaking(tmp_path: Path) -> None:
    old, new = load_pair(
        tmp_path,
        BASE + REFERENCE,
        BASE + edit(REFERENCE, ("mustBeLessThan: 10", "mustBeLessThan: 5")),
    )
    result = compare_contracts(old, new)
    assert kinds(result) == [ChangeKind.RULE_TIGHTENED]
    assert result.changes[0].rule_id == "reference_mostly_set"
    assert "mustBeLessThan 10 -> mustBeLessThan 5" in result.changes[0].description


def test_threshold_and_freshness(tmp_path: Path) -> None:
    old, new = load_pair(tmp_path, BASE, BASE)
    stricter = new.model_copy(
        update={"quarantine_threshold": 0.1, "freshness": dt.timedelta(hours=6)}
    )
    assert kinds(compare_contracts(old, stricter)) == [ChangeKind.RULE_TIGHTENED] * 2
    laxer = new.model_copy(update={"quarantine_threshold": 0.9})
    assert kinds(compare_contracts(old, laxer)) == [ChangeKind.RULE_LOOSENED]


def test_reordered_columns_are_not_breaking(tmp_path: Path) -> None:
    quantity = "      - {name: quantity, logicalType: integer, physicalType: int32}\n"
    reordered = edit(BASE, (quantity, ""), ("    properties:\n", "    properties:\n" + quantity))
    result = diff(tmp_path, reordered)
    assert kinds(result) == [ChangeKind.COLUMNS_REORDERED]
    assert result.breaking == ()


def test_access_narrowed_is_breaking(tmp_path: Path) -> None:
    old, new = load_pair(tmp_path, BASE, BASE)
    result = compare_contracts(old, new.model_copy(update={"access": Access.INTERNAL}))
    assert kinds(result) == [ChangeKind.ACCESS_NARROWED]
    assert result.needs_major_bump


def test_contracts_of_different_tables_do_not_compare(tmp_path: Path) -> None:
    old = contract_for(tmp_path / "old", KEY, BASE)
    other = contract_for(
        tmp_path / "new",
        "payments/curated/refunds",
        edit(BASE, ("name: transactions", "name: refunds")),
    )
    with pytest.raises(ValueError, match="different tables"):
        compare_contracts(old, other)


def test_a_removed_table_is_breaking(tmp_path: Path) -> None:
    result = removed_table(contract_for(tmp_path, KEY, BASE))
    assert kinds(result) == [ChangeKind.TABLE_REMOVED]
    assert result.changes[0].breaking
    assert result.new_version is None
    assert not result.major_bumped
    assert result.needs_major_bump


def test_the_documented_table_matches_the_classification() -> None:
    documented = {
        match.group(1): match.group(2) == "yes"
        for match in re.finditer(r"^([A-Z_]+) +(yes|no) ", compatibility.__doc__ or "", re.M)
    }
    assert documented == {kind.name: kind in BREAKING_KINDS for kind in ChangeKind}


@pytest.mark.parametrize(
    ("lengths", "kind"),
    [
        ("minLength: 5, maxLength: 8", ChangeKind.RULE_TIGHTENED),
        ("minLength: 4, maxLength: 7", ChangeKind.RULE_TIGHTENED),
        ("maxLength: 8", ChangeKind.RULE_LOOSENED),
        ("minLength: 3, maxLength: 9", ChangeKind.RULE_LOOSENED),
    ],
)
def test_string_lengths_tightened_or_loosened(
    tmp_path: Path, lengths: str, kind: ChangeKind
) -> None:
    card = '{pattern: "^[0-9]{4}$"}'
    old_body = edit(BASE, (card, '{pattern: "^[0-9]{4}$", minLength: 4, maxLength: 8}'))
    new_body = edit(BASE, (card, f'{{pattern: "^[0-9]{{4}}$", {lengths}}}'))
    old, new = load_pair(tmp_path, old_body, new_body)

    result = compare_contracts(old, new.model_copy(update={"version": "1.1.0"}))

    assert kinds(result) == [kind]
    assert result.changes[0].rule_id == "card_length"
