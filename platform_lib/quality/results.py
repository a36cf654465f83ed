"""Typed results of validating a batch: one per rule, and the batch's verdict."""

from pydantic import BaseModel, ConfigDict

from platform_lib.contracts.rules import Severity


class RuleResult(BaseModel):
    """The outcome of one rule over one batch."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    kind: str
    severity: Severity
    blocking: bool
    """Whether this failure stops the publish and the table's consumers."""
    passed: bool
    observed: float | None = None
    """The measured value: a count, a share, a row count or an SQL rule's result."""
    threshold: str = ""
    """What the observed value had to satisfy, as text."""
    failed_rows: int | None = None
    """Rows breaking a row-level rule (they are quarantined)."""
    samples: tuple[str, ...] = ()
    """A few keys of failing rows, e.g. ``transaction_id=tx_000042``."""
    message: str


class ValidationResult(BaseModel):
    """Every rule's outcome for one batch."""

    model_config = ConfigDict(frozen=True)

    rows_in: int
    rows_valid: int
    rows_rejected: int
    rules: tuple[RuleResult, ...]

    @property
    def blocked(self) -> bool:
        """Whether a blocking rule failed, so nothing may be committed."""
        return any(r.blocking and not r.passed for r in self.rules)

    @property
    def failed_blocking(self) -> list[RuleResult]:
        """The blocking rules that failed."""
        return [r for r in self.rules if r.blocking and not r.passed]

    @property
    def rejected_by_rule(self) -> dict[str, int]:
        """Rows rejected per row-level rule (a row breaking two rules counts for both)."""
        return {
            r.rule_id: r.failed_rows
            for r in self.rules
            if r.failed_rows and r.kind != "quarantine_threshold"
        }
