"""What ``mesh check`` reports: named convention rules, and violations of them.

Every rule has an id, a one-line rationale (why the mesh has it) and can be exempted for one
subject in ``governance/exemptions.yaml`` with a reason.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Level(StrEnum):
    """An error fails the check; a warning is reported and does not."""

    ERROR = "error"
    WARNING = "warning"


RULES: dict[str, str] = {
    "contract-lint": "Contracts are valid ODCS and follow the platform's conventions.",
    "location-import": "Every code location loads, so the mesh can be checked at all.",
    "key-layout": "Asset keys are [domain, layer, table], the domain being the code location.",
    "key-ownership": "A table belongs to one domain; two definitions of a key hide one silently.",
    "owners": "Every table has owners, so an incident reaches a team.",
    "contract-coverage": "Every published table has a contract and every contract a table.",
    "contract-schema": "The columns an asset declares are its contract's columns and types.",
    "layer-reads": "Products build on curated, product or raw data, never on quarantines.",
    "domain-cycle": "Domains depend on each other without cycles, so each can ship alone.",
    "undeclared-read": "Cross-domain reads are declared, so producers know their consumers.",
    "consumer-producer": "A consumer reads a table that exists.",
    "consumer-access": "A consumer reads only what the producer shares (public or internal).",
    "consumer-major": "A consumer reads a major version the producer publishes.",
    "consumer-columns": "A consumer reads only columns its producer's contract promises.",
    "consumer-deprecated": "A consumer migrates off a deprecated major before its date.",
    "read-purposes": "A purpose declared to read restricted columns names a table, its columns "
    "and a purpose the producer allows.",
    "breaking-change": "A breaking change to a contract comes with a new major version.",
    "base-revision": "The base revision for the comparison exists and its contracts parse.",
}
"""Rule id -> rationale."""


class Violation(BaseModel):
    """One rule broken by one subject (a table, a contract, a domain)."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    level: Level
    domain: str
    """The domain whose team has to act (the consumer, for consumer rules)."""
    subject: str
    """What breaks the rule: a table key, a contract file, a location name."""
    message: str
    fix: str
    exemption: str | None = None
    """The reason it is exempted, when ``governance/exemptions.yaml`` exempts it."""

    @property
    def counts(self) -> bool:
        """Whether it fails the check: an error that is not exempted."""
        return self.level is Level.ERROR and self.exemption is None
