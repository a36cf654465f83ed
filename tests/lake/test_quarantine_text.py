"""The text a quarantine keeps for a value of each Arrow type: the value that arrived, exactly."""

import datetime as dt
import decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from platform_lib.lake.publish.quarantine_text import TEXT_TYPE, as_text

CASES = {
    "text": (pa.array(["a b", ""], pa.large_string()), ["a b", ""]),
    "dictionary": (pa.array(["x", "y", "x"]).dictionary_encode(), ["x", "y", "x"]),
    "int8": (pa.array([-128, 127], pa.int8()), ["-128", "127"]),
    "uint64": (pa.array([2**64 - 1], pa.uint64()), ["18446744073709551615"]),
    "boolean": (pa.array([True, False]), ["true", "false"]),
    "decimal with its scale": (
        pa.array([decimal.Decimal("1.50"), decimal.Decimal("-0.05")], pa.decimal128(19, 2)),
        ["1.50", "-0.05"],
    ),
    "float, shortest exact": (
        pa.array([0.1, 1e-7, 1e20, float("nan"), float("-inf")]),
        ["0.1", "1e-7", "1e+20", "nan", "-inf"],
    ),
    "float32, widened": (pa.array([0.1, 1.5], pa.float32()), ["0.10000000149011612", "1.5"]),
    "date": (pa.array([dt.date(2026, 3, 1)]), ["2026-03-01"]),
    "time": (pa.array([dt.time(9, 30, 0, 5)]), ["09:30:00.000005"]),
    "naive timestamp": (
        pa.array([dt.datetime(2026, 3, 1, 9, 30)], pa.timestamp("ms")),
        ["2026-03-01T09:30:00.000"],
    ),
    "zoned timestamp, its own offset": (
        pa.array(
            [dt.datetime(2026, 7, 1, 9, 30, tzinfo=ZoneInfo("America/New_York"))],
            pa.timestamp("s", tz="America/New_York"),
        ),
        ["2026-07-01T09:30:00-04:00"],
    ),
    "nanoseconds": (
        pa.array([1_772_357_400_123_456_789], pa.timestamp("ns", tz="UTC")),
        ["2026-03-01T09:30:00.123456789+00:00"],
    ),
    "duration": (pa.array([dt.timedelta(seconds=90)], pa.duration("ms")), ["90000ms"]),
    "binary as base64": (pa.array([b"\xff\x00"]), ["/wA="]),
    "list as JSON": (pa.array([[1, 2], []]), ["[1, 2]", "[]"]),
    "struct as JSON, decimals as strings": (
        pa.array(
            [{"amount": decimal.Decimal("2.10"), "at": dt.date(2026, 3, 1), "ok": None}],
            pa.struct([("amount", pa.decimal128(5, 2)), ("at", pa.date32()), ("ok", pa.bool_())]),
        ),
        ['{"amount": "2.10", "at": "2026-03-01", "ok": null}'],
    ),
    "map with text keys as an object": (
        pa.array([[("eur", 3)]], pa.map_(pa.string(), pa.int64())),
        ['{"eur": 3}'],
    ),
    "nested timestamps, to the nanosecond": (
        pa.array([[2, None]], pa.list_(pa.timestamp("ns", tz="UTC"))),
        ['["1970-01-01T00:00:00.000000002+00:00", null]'],
    ),
    "nested durations, binary and non-finite floats": (
        pa.array(
            [{"wait": [dt.timedelta(seconds=1)], "raw": b"\xff", "score": float("nan")}],
            pa.struct(
                [
                    ("wait", pa.list_(pa.duration("ns"))),
                    ("raw", pa.binary()),
                    ("score", pa.float64()),
                ]
            ),
        ),
        ['{"wait": ["1000000000ns"], "raw": "/w==", "score": "nan"}'],
    ),
    "map with other keys as pairs": (
        pa.array([[(1, "one")]], pa.map_(pa.int64(), pa.string())),
        ['[[1, "one"]]'],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_each_type_is_kept_as_the_text_of_its_value(name: str) -> None:
    values, expected = CASES[name]
    with_null = pa.concat_arrays([pa.nulls(1, values.type), values, pa.nulls(1, values.type)])

    text = as_text(pa.chunked_array([with_null.slice(0, 1), with_null.slice(1)]))

    assert text.type == TEXT_TYPE
    assert text.to_pylist() == [None, *expected, None]
