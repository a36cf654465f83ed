"""Tests for splitting CSV landing files into records without losing any of them."""

import csv
import dataclasses
import io
import random
from typing import Literal

import pytest

from platform_lib.lake.csv_records import ParsedCsv, SourceRecord, parse_csv

BOM = b"\xef\xbb\xbf"


def _fields(parsed: ParsedCsv) -> list[tuple[str, ...] | None]:
    return [record.fields for record in parsed.records]


def _line_numbers(parsed: ParsedCsv) -> list[int]:
    return [record.line_number for record in parsed.records]


def test_plain_file() -> None:
    parsed = parse_csv(b"id,name,city\n1,alice,Berlin\n2,bob,\n")

    assert parsed.header == ("id", "name", "city")
    assert parsed.records == (
        SourceRecord(2, "1,alice,Berlin", ("1", "alice", "Berlin"), None),
        SourceRecord(3, "2,bob,", ("2", "bob", ""), None),
    )


def test_plain_file_without_final_newline() -> None:
    parsed = parse_csv(b"id,name\n1,alice")

    assert parsed.records == (SourceRecord(2, "1,alice", ("1", "alice"), None),)


def test_field_values_are_not_trimmed() -> None:
    parsed = parse_csv(b"a,b,c\n x , y ,\n")

    assert _fields(parsed) == [(" x ", " y ", "")]


def test_crlf_file() -> None:
    parsed = parse_csv(b"id,name\r\n1,alice\r\n2,bob\r\n")

    assert parsed.header == ("id", "name")
    assert parsed.records == (
        SourceRecord(2, "1,alice", ("1", "alice"), None),
        SourceRecord(3, "2,bob", ("2", "bob"), None),
    )


def test_crlf_file_with_quoted_fields() -> None:
    parsed = parse_csv(b'id,name\r\n1,"alice, a."\r\n')

    assert parsed.records == (SourceRecord(2, '1,"alice, a."', ("1", "alice, a."), None),)


def test_multi_line_quoted_field() -> None:
    data = (
        b'id,note,n\n1,"first line\nsecond line\nthird line",x\n'
        b'2,plain,y\n\n3,"a\n\nb",z\n4,last,w\n'
    )

    parsed = parse_csv(data)

    assert parsed.header == ("id", "note", "n")
    assert _line_numbers(parsed) == [2, 5, 7, 10]
    assert _fields(parsed) == [
        ("1", "first line\nsecond line\nthird line", "x"),
        ("2", "plain", "y"),
        ("3", "a\n\nb", "z"),
        ("4", "last", "w"),
    ]
    assert parsed.records[0].raw_text == '1,"first line\nsecond line\nthird line",x'
    assert parsed.records[2].raw_text == '3,"a\n\nb",z'


def test_multi_line_quoted_field_with_crlf_becomes_lf() -> None:
    parsed = parse_csv(b'id,note\r\n1,"one\r\ntwo"\r\n2,after\r\n')

    assert parsed.records == (
        SourceRecord(2, '1,"one\ntwo"', ("1", "one\ntwo"), None),
        SourceRecord(4, "2,after", ("2", "after"), None),
    )


def test_escaped_quotes() -> None:
    data = b'id,quote\n1,"she said ""hi"", then left"\n2,"""x""\n""y"""\n3,""\n'

    parsed = parse_csv(data)

    assert _fields(parsed) == [
        ("1", 'she said "hi", then left'),
        ("2", '"x"\n"y"'),
        ("3", ""),
    ]
    assert _line_numbers(parsed) == [2, 3, 5]


def test_blank_lines_are_skipped() -> None:
    parsed = parse_csv(b"\n\r\nid,name\n\n1,a\r\n\n\n2,b\n\n")

    assert parsed.header == ("id", "name")
    assert _line_numbers(parsed) == [5, 8]
    assert _fields(parsed) == [("1", "a"), ("2", "b")]


def test_whitespace_only_line_is_a_malformed_record() -> None:
    parsed = parse_csv(b"id,name\n   \n1,a\n")

    assert parsed.records == (
        SourceRecord(2, "   ", None, "expected 2 fields, found 1"),
        SourceRecord(3, "1,a", ("1", "a"), None),
    )


@pytest.mark.parametrize(
    ("line", "found"),
    [
        (b"1,a,extra", 3),
        (b"1", 1),
        (b"1,a,", 3),
        (b'1,"a",b', 3),  # quoted: goes through the csv module
        (b'"1"', 1),
    ],
)
def test_wrong_field_count(line: bytes, found: int) -> None:
    parsed = parse_csv(b"id,name\n0,ok\n" + line + b"\n9,ok\n")

    assert parsed.records[1] == SourceRecord(
        3, line.decode(), None, f"expected 2 fields, found {found}"
    )
    assert _fields(parsed)[0] == ("0", "ok")
    assert _fields(parsed)[2] == ("9", "ok")


