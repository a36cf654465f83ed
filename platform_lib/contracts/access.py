"""Who may read a table, and which of its columns another domain sees in clear.

The rules, from the contracts alone:

- a domain reads its own tables, private ones included, in clear;
- another domain reads a ``public`` or ``internal`` table, and any raw table (raw is the
  platform's layer, readable by every domain); a ``private`` table is refused;
- in a read across domains, a column whose ``classification`` is one of
  :data:`MASKED_CLASSIFICATIONS` arrives masked (the SHA-256 of its text, NULL kept NULL: equal
  values stay equal, so joins and counts still work) unless the consumer's contract declares, in
  ``customProperties`` ``readPurposes``, a purpose for that table and column which the producer's
  contract lists in ``allowedPurposes``.

Example:
    >>> decision = read_decision(consumer, producer, columns=("account_id", "amount"))
    >>> decision.refusal, decision.masked
    (None, ('account_id',))
"""

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from platform_lib.contracts.model import Access, TableContract
from platform_lib.conventions import Layer, TableKey

MASKED_CLASSIFICATIONS = frozenset({"restricted", "confidential", "pii"})
"""Column classifications (case-insensitive) masked in reads across domains."""


class ReadDecision(BaseModel):
    """What a consumer may see of one table it reads."""

    model_config = ConfigDict(frozen=True)

    table: TableKey
    refusal: str | None = None
    """Why the read is refused, or None when it is allowed."""
    masked: tuple[str, ...] = ()
    """Columns read that arrive masked."""
    in_clear: tuple[str, ...] = ()
    """Restricted columns read in clear thanks to a declared and allowed purpose."""


def is_masked_classification(classification: str | None) -> bool:
    """Whether a column of this classification is masked in reads across domains."""
    return classification is not None and classification.lower() in MASKED_CLASSIFICATIONS


def read_decision(
    consumer: TableContract,
    producer_key: TableKey,
    producer: TableContract | None,
    *,
    columns: Sequence[str] | None = None,
) -> ReadDecision:
    """Whether ``consumer``'s table may read ``producer_key``, and which ``columns`` are masked.

    Args:
        consumer: The contract of the table reading.
        producer_key: The table read.
        producer: Its contract (None when it has none: readable by its own domain only).
        columns: The columns read (None: every column of the producer's contract).
    """
    if producer_key.domain == consumer.key.domain:
        return ReadDecision(table=producer_key)
    if producer is None:
        return ReadDecision(
            table=producer_key,
            refusal=f"{consumer.key} reads {producer_key}, which has no contract saying another "
            f"domain may read it (only {producer_key.domain} may)",
        )
    if producer.access is Access.PRIVATE and producer_key.layer is not Layer.RAW:
        return ReadDecision(
            table=producer_key,
            refusal=f"{consumer.key} reads {producer_key}, which is private to "
            f"{producer_key.domain} (its contract {producer.source.name} says access: private); "
            f"ask {producer_key.domain} to publish it as public or internal",
        )
    read = producer.column_names if columns is None else tuple(columns)
    restricted = [
        name
        for name in read
        if (column := producer.column(name)) is not None
        and is_masked_classification(column.classification)
    ]
    allowed = {
        column
        for purpose in consumer.read_purposes
        if purpose.table == producer_key and purpose.purpose in producer.allowed_purposes
        for column in purpose.columns
    }
    return ReadDecision(
        table=producer_key,
        masked=tuple(c for c in restricted if c not in allowed),
        in_clear=tuple(c for c in restricted if c in allowed),
    )
