"""The finance domain's code location."""

from domains.finance.assets import daily_revenue, reconciliation
from platform_lib import domain_definitions

defs = domain_definitions("finance", tables=[daily_revenue, reconciliation])