def test_undecodable_bytes() -> None:
    parsed = parse_csv(b"id,name\n1,caf\xe9\n2,M\xc3\xbcnchen\n3,\xe2\x82\n")

    assert parsed.records == (
        SourceRecord(2, "1,caf\\xe9", None, "undecodable bytes (not UTF-8) at byte 5"),
        SourceRecord(3, "2,München", ("2", "München"), None),
        SourceRecord(4, "3,\\xe2\\x82", None, "undecodable bytes (not UTF-8) at byte 2"),
    )


def test_undecodable_byte_offset_counts_bytes_not_characters() -> None:
    parsed = parse_csv(b"id,name\n1,\xc3\xa9\xff")  # "é" is two bytes

    assert parsed.records[0].error == "undecodable bytes (not UTF-8) at byte 4"
    assert parsed.records[0].raw_text == "1,é\\xff"


def test_nul_byte() -> None:
    parsed = parse_csv(b"id,name\n1,a\x00b\n2,ok\n\x00,\xff\n")

    assert parsed.records == (
        SourceRecord(2, "1,a\x00b", None, "stray NUL byte at byte 3"),
        SourceRecord(3, "2,ok", ("2", "ok"), None),
        SourceRecord(4, "\x00,\\xff", None, "stray NUL byte at byte 0"),
    )


def test_nul_byte_offset_counts_bytes_not_characters() -> None:
    parsed = parse_csv(b"id,name\n1,\xc3\xa9\x00\n")  # "é" is two bytes

    assert parsed.records[0].error == "stray NUL byte at byte 4"


@pytest.mark.parametrize("quote", [b"", b'"'])
def test_field_over_the_csv_size_limit_is_an_error_on_every_path(quote: bytes) -> None:
    huge = b"x" * (csv.field_size_limit() + 1)

    parsed = parse_csv(b"id,blob\n1," + quote + huge + quote + b"\n2,small\n")

    assert parsed.records[0].fields is None
    assert parsed.records[0].error == f"field larger than field limit ({csv.field_size_limit()})"
    assert parsed.records[1].fields == ("2", "small")


def test_csv_module_error_keeps_the_record() -> None:
    parsed = parse_csv(b'id,name\n1,"a"b\n2,c\r3\n4,ok\n')

    assert parsed.records[0] == SourceRecord(2, '1,"a"b', None, "',' expected after '\"'")
    assert parsed.records[1] == SourceRecord(
        3, "2,c\r3", None, "new-line character seen in unquoted field"
    )
    assert parsed.records[2].fields == ("4", "ok")


def test_record_leaving_a_quote_open_does_not_swallow_its_neighbours() -> None:
    # Two quotes keep the line's parity even, but the csv module sees a quoted field opened by
    # the second one and never closed: only this record may fail.
    parsed = parse_csv(b'id,x,y\n1,a"b,"c\n2,ok,ok\n3,"ok",ok\n')

    assert parsed.records == (
        SourceRecord(2, '1,a"b,"c', None, "unexpected end of data"),
        SourceRecord(3, "2,ok,ok", ("2", "ok", "ok"), None),
        SourceRecord(4, '3,"ok",ok', ("3", "ok", "ok"), None),
    )


def test_unterminated_quoted_field_at_end_of_file() -> None:
    parsed = parse_csv(b'id,note\n1,ok\n2,"never closed\n\n3,x\n')

    assert parsed.records == (
        SourceRecord(2, "1,ok", ("1", "ok"), None),
        SourceRecord(3, '2,"never closed\n\n3,x', None, "unterminated quoted field"),
    )


def test_byte_order_mark_is_ignored() -> None:
    parsed = parse_csv(BOM + b"id,name\r\n1,a\r\n")

    assert parsed.header == ("id", "name")
    assert parsed.records == (SourceRecord(2, "1,a", ("1", "a"), None),)


def test_header_only_file() -> None:
    assert parse_csv(b"id,name\n") == ParsedCsv(header=("id", "name"), records=())
    assert parse_csv(b'"id","na,me"') == ParsedCsv(header=("id", "na,me"), records=())


@pytest.mark.parametrize("data", [b"", b"\n", b"\r\n\n\r\n", BOM, BOM + b"\n"])
def test_empty_file(data: bytes) -> None:
    assert parse_csv(data) == ParsedCsv(header=None, records=())


def test_unparseable_header_returns_every_record_unchecked() -> None:
    parsed = parse_csv(b"id,\x00name\n1,a,b,c\n2\n3,\xff\n")

    assert parsed.header is None
    assert parsed.records == (
        SourceRecord(1, "id,\x00name", None, "stray NUL byte at byte 3"),
        SourceRecord(2, "1,a,b,c", ("1", "a", "b", "c"), None),
        SourceRecord(3, "2", ("2",), None),
        SourceRecord(4, "3,\\xff", None, "undecodable bytes (not UTF-8) at byte 2"),
    )


def test_records_are_immutable() -> None:
    record = parse_csv(b"a\n1\n").records[0]

    with pytest.raises(dataclasses.FrozenInstanceError):
        record.fields = ("2",)  # type: ignore[misc]


