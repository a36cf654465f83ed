"""The text a quarantine keeps for a value of any Arrow type: the original value, losslessly.

Every quarantine holds a contract's columns as text, whatever the rows arrived as (text from
landing files, or the typed values of a product function), so that all quarantines have one shape
and a row read back casts to the value it had:

- text stays as it is; a boolean is ``true`` or ``false``;
- an integer or a decimal is written in full, a decimal with its scale (``1.50``); a float is the
  shortest text that reads back to the same double (``0.1``, ``1e-7``, ``nan``, ``inf``), a
  32-bit float widened to a double first;
- a date is ``YYYY-MM-DD``; a time ``HH:MM:SS`` with the fraction its unit holds; a timestamp is
  ISO-8601, ``YYYY-MM-DDTHH:MM:SS`` with the fraction its unit holds, then, when it has a zone,
  the offset of that zone at that instant (``+01:00``);
- binary is base64; a duration is its whole count with the unit (``90s``, ``1500ms``);
- a list, struct or map is JSON (a map with text keys is an object, with other keys a list of
  ``[key, value]`` pairs); inside it, a decimal, date, time, timestamp, duration or binary
  value is a JSON string of its text as above, a non-finite float ``"nan"``/``"inf"``.
"""

import base64
import json
import math
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

TEXT_TYPE = pa.string()
"""The Arrow type of a contract column in a quarantine."""

_ZONE_OFFSET = r"([+-]\d\d)(\d\d)$"


def is_text(data_type: pa.DataType) -> bool:
    """Whether values of ``data_type`` are already text."""
    return (
        pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or pa.types.is_string_view(data_type)
    )


def as_text(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """``values`` as the text the quarantine keeps (see the module docstring); nulls stay null.

    Example:
        >>> as_text(pa.array([Decimal("1.50"), None], pa.decimal128(19, 2))).to_pylist()
        ['1.50', None]
    """
    column = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    data_type = column.type
    if pa.types.is_dictionary(data_type):
        return as_text(column.cast(data_type.value_type))
    if is_text(data_type) or pa.types.is_null(data_type):
        return column.cast(TEXT_TYPE)
    if pa.types.is_floating(data_type):
        return column.cast(pa.float64()).cast(TEXT_TYPE)
    if (
        pa.types.is_integer(data_type)
        or pa.types.is_decimal(data_type)
        or pa.types.is_boolean(data_type)
        or pa.types.is_date(data_type)
        or pa.types.is_time(data_type)
    ):
        return column.cast(TEXT_TYPE)
    if pa.types.is_timestamp(data_type):
        return _timestamp_text(column, data_type)
    if pa.types.is_duration(data_type):
        counts = column.cast(pa.int64()).cast(TEXT_TYPE)
        return pc.binary_join_element_wise(counts, pa.scalar(data_type.unit), "")
    if pa.types.is_binary(data_type) or pa.types.is_large_binary(data_type):
        return _each(column, lambda value: base64.b64encode(value).decode("ascii"))
    return _each(
        pa.chunked_array([_json_ready(chunk) for chunk in column.chunks], _json_ready_type(column)),
        lambda value: json.dumps(_json_value(value), ensure_ascii=False),
    )


def _timestamp_text(column: pa.ChunkedArray, data_type: pa.TimestampType) -> pa.ChunkedArray:
    """ISO-8601 with the unit's fraction and, when zoned, the ``+HH:MM`` offset."""
    zoned = data_type.tz is not None
    text = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S" + ("%z" if zoned else ""))
    if zoned:
        text = pc.replace_substring_regex(text, _ZONE_OFFSET, r"\1:\2")
    return text


def _each(column: pa.ChunkedArray, render: Callable[[Any], str]) -> pa.ChunkedArray:
    """Each value of ``column`` rendered by ``render`` (nulls stay null), in Python."""
    texts = [None if value is None else render(value) for value in column.to_pylist()]
    return pa.chunked_array([pa.array(texts, TEXT_TYPE)], TEXT_TYPE)


def _json_ready(values: pa.Array) -> pa.Array:
    """``values`` of a nested type with each leaf JSON cannot hold as it is (a decimal, date,
    time, timestamp, duration or binary value) replaced by its text (:func:`as_text`), so that
    ``to_pylist`` gives plain data (a nanosecond timestamp would not convert)."""
    values = pa.concat_arrays([values])  # a slice starts at offset 0 (rebuilding needs it)
    data_type = values.type
    if pa.types.is_dictionary(data_type):
        return _json_ready(values.cast(data_type.value_type))
    if pa.types.is_fixed_size_list(data_type):
        return _json_ready(values.cast(pa.list_(data_type.value_field)))
    if pa.types.is_map(data_type):
        return pa.MapArray.from_arrays(
            values.offsets,
            _json_ready(values.keys),
            _json_ready(values.items),
            mask=values.is_null(),
        )
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        lists = pa.ListArray if pa.types.is_list(data_type) else pa.LargeListArray
        return lists.from_arrays(values.offsets, _json_ready(values.values), mask=values.is_null())
    if pa.types.is_struct(data_type):
        names = [data_type.field(index).name for index in range(data_type.num_fields)]
        children = [_json_ready(values.field(index)) for index in range(data_type.num_fields)]
        return pa.StructArray.from_arrays(children, names=names, mask=values.is_null())
    if _is_json_native(data_type):
        return values
    return as_text(values).combine_chunks()


def _json_ready_type(column: pa.ChunkedArray) -> pa.DataType:
    """The type :func:`_json_ready` gives ``column``'s chunks."""
    return _json_ready(pa.array([], column.type)).type


def _is_json_native(data_type: pa.DataType) -> bool:
    """Whether ``to_pylist`` gives values of ``data_type`` as JSON holds them."""
    return (
        pa.types.is_null(data_type)
        or pa.types.is_boolean(data_type)
        or pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or is_text(data_type)
    )


def _json_value(value: Any) -> Any:
    """``value`` (as ``to_pylist`` gives a :func:`_json_ready` array's) as plain JSON data."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, list) and value and all(_is_text_keyed_pair(item) for item in value):
        return {key: _json_value(item) for key, item in value}  # a map with text keys
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return value


def _is_text_keyed_pair(item: Any) -> bool:
    """Whether ``item`` is an entry of a map with text keys, as ``to_pylist`` gives it."""
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
