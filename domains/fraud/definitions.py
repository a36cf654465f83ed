"""The fraud domain's code location."""

from domains.fraud.assets import account_risk
from platform_lib import domain_definitions

defs = domain_definitions("fraud", tables=[account_risk])
