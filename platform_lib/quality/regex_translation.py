"""Contract patterns (RE2, as DuckDB reads them) translated for polars (Rust's ``regex``).

DuckDB's ``regexp_full_match`` is RE2; polars' ``str.contains`` is Rust's ``regex``. Their syntax
and semantics agree on literals, ``.``, anchors, groups, alternation, greedy and lazy quantifiers
and plain character classes; they differ on ``\\d \\w \\s`` (and their negations), which RE2 reads
as ASCII and Rust as Unicode, so those are spelled out as their ASCII classes. Anything else
(flags, Unicode classes, word boundaries, named groups, nested or set-operation classes, ``\\<``,
counted repetitions RE2 refuses, stacked repetitions) is not translated: :func:`rust_pattern`
returns None and the DuckDB query judges the pattern instead. So does a pattern RE2 itself does not
compile (the query then reports the error), or one Rust's ``regex`` refuses (e.g. over its size
limit).

Example:
    >>> rust_pattern(r"tx_\\d{3}")
    'tx_[0-9]{3}'
    >>> rust_pattern(r"(?i)tx") is None
    True
"""

import functools
import re
import string

import duckdb
import polars as pl

_PERL_CLASSES = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": "[0-9A-Za-z_]",
    "W": "[^0-9A-Za-z_]",
    "s": "[\\t\\n\\f\\r ]",
    "S": "[^\\t\\n\\f\\r ]",
}
"""RE2's ASCII-only ``\\d \\w \\s`` and negations, spelled out for Rust (Unicode by default)."""
_IN_CLASS = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}
_CONTROL = frozenset("tnrfv")
_LITERAL_ESCAPES = frozenset(string.punctuation) - {"<", ">"}
"""Escaped punctuation is the literal in both; Rust reads ``\\<`` and ``\\>`` as word bounds."""
_REPEAT = re.compile(r"\{(\d+)(?:(,)(\d*))?\}")
_MAX_REPEAT = 1000


@functools.lru_cache(maxsize=512)
def rust_pattern(pattern: str) -> str | None:
    """``pattern`` (RE2, as DuckDB reads it) for Rust's ``regex`` with the same matches, or None
    when it uses a construct outside the subset both read alike, or RE2 refuses it."""
    out: list[str] = []
    depth = 0
    atom = False  # whether the previous token may be repeated
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            token = _escape(pattern, i, in_class=False)
            if token is None:
                return None
            out.append(token)
            atom, i = True, i + 2
        elif char == "[":
            end = _class(pattern, i)
            if end is None:
                return None
            token, i = end
            out.append(token)
            atom = True
        elif char == "(":
            if pattern.startswith("(?:", i):
                out.append("(?:")
                i += 3
            elif pattern.startswith("(?", i):
                return None  # flags, named groups, look-arounds
            else:
                out.append("(")
                i += 1
            depth, atom = depth + 1, False
        elif char == ")":
            if depth == 0:
                return None
            out.append(")")
            depth, atom, i = depth - 1, True, i + 1
        elif char in "*+?{":
            if not atom:
                return None
            if char == "{":
                repeat = _REPEAT.match(pattern, i)
                if repeat is None or not _repeat_ok(repeat):
                    return None
                out.append(repeat.group(0))
                i = repeat.end()
            else:
                out.append(char)
                i += 1
            if pattern.startswith("?", i):  # lazy: the same full matches
                out.append("?")
                i += 1
            if i < len(pattern) and pattern[i] in "*+?{":
                return None  # stacked repetitions: RE2 refuses some, Rust reads others
            atom = False
        elif char in "^$|":
            out.append(char)
            atom, i = False, i + 1
        elif char in "]}":
            return None
        else:  # a literal, or "."
            out.append(char)
            atom, i = True, i + 1
    translated = "".join(out)
    if depth != 0 or not _re2_compiles(pattern) or not _rust_compiles(_anchored(translated)):
        return None
    return translated


def rust_full_match(pattern: str) -> str | None:
    """A Rust ``regex`` that finds a match in a text exactly when RE2's ``regexp_full_match``
    matches the whole text with ``pattern``; None where :func:`rust_pattern` is.

    Example:
        >>> rust_full_match(r"tx_\\d{3}|-")
        '^(?:tx_[0-9]{3}|-)$'
    """
    translated = rust_pattern(pattern)
    return None if translated is None else _anchored(translated)


def _anchored(translated: str) -> str:
    return f"^(?:{translated})$"


def _escape(pattern: str, i: int, *, in_class: bool) -> str | None:
    if i + 1 >= len(pattern):
        return None
    char = pattern[i + 1]
    if char in _CONTROL or char in _LITERAL_ESCAPES:
        return "\\" + char
    if in_class:
        return _IN_CLASS.get(char)
    return _PERL_CLASSES.get(char)


def _class(pattern: str, start: int) -> tuple[str, int] | None:
    """The class opening at ``start`` for Rust, and the index after it; None when unsupported."""
    i = start + 1
    out = ["["]
    if pattern.startswith("^", i):
        out.append("^")
        i += 1
    if pattern.startswith("]", i):
        return None  # a leading "]": literal in both, but rare enough to leave to the query
    first = i
    while i < len(pattern):
        char = pattern[i]
        if char == "]":
            return "".join(out) + "]", i + 1
        if char == "[" or (char in "&~-" and pattern.startswith(char * 2, i)):
            return None  # POSIX or nested classes, Rust's set operations
        if char == "-" and i != first and not pattern.startswith("-]", i):
            return None  # a dash that is neither first, last nor inside a range
        low, i = _class_char(pattern, i)
        if low is None:
            return None
        if pattern.startswith("-", i) and not pattern.startswith("-]", i):
            high, i = _class_char(pattern, i + 1)
            if high is None or len(low) > 2 or len(high) > 2 or _code(low) > _code(high):
                return None
            out.append(f"{low}-{high}")
        else:
            out.append(low)
    return None


def _class_char(pattern: str, i: int) -> tuple[str | None, int]:
    if i >= len(pattern):
        return None, i
    if pattern[i] == "\\":
        return _escape(pattern, i, in_class=True), i + 2
    if pattern[i] in "[]":
        return None, i
    return pattern[i], i + 1


_CONTROL_CODES = {"t": 9, "n": 10, "v": 11, "f": 12, "r": 13}


def _code(token: str) -> int:
    if len(token) == 2:  # an escape: a control character or punctuation
        return _CONTROL_CODES.get(token[1], ord(token[1]))
    return ord(token)


def _repeat_ok(repeat: re.Match[str]) -> bool:
    low = int(repeat.group(1))
    high = low if repeat.group(2) is None else int(repeat.group(3) or low)
    return low <= _MAX_REPEAT and high <= _MAX_REPEAT and low <= high


@functools.lru_cache(maxsize=512)
def _re2_compiles(pattern: str) -> bool:
    """Whether DuckDB's RE2 accepts ``pattern`` (a refused one is the query's error to report)."""
    try:
        with duckdb.connect(":memory:") as connection:
            connection.execute("SELECT regexp_full_match('', ?)", [pattern]).fetchall()
    except duckdb.Error:
        return False
    return True


def _rust_compiles(pattern: str) -> bool:
    """Whether polars (Rust's ``regex``) accepts ``pattern`` (e.g. within its size limit)."""
    try:
        pl.Series([""]).str.contains(pattern)
    except pl.exceptions.PolarsError:
        return False
    return True
