"""Findings about a contract file: where, which rule, what is wrong and how to fix it.

Printed as ``path:line:col: [rule-id] message (fix: ...)``, the form editors and CI annotations
understand. Two levels are kept apart: ``standard`` (the file is not valid ODCS) and
``convention`` (valid ODCS, but it breaks this platform's conventions).
"""

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict

FieldPath = tuple[str | int, ...]
"""A location inside a contract document, e.g. ``("schema", 0, "properties", 2, "quality")``."""


class FindingLevel(StrEnum):
    """Whether a finding breaks the ODCS standard or this platform's conventions."""

    STANDARD = "standard"
    CONVENTION = "convention"


class Finding(BaseModel):
    """One problem in one contract file."""

    model_config = ConfigDict(frozen=True)

    file: Path
    line: int
    """1-based line of the offending field (1 when unknown)."""
    column: int
    """1-based column of the offending field (1 when unknown)."""
    field: str
    """The field path as text, e.g. ``schema[0].properties[2].physicalType``."""
    rule_id: str
    level: FindingLevel
    message: str
    fix: str

    def render(self) -> str:
        """``path:line:col: [rule-id] message (fix: ...)``."""
        return (
            f"{self.file}:{self.line}:{self.column}: [{self.rule_id}] "
            f"{self.field}: {self.message} (fix: {self.fix})"
        )


class Issue(BaseModel):
    """A finding before it is placed in a file: what the compile step reports."""

    model_config = ConfigDict(frozen=True)

    path: FieldPath
    rule_id: str
    level: FindingLevel = FindingLevel.CONVENTION
    message: str
    fix: str


def field_path_text(path: FieldPath) -> str:
    """``("schema", 0, "name")`` -> ``schema[0].name``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(document)"