def test_every_input_record_is_accounted_for() -> None:
    # (text of the logical record, whether it should parse); the header has three fields.
    logical = [
        (b"1,a,b", True),
        (b"2,a", False),
        (b'3,"multi\nline",b', True),
        (b"4,\xff,b", False),
        (b"5,\x00,b", False),
        (b"   ", False),
        (b'6,"x""y",b', True),
        (b"7,a,b,c", False),
        (b'8,"a"b,c', False),
        (b"9,a,b", True),
    ]
    data = b"h1,h2,h3\n"
    expected_lines = []
    line = 2
    for index, (text, _) in enumerate(logical):
        blanks = index % 3  # blank lines between records are not records
        data += b"\n" * blanks
        line += blanks
        expected_lines.append(line)
        data += text + b"\n"
        line += text.count(b"\n") + 1

    parsed = parse_csv(data)

    assert parsed.header == ("h1", "h2", "h3")
    assert len(parsed.records) == len(logical)
    assert _line_numbers(parsed) == expected_lines
    assert [record.fields is not None for record in parsed.records] == [ok for _, ok in logical]
    assert all((record.fields is None) == (record.error is not None) for record in parsed.records)


# Python 3.11's csv.writer leaves a field with a bare CR unquoted unless told to quote all.
_ROUND_TRIP_ALPHABETS: dict[str, tuple[list[str], Literal[0, 1, 2, 3]]] = {
    "simple": (["a", "b", "7", " ", "é", "-"], csv.QUOTE_MINIMAL),
    "special": (["a", " ", "é", ",", '"', "\n", "\r\n", "'"], csv.QUOTE_MINIMAL),
    "bare_cr": (["a", " ", ",", '"', "\n", "\r\n", "\r"], csv.QUOTE_ALL),
}


@pytest.mark.parametrize("alphabet", sorted(_ROUND_TRIP_ALPHABETS))
@pytest.mark.parametrize("terminator", ["\n", "\r\n"])
def test_well_formed_files_round_trip_through_csv_writer(alphabet: str, terminator: str) -> None:
    rng = random.Random(f"{alphabet}{terminator!r}")
    chars, quoting = _ROUND_TRIP_ALPHABETS[alphabet]
    for _ in range(200):
        width = rng.randint(1, 5)
        rows = [
            ["".join(rng.choice(chars) for _ in range(rng.randint(0, 6))) for _ in range(width)]
            for _ in range(rng.randint(1, 8))
        ]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=terminator, quoting=quoting).writerows(rows)

        parsed = parse_csv(buffer.getvalue().encode("utf-8"))

        def normalised(row: list[str]) -> tuple[str, ...]:
            return tuple(value.replace("\r\n", "\n") for value in row)

        assert parsed.header == normalised(rows[0])
        assert [record.error for record in parsed.records] == [None] * (len(rows) - 1)
        assert _fields(parsed) == [normalised(row) for row in rows[1:]]


_PIECES = [
    b"a",
    b"b",
    b"1",
    b",",
    b",",
    b",",
    b'"',
    b'""',
    b"\n",
    b"\n",
    b"\n",
    b"\r\n",
    b"\r",
    b" ",
    b"\x00",
    b"\xff",
    b"\xc3\xa9",
    b"\xe2\x82",
    BOM,
]


def _physical_lines(data: bytes) -> list[bytes]:
    """The file's physical lines: split at LF, one CR dropped from each line's end."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    if not data:
        return []
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


@pytest.mark.parametrize("with_header", [False, True])
def test_random_bytes_never_raise_and_every_line_is_covered_once(with_header: bool) -> None:
    rng = random.Random(20240611 + with_header)
    for _ in range(1500):
        body = b"".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 60)))
        data = (b"h1,h2\n" if with_header else b"") + body
        lines = _physical_lines(data)

        parsed = parse_csv(data)

        first_content = next((i for i, line in enumerate(lines) if line), None)
        if with_header:
            assert parsed.header == ("h1", "h2")
        covered: set[int] = set()
        spans_total = 0
        previous_end = 0
        for record in parsed.records:
            assert (record.fields is None) == (record.error is not None)
            if parsed.header is not None and record.fields is not None:
                assert len(record.fields) == len(parsed.header)
            start = record.line_number - 1
            span = record.raw_text.count("\n") + 1
            assert start >= previous_end, "records overlap or are out of order"
            assert start + span <= len(lines)
            assert lines[start], "a record never starts on a blank line"
            source = b"\n".join(lines[start : start + span])
            assert record.raw_text == source.decode("utf-8", "backslashreplace")
            covered.update(range(start, start + span))
            spans_total += span
            previous_end = start + span
        assert spans_total == len(covered)

        # The parsed header is the first record; it is not in ``records``.
        header_lines: set[int] = set()
        if parsed.header is not None:
            assert first_content is not None
            first_record = parsed.records[0].line_number - 1 if parsed.records else len(lines)
            assert first_record > first_content
            header_lines = set(range(first_content, first_record))
        uncovered = set(range(len(lines))) - covered - header_lines
        assert all(not lines[i] for i in uncovered), "a non-blank line is in no record"
        if parsed.header is None and first_content is not None:
            assert parsed.records[0].line_number == first_content + 1
