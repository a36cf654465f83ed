"""Split the bytes of a JSON Lines landing file into records, keeping every record.

A record is a non-empty line holding one JSON object. A line that is not valid UTF-8, holds a NUL
byte, is not valid JSON (or nests too deeply to read, or escapes half a character such as
``\\ud800``), is not an object, or has a field the source does not declare is kept with
``fields=None`` and the reason in ``error``. Declared fields missing from an object are null;
scalar values are kept as text (``true``, ``12.50``), nested values as their JSON text.
"""

import json
import re
from collections.abc import Sequence

from platform_lib.lake.csv_records import SourceRecord

_BOM = b"\xef\xbb\xbf"
TOO_DEEP = "invalid JSON: nested too deeply to read"
"""The error of a line whose arrays or objects nest deeper than Python's recursion limit."""
LONE_SURROGATE = "invalid JSON: a \\u escape stands for half a character (a lone surrogate)"
"""The error of a line with a string such as ``"\\ud800"``: no text, so no raw column holds it."""
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_jsonl(data: bytes, columns: Sequence[str]) -> tuple[SourceRecord, ...]:
    """Every non-empty line of ``data`` as a record with the declared ``columns``' values."""
    records = []
    declared = set(columns)
    body = data.removeprefix(_BOM)
    for index, raw_line in enumerate(body.split(b"\n"), start=1):
        line = raw_line.removesuffix(b"\r")
        if not line.strip():
            continue
        text = line.decode("utf-8", errors="backslashreplace")
        error = _byte_error(line)
        values: tuple[str | None, ...] | None = None
        if error is None:
            values, error = _fields(text, columns, declared)
        records.append(SourceRecord(line_number=index, raw_text=text, fields=values, error=error))
    return tuple(records)


def _byte_error(line: bytes) -> str | None:
    nul = line.find(b"\x00")
    if nul >= 0:
        return f"stray NUL byte at byte {nul}"
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"undecodable bytes (not UTF-8) at byte {error.start}"
    return None


def _fields(
    text: str, columns: Sequence[str], declared: set[str]
) -> tuple[tuple[str | None, ...] | None, str | None]:
    try:
        document = json.loads(text)
        if _SURROGATE_ESCAPE.search(text) and not _is_unicode(document):
            return None, LONE_SURROGATE
    except json.JSONDecodeError as error:
        return None, f"invalid JSON: {error.msg} at column {error.colno}"
    except RecursionError:
        return None, TOO_DEEP
    if not isinstance(document, dict):
        return None, f"expected a JSON object, found {type(document).__name__}"
    unexpected = sorted(set(document) - declared)
    if unexpected:
        return None, f"unexpected field(s) {', '.join(unexpected)}"
    try:
        return tuple(_text(document.get(column)) for column in columns), None
    except RecursionError:
        return None, TOO_DEEP


def _is_unicode(document: object) -> bool:
    """Whether every string of ``document`` (keys included) is text UTF-8 can hold."""
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
