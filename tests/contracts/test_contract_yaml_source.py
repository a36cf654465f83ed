"""Reading contract YAML: plain data, a position for every field, findings instead of exceptions."""

from pathlib import Path

import pytest

from platform_lib.contracts.findings import FindingLevel
from platform_lib.contracts.yaml_source import (
    MAX_ALIASED_VALUES,
    MAX_DEPTH,
    YAML_DUPLICATE_KEY,
    YAML_SYNTAX,
    Position,
    parse_yaml,
    read_yaml,
)

SOURCE = Path("contract.odcs.yaml")


def test_reads_data_and_the_position_of_every_key_and_item() -> None:
    text = "a: 1\nb:\n  c: [x, y]\n  d:\n    - e: true\n      f: ~\n"
    document = parse_yaml(text, SOURCE)
    assert document.findings == ()
    assert document.data == {"a": 1, "b": {"c": ["x", "y"], "d": [{"e": True, "f": None}]}}
    assert document.positions == {
        (): Position(1, 1),
        ("a",): Position(1, 1),
        ("b",): Position(2, 1),
        ("b", "c"): Position(3, 3),
        ("b", "c", 0): Position(3, 7),
        ("b", "c", 1): Position(3, 10),
        ("b", "d"): Position(4, 3),
        ("b", "d", 0): Position(5, 7),
        ("b", "d", 0, "e"): Position(5, 7),
        ("b", "d", 0, "f"): Position(6, 7),
    }


def test_unquoted_dates_stay_strings_while_numbers_booleans_and_null_keep_their_types() -> None:
    text = "day: 2022-10-03\nts: 2022-10-03T10:00:00Z\nn: 3\nx: 1.5\nok: yes\nnone: null\n"
    data = parse_yaml(text, SOURCE).data
    assert data == {
        "day": "2022-10-03",
        "ts": "2022-10-03T10:00:00Z",
        "n": 3,
        "x": 1.5,
        "ok": True,
        "none": None,
    }


def test_keys_that_yaml_reads_as_other_types_keep_their_text() -> None:
    assert parse_yaml("1: a\non: b\n", SOURCE).data == {"1": "a", "on": "b"}


def test_a_duplicate_key_is_a_finding_at_its_second_occurrence_and_the_last_value_counts() -> None:
    document = parse_yaml("a: 1\nb:\n  c: 1\n  c: 2\n", SOURCE)
    assert document.data == {"a": 1, "b": {"c": 2}}
    [finding] = document.findings
    assert (finding.rule_id, finding.level, finding.line, finding.column) == (
        YAML_DUPLICATE_KEY,
        FindingLevel.STANDARD,
        4,
        3,
    )
    assert finding.field == "b.c"
    assert "first at line 3" in finding.message


def test_merge_keys_are_expanded_without_duplicate_findings() -> None:
    text = "base: &b\n  x: 1\n  y: 2\nm:\n  <<: *b\n  y: 3\n"
    document = parse_yaml(text, SOURCE)
    assert document.findings == ()
    assert document.data == {"base": {"x": 1, "y": 2}, "m": {"x": 1, "y": 3}}
    assert document.positions[("m", "y")] == Position(6, 3)


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("a: 1\nb: c: d\n", 2, 5, "mapping values are not allowed"),
        ("a:\n  b: 1\n c: 2\n", 3, 2, "did not find expected key"),
        ("a: [1, 2\n", 2, 1, "flow sequence started at line 1"),
        ("a: 'open\n", 2, 1, "quoted scalar"),
        ("a: 1\n---\nb: 2\n", 2, 1, "single document"),
        ("a: 1\nb: x\x07\n", 2, 5, "U+0007"),
        ("a: !!int zz\n", 1, 4, "cannot be read as"),
        ("a: !custom x\n", 1, 4, "!custom"),
        ("a: &x\n  b: *x\n", 1, 4, "recursive"),
        ("- a\n- b\n", 1, 1, "a list, not a mapping"),
        ("just text\n", 1, 1, "a single value"),
        ("", 1, 1, "empty"),
        ("# only a comment\n", 1, 1, "empty"),
    ],
)
def test_a_document_that_is_not_one_yaml_mapping_is_a_yaml_syntax_finding(
    text: str, line: int, column: int, words: str
) -> None:
    document = parse_yaml(text, SOURCE)
    assert document.data is None
    [finding] = document.findings
    assert (finding.rule_id, finding.level) == (YAML_SYNTAX, FindingLevel.STANDARD)
    assert (finding.line, finding.column) == (line, column)
    assert words in finding.message


def test_a_file_that_is_not_utf8_is_a_finding_at_the_offending_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.odcs.yaml"
    path.write_bytes("a: 1\nname: Transacción\n".encode("latin-1"))
    [finding] = read_yaml(path).findings
    assert (finding.rule_id, finding.line, finding.column) == (YAML_SYNTAX, 2, 16)
    assert "UTF-8" in finding.message


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.odcs.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert read_yaml(path).data == {"a": 1}


@pytest.mark.parametrize("name", ["missing.odcs.yaml", "."])
def test_a_path_that_cannot_be_read_is_a_finding(tmp_path: Path, name: str) -> None:
    document = read_yaml(tmp_path / name)
    assert document.data is None
    [finding] = document.findings
    assert (finding.rule_id, finding.line, finding.column) == (YAML_SYNTAX, 1, 1)
    assert "cannot be read" in finding.message


def test_nested_aliases_that_would_repeat_too_many_values_are_a_finding() -> None:
    """A "billion laughs" document: nine levels of nine aliases each stand for 9^9 values."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)]
    document = parse_yaml("\n".join(lines) + "\n", SOURCE)
    assert document.data is None
    [finding] = document.findings
    assert finding.rule_id == YAML_SYNTAX
    assert finding.message.startswith(f"aliases repeat more than {MAX_ALIASED_VALUES} values")


def test_a_few_aliases_are_read_as_the_data_they_repeat() -> None:
    document = parse_yaml("a: &a [1, 2]\nb: [*a, *a]\n", SOURCE)
    assert document.findings == ()
    assert document.data == {"a": [1, 2], "b": [[1, 2], [1, 2]]}


@pytest.mark.parametrize("depth", [MAX_DEPTH, 600, 990])
def test_a_document_nested_too_deeply_is_a_finding_not_a_recursion_error(depth: int) -> None:
    text = "a: " + "{a: " * depth + "1" + "}" * depth + "\n"
    document = parse_yaml(text, SOURCE)
    assert document.data is None
    [finding] = document.findings
    assert (finding.rule_id, finding.line) == (YAML_SYNTAX, 1)
    assert finding.message == f"the document nests deeper than {MAX_DEPTH} levels"
