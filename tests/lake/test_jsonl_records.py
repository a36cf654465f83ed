"""JSON Lines records: every non-empty line kept, the unreadable ones with their reason."""

from platform_lib.lake.jsonl_records import LONE_SURROGATE, TOO_DEEP, parse_jsonl


def test_a_line_nesting_too_deeply_is_a_record_with_an_error_not_a_crash() -> None:
    """Found by fuzzing: ``json.loads`` raised RecursionError and stopped the whole ingestion."""
    deep = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    records = parse_jsonl(b'{"a": 1}\n' + deep + b'\n{"a": [[2]]}\n', ("a",))
    assert [(r.line_number, r.fields, r.error) for r in records] == [
        (1, ("1",), None),
        (2, None, TOO_DEEP),
        (3, ("[[2]]",), None),
    ]
    assert records[1].raw_text == deep.decode()


def test_a_lone_surrogate_escape_is_a_record_with_an_error() -> None:
    """Found by fuzzing: ``"\\ud800"`` reads as a Python string no UTF-8 column can hold, and
    writing it to the raw table raised UnicodeEncodeError."""
    data = b'{"a": "\\u00e9\\ud800"}\n{"\\udc00": 1}\n{"a": "\\ud83d\\ude00"}\n{"a": "\\\\ud800"}\n'
    records = parse_jsonl(data, ("a",))
    assert [(r.fields, r.error) for r in records] == [
        (None, LONE_SURROGATE),
        (None, LONE_SURROGATE),
        (("\N{GRINNING FACE}",), None),
        (("\\ud800",), None),
    ]
    assert [r.raw_text for r in records] == data.decode().splitlines()
