"""Contract patterns translated from RE2 (DuckDB) to Rust's regex (polars), or refused.

A translation must match exactly the strings RE2 matches: the engine's DuckDB query is the
reference the polars tiers are held to. Python's ``re`` (ASCII) reads the translated subset alike
too, save for ``\\v``, which its ``\\s`` counts as a space and RE2's does not.
"""

import itertools
import re

import duckdb
import polars as pl
import pyarrow as pa
import pytest

from platform_lib.quality.regex_translation import rust_full_match, rust_pattern

PROBES = [
    "a\nb", "\u0663", "3", "\u00e9", "a b", "a\u00a0b", "a\vb", "a\tb", "ab\n", "K", "\u212a",
    "_", "ab", "abab", "a-b", "tx_123", "x.", ".x", "[", "a]", "-", "^", "$", "a|b", "",
]  # fmt: skip
"""Strings where RE2 and Rust could differ: Unicode digits, letters and spaces, controls."""
SHORT_STRINGS = [
    "".join(chars)
    for length in range(4)
    for chars in itertools.product(["a", "b", "1", "_", "-", " ", "\n", "\u00e9"], repeat=length)
]
"""Every string of up to three of a few characters (585 of them)."""
SPELLED_OUT = {
    r"\d": "[0-9]", r"\D": "[^0-9]", r"\w": "[0-9A-Za-z_]", r"\W": "[^0-9A-Za-z_]",
    r"\s": r"[\t\n\f\r ]", r"\S": r"[^\t\n\f\r ]",
    r"tx_\d{3}": "tx_[0-9]{3}", r"\d+-\w?": "[0-9]+-[0-9A-Za-z_]?",
    # inside a class, as ranges
    r"[\d\s]+": r"[0-9\t\n\f\r ]+", r"[^\w]": "[^0-9A-Za-z_]",
    r"[\w.-]{1,4}": "[0-9A-Za-z_.-]{1,4}",
}  # fmt: skip
"""RE2's Perl classes are ASCII, Rust's Unicode: they are spelled out as ASCII classes."""
KEPT_AS_THEY_ARE = [
    # escaped punctuation and control characters
    r"\.\t\[\-\%\_", r"\v|\f|\n|\r", r"a\|b", r"\^|\$",
    # character classes: ranges, negation, a dash first or last or escaped, escapes, ] escaped
    r"[a-zA-Z0-9]", r"[^a-c]", r"[-a]", r"[a-]+", r"[a-c\-]+", r"[\t-\r]", r"[$^.]", r"[\]]",
    # repetitions, greedy and lazy
    r"a{2}", r"a{2,}", r"a{2,5}?", r"a+?b*c?", r"a??b",
    # anchors, groups, alternation, the empty pattern
    r"^ab$", r"(?:ab|cd)+", r"(a)(b|)", r"",
]  # fmt: skip
"""Patterns both read alike as they are."""
EXAMPLES = [
    r"a.b", r"\w+", r"a\sb", r"\S\s\S", r"(ab)*", r"(?:ab|a-b)+", r"\.x|x\.", r"\[", r"a\]",
    r"(a|)b?", r"[\t\v ]", r"\t|\v|\n", r"(a|b){1,2}_?", r"[^ab\n]*", r"\d+-?\d*", r"_+?1",
]  # fmt: skip
"""More patterns in the subset both read alike."""
TRANSLATED = [*SPELLED_OUT, *KEPT_AS_THEY_ARE, *EXAMPLES]
"""Each must match what RE2 matches."""


@pytest.mark.parametrize(("pattern", "translated"), SPELLED_OUT.items())
def test_perl_classes_are_spelled_out_in_ascii(pattern: str, translated: str) -> None:
    assert rust_pattern(pattern) == translated
    assert rust_full_match(pattern) == f"^(?:{translated})$"


