"""How a rejected row carries the rules it broke: one column, one Arrow type, on every tier."""

import pyarrow as pa

VIOLATIONS_COLUMN = "violated_rules"
"""The column listing, per rejected row, the ids of the rules it broke."""
VIOLATIONS_TYPE = pa.list_(pa.string())
"""Its Arrow type."""
