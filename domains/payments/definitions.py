"""The payments domain's code location."""

from domains.payments.assets import (
    settlements,
    settlements_v2,
    transactions,
    transactions_landing,
)
from platform_lib import domain_definitions

defs = domain_definitions(
    "payments",
    sources=[transactions_landing],
    tables=[transactions, settlements, settlements_v2],
)