def test_rusts_own_perl_classes_would_match_what_re2s_do_not() -> None:
    """Why ``\\d \\w \\s`` are spelled out: Rust's read Unicode digits, letters, spaces."""
    for pattern, text in ((r"\d", "\u0663"), (r"\w", "\u00e9"), (r"\s", "\u00a0")):
        regex = rust_full_match(pattern)
        assert regex is not None
        assert pl.Series([text]).str.contains(f"^{pattern}$").item()
        assert not pl.Series([text]).str.contains(regex).item()
        assert re.fullmatch(pattern, text, re.ASCII) is None


@pytest.mark.parametrize("pattern", KEPT_AS_THEY_ARE)
def test_patterns_both_read_alike_are_kept_as_they_are(pattern: str) -> None:
    assert rust_pattern(pattern) == pattern
    assert rust_full_match(pattern) == f"^(?:{pattern})$"


@pytest.mark.parametrize(
    "pattern",
    [
        # flags, look-arounds, named groups: (?...) other than (?:
        r"(?i)a", r"(?=a)", r"(?P<n>a)",
        # word boundaries (ASCII in RE2, Unicode in Rust), Rust's \< and \>, text anchors
        r"\bA", r"\B", r"\<a", r"a\>", r"\Aa", r"a\z",
        # Unicode and POSIX classes, escapes of codes, bytes and quoting, back-references
        r"\pL", r"\p{Greek}", r"[[:alpha:]]", r"\x41", r"\a", r"\0", r"\C", r"\Qa\E", r"\1",
        # classes: nested, set operations, a leading ], a class in a range, odd dashes
        r"[a&&b]", r"[a~~b]", r"[a--b]", r"[]a]", r"[a-\d]", r"[z-a]", r"[a-b-c]", r"[a",
        # repetitions: nothing to repeat, stacked, beyond RE2's 1000, malformed
        r"*a", r"a|*", r"a**", r"a++", r"a{2}{3}", r"a{1001}", r"a{1,1001}", r"a{3,2}",
        r"a{,3}", r"x{",
        # unbalanced
        r"(a", r"a)", r"]", r"}", "\\",
    ],
)  # fmt: skip
def test_patterns_outside_the_common_subset_are_refused(pattern: str) -> None:
    """None: the DuckDB query judges the pattern instead."""
    assert rust_pattern(pattern) is None
    assert rust_full_match(pattern) is None


def test_a_pattern_re2_refuses_is_refused() -> None:
    """Each repetition is within bounds, the whole too large for RE2: the query reports it."""
    pattern = r"(a{1000}){1000}"
    with duckdb.connect() as connection, pytest.raises(duckdb.Error):
        connection.execute("SELECT regexp_full_match('', ?)", [pattern]).fetchall()

    assert rust_pattern(pattern) is None


def test_a_pattern_over_rusts_size_limit_is_refused() -> None:
    """RE2 compiles it; polars' regex is over its size limit: the query judges it."""
    pattern = ".{1000}" * 20
    with duckdb.connect() as connection:
        connection.execute("SELECT regexp_full_match('', ?)", [pattern]).fetchall()

    assert rust_pattern(pattern) is None


@pytest.mark.parametrize("pattern", TRANSLATED)
def test_translated_patterns_match_what_re2_matches(pattern: str) -> None:
    regex = rust_full_match(pattern)
    assert regex is not None
    probes = PROBES + SHORT_STRINGS
    with duckdb.connect() as connection:
        connection.register("t", pa.table({"v": probes}))
        rows = connection.execute("SELECT regexp_full_match(v, ?) FROM t", [pattern]).fetchall()
    by_re2 = [row[0] for row in rows]

    assert pl.Series(probes).str.contains(regex).to_list() == by_re2


@pytest.mark.parametrize("pattern", TRANSLATED)
def test_translated_patterns_match_what_python_fullmatch_matches(pattern: str) -> None:
    regex = rust_full_match(pattern)
    assert regex is not None
    probes = [p for p in PROBES + SHORT_STRINGS if "\v" not in p]  # Python's \s has \v
    by_python = [re.fullmatch(pattern, probe, re.ASCII) is not None for probe in probes]

    assert pl.Series(probes).str.contains(regex).to_list() == by_python
