"""A rule of the mesh broken by one subject: what loading the mesh and ``mesh check`` report.

The rules themselves, with their rationale, are governance's (:mod:`platform_lib.governance.rules`).
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Level(StrEnum):
    """An error fails the check; a warning is reported and does not."""

    ERROR = "error"
    WARNING = "warning"


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
    cause: str | None = None
    """The file whose own finding this violation follows from (a broken contract), if any: a
    report that shows that finding need not repeat this one."""

    @property
    def counts(self) -> bool:
        """Whether it fails the check: an error that is not exempted."""
        return self.level is Level.ERROR and self.exemption is None
