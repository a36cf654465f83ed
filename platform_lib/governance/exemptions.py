"""Exemptions from convention rules, each for one subject and with a reason.

``governance/exemptions.yaml``::

    exemptions:
      - rule: layer-reads
        subject: fraud/product/account_risk
        reason: reads the payments quarantine on purpose until the review table exists (FRAUD-12)
"""

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from platform_lib.errors import MeshError
from platform_lib.governance.rules import RULES
from platform_lib.mesh.violations import Violation

EXEMPTIONS_FILE = Path("governance") / "exemptions.yaml"


class Exemption(BaseModel):
    """One rule waived for one subject."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    subject: str
    reason: str = Field(min_length=10, description="Why, and until when; reviewed like code.")


class ExemptionsFile(BaseModel):
    """The exemptions file's content."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exemptions: tuple[Exemption, ...] = ()


def load_exemptions(path: Path) -> tuple[Exemption, ...]:
    """The exemptions in ``path`` (none when it does not exist)."""
    if not path.is_file():
        return ()
    try:
        parsed = ExemptionsFile.model_validate(yaml.safe_load(path.read_text()) or {})
    except (yaml.YAMLError, ValidationError) as error:
        raise MeshError(
            f"{path} is not a valid exemptions file: {str(error).splitlines()[0]}",
            fix="list entries as {rule, subject, reason} under `exemptions:`",
        ) from error
    unknown = [e.rule for e in parsed.exemptions if e.rule not in RULES]
    if unknown:
        raise MeshError(
            f"{path} exempts unknown rule(s): {', '.join(unknown)}",
            fix=f"use rule ids from `mesh check --help`: {', '.join(RULES)}",
        )
    return parsed.exemptions


def apply_exemptions(
    violations: list[Violation], exemptions: tuple[Exemption, ...]
) -> list[Violation]:
    """Mark each violation an exemption covers with the exemption's reason."""
    reasons = {(e.rule, e.subject): e.reason for e in exemptions}
    return [
        v.model_copy(update={"exemption": reasons[(v.rule_id, v.subject)]})
        if (v.rule_id, v.subject) in reasons
        else v
        for v in violations
    ]
