"""Split the bytes of a CSV landing file into records and parse them, keeping every record.

A landing file is read as UTF-8 (a leading byte order mark is ignored) and cut into records at
``\\n``. A record is one non-empty line, or several physical lines when a double-quoted field spans
them (RFC 4180; a quote inside a quoted field is written ``""``). A ``\\r`` ending a physical line
is dropped, so CRLF files read like LF files. Lines that are empty outside a quoted field separate
records and are not records themselves.

Nothing is dropped: a record that cannot be parsed (a NUL byte, bytes that are not UTF-8, broken
quoting, a wrong number of fields, a quoted field still open at the end of the file) is returned
with ``fields=None`` and a short message in ``error``, so the caller can quarantine it with its
line number and original text. The module uses the standard library only.
"""

import csv
import re
from dataclasses import dataclass
from itertools import compress, count, repeat

_BOM = b"\xef\xbb\xbf"
# Decoding with ``surrogateescape`` turns each byte that is not part of valid UTF-8 into one lone
# surrogate in this range; valid UTF-8 can never produce one, so finding one finds a bad byte.
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_UNTERMINATED = "unterminated quoted field"
_CHUNK = 4096  # records per csv reader on the quick path of _csv_many


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record of a landing file, parsed or not.

    Attributes:
        line_number: The 1-based line of the file where the record starts.
        raw_text: The record's original text without its final line terminator. The physical lines
            of a multi-line record are joined with ``"\\n"``; bytes that are not UTF-8 are rendered
            as ``\\xNN`` escapes (``errors="backslashreplace"``).
        fields: The parsed field values, as written (not trimmed; an empty field is ``""``), or
            ``None`` when the record could not be parsed.
        error: ``None`` when the record was parsed, else a short message saying why not, e.g.
            ``"expected 7 fields, found 8"``.
    """

    line_number: int
    raw_text: str
    fields: tuple[str | None, ...] | None
    error: str | None


@dataclass(frozen=True)
class ParsedCsv:
    """A landing file split into its header and its records.

    Attributes:
        header: The first record's fields; ``None`` when the file has no records or its first
            record cannot be parsed.
        records: Every record after the header, in file order. When ``header`` is ``None`` this
            holds every record of the file, the first one included, and field counts are not
            checked.
    """

    header: tuple[str, ...] | None
    records: tuple[SourceRecord, ...]


def _byte_offset(text: str, index: int) -> int:
    """Return the byte offset, in the original bytes, of character ``index`` of ``text``.

    Args:
        text: Text decoded with ``errors="surrogateescape"``.
        index: A character index into ``text``.

    Returns:
        The number of original bytes before that character.
    """
    return len(text[:index].encode("utf-8", "surrogateescape"))


def _render(text: str) -> str:
    """Render text decoded with ``surrogateescape`` so that undecodable bytes read as ``\\xNN``.

    Args:
        text: Text decoded with ``errors="surrogateescape"``.

    Returns:
        The text, with each undecodable byte replaced by its backslash escape.
    """
    if _UNDECODABLE.search(text) is None:
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _byte_error(text: str) -> str | None:
    """Say what is wrong with a record's bytes, if anything: a NUL byte or bytes that are not UTF-8.

    Args:
        text: The record's text (decoded with ``surrogateescape``, lines joined with ``"\\n"``).

    Returns:
        ``None`` when the bytes are fine, else a message whose byte offset counts from the start
        of the record.
    """
    nul = text.find("\0")
    if nul >= 0:
        return f"stray NUL byte at byte {_byte_offset(text, nul)}"
    bad = _UNDECODABLE.search(text)
    if bad is not None:
        return f"undecodable bytes (not UTF-8) at byte {_byte_offset(text, bad.start())}"
    return None


def _csv_message(exc: csv.Error) -> str:
    """Return a csv error's message without the module's hint about opening files.

    Args:
        exc: The error raised by the ``csv`` module.

    Returns:
        The message, e.g. ``"',' expected after '\"'"``.
    """
    return str(exc).split(" - do you need", 1)[0]


def _csv_one(text: str) -> tuple[tuple[str, ...] | None, str | None]:
    """Parse one record with the ``csv`` module.

    Args:
        text: The record's text, free of NUL bytes and undecodable bytes.

    Returns:
        ``(fields, None)`` when the record parses, else ``(None, message)``.
    """
    try:
        row = next(csv.reader([text], strict=True), [])
    except csv.Error as exc:
        return None, _csv_message(exc)
    return tuple(row), None


def _csv_careful(texts: list[str]) -> tuple[list[tuple[str, ...] | None], list[str | None]]:
    """Parse records with one ``csv`` reader, making sure no record's result depends on another.

    A row always ends at the end of one of the reader's input strings. When one spans several
    records (a record that leaves a quoted field open, e.g. ``a"b,"c``, makes the reader read on),
    those records are parsed again one by one.

    Args:
        texts: The records' texts, free of NUL bytes and undecodable bytes.

    Returns:
        The fields (or ``None``) and the error (or ``None``) of each record, in order.
    """
    fields: list[tuple[str, ...] | None] = []
    errors: list[str | None] = []
    reader = csv.reader(texts, strict=True)
    done = 0
    while done < len(texts):
        row: tuple[str, ...] | None = None
        error: str | None = None
        try:
            row = tuple(next(reader))
        except csv.Error as exc:
            error = _csv_message(exc)
        except StopIteration:  # not expected with strict=True; stay safe regardless
            break
        consumed = reader.line_num
        if consumed != done + 1:
            break
        fields.append(row)
        errors.append(error)
        done = consumed
    for text in texts[len(fields) :]:  # a row spanned records: redo the rest one by one
        row, error = _csv_one(text)
        fields.append(row)
        errors.append(error)
    return fields, errors


def _csv_many(texts: list[str]) -> tuple[list[tuple[str, ...] | None], list[str | None]]:
    """Parse records with the ``csv`` module, quickly when a whole chunk of them parses cleanly.

    Args:
        texts: The records' texts, free of NUL bytes and undecodable bytes.

    Returns:
        The fields (or ``None``) and the error (or ``None``) of each record, in order.
    """
    fields: list[tuple[str, ...] | None] = []
    errors: list[str | None] = []
    for start in range(0, len(texts), _CHUNK):
        chunk = texts[start : start + _CHUNK]
        reader = csv.reader(chunk, strict=True)
        try:
            rows = list(map(tuple, reader))
        except csv.Error:
            rows = []
        # As many rows as strings, and every string read: so each row is exactly one record.
        if len(rows) == len(chunk) == reader.line_num:
            fields.extend(rows)
            errors.extend(repeat(None, len(rows)))
        else:
            chunk_fields, chunk_errors = _csv_careful(chunk)
            fields.extend(chunk_fields)
            errors.extend(chunk_errors)
    return fields, errors


def _records_simple(lines: list[str]) -> ParsedCsv:
    """Build the result for lines free of quotes, CRs, NULs and undecodable bytes.

    For such a line, splitting on commas is exactly what the ``csv`` module does, and every record
    is one line. This is the common case, so it gets its own path, built from C-level iterators.

    Args:
        lines: The file's physical lines, without terminators.

    Returns:
        The parsed file.
    """
    numbers = list(compress(count(1), lines))
    kept = list(filter(None, lines))
    if not kept:
        return ParsedCsv(header=None, records=())
    header = tuple(kept[0].split(","))
    expected = len(header)
    del numbers[0], kept[0]
    fields = list(map(tuple, map(str.split, kept, repeat(","))))
    records = list(map(SourceRecord, numbers, kept, fields, repeat(None)))
    if set(map(len, fields)) - {expected}:
        for index, found in enumerate(map(len, fields)):
            if found != expected:
                message = f"expected {expected} fields, found {found}"
                records[index] = SourceRecord(numbers[index], kept[index], None, message)
    return ParsedCsv(header=header, records=tuple(records))


def _split_records(lines: list[str]) -> tuple[list[int], list[str], bool]:
    """Group physical lines into records, following double quotes across lines.

    A line with an odd number of ``"`` opens a quoted field that the next line with an odd number
    closes; ``""`` inside a quoted field keeps the parity, so counting quotes is enough.

    Args:
        lines: The file's physical lines, without terminators.

    Returns:
        The line number where each record starts, the text of each record (the lines of a
        multi-line record joined with ``"\\n"``), and whether the last record ends inside a quoted
        field still open at the end of the file.
    """
    numbers: list[int] = []
    texts: list[str] = []
    pending: list[str] = []
    for number, line in enumerate(lines, 1):
        if pending:
            pending.append(line)
            if line.count('"') % 2:
                texts.append("\n".join(pending))
                pending = []
        elif line:
            numbers.append(number)
            if '"' in line and line.count('"') % 2:
                pending = [line]
            else:
                texts.append(line)
    if pending:
        texts.append("\n".join(pending))
    return numbers, texts, bool(pending)


def _records_general(text: str, lines: list[str]) -> ParsedCsv:
    """Build the result for any file, checking each record on its own.

    Args:
        text: The whole file, decoded with ``surrogateescape``, CRLF turned into LF.
        lines: The file's physical lines, without terminators.

    Returns:
        The parsed file.
    """
    numbers, texts, unterminated = _split_records(lines)
    total = len(texts)
    # Records the csv module must not see: the unterminated last one and those with bad bytes.
    # They are kept out by an empty placeholder, which reads as one empty row.
    rejected: dict[int, str] = {}
    raws = texts
    if unterminated:
        rejected[total - 1] = _UNTERMINATED
    if "\0" in text or not text.isascii():
        raws = texts.copy()
        for index, record_text in enumerate(texts):
            if "\0" in record_text or not record_text.isascii():
                raws[index] = _render(record_text)
                byte_error = _byte_error(record_text)
                if byte_error is not None:
                    rejected.setdefault(index, byte_error)
    to_parse = texts
    if rejected:
        to_parse = texts.copy()
        for index in rejected:
            to_parse[index] = ""
    fields, errors = _csv_many(to_parse)
    for index, error in rejected.items():
        fields[index] = None
        errors[index] = error

    header: tuple[str, ...] | None = None
    first = 0
    if total and fields[0] is not None:
        header = fields[0]
        first = 1
        expected = len(header)
        for index in range(first, total):
            row = fields[index]
            if row is not None and len(row) != expected:
                errors[index] = f"expected {expected} fields, found {len(row)}"
                fields[index] = None
    records = map(SourceRecord, numbers[first:], raws[first:], fields[first:], errors[first:])
    return ParsedCsv(header=header, records=tuple(records))


def parse_csv(data: bytes) -> ParsedCsv:
    """Split a CSV landing file into its header and records, keeping every record.

    The first record is the header. Each later record must have as many fields as the header;
    one that does not, or that cannot be parsed at all, is kept with ``fields=None`` and an
    ``error``. If the header itself cannot be parsed, ``header`` is ``None``, every record (the
    first included) is returned in ``records`` and field counts are not checked.

    Byte offsets in error messages count from the start of the record, its lines joined with a
    single ``\\n`` (the ``\\r`` of a CRLF is not counted).

    Args:
        data: The file's bytes.

    Returns:
        The header and every record, in file order. Never raises for any input.
    """
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    text = data.decode("utf-8", "surrogateescape")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if text.endswith("\r"):
            text = text[:-1]  # a final line's CR is dropped as well
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()  # the empty string after the last terminator is not a line
    # A file free of quotes, CRs, NULs, undecodable bytes and over-long lines (the usual case)
    # takes the fast path; otherwise each record is checked on its own.
    limit = csv.field_size_limit()
    if (
        '"' not in text
        and "\r" not in text
        and "\0" not in text
        and (text.isascii() or _UNDECODABLE.search(text) is None)
        and (not lines or max(map(len, lines)) <= limit)
    ):
        return _records_simple(lines)

    return _records_general(text, lines)
