"""``mesh new domain`` and ``mesh new table``: plan the files, refuse to overwrite, then write.

A plan is computed first and checked as a whole (name valid and free, no file already there), so
a refusal leaves nothing half-written; ``--dry-run`` prints the plan.
"""

import csv
import io
import json
import keyword
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from platform_lib.conventions import NAME_PATTERN, Layer
from platform_lib.errors import MeshError
from platform_lib.mesh.workspace import WORKSPACE_FILE, read_workspace_modules
from platform_lib.scaffold import templates

EXAMPLE_TABLE = "events"


class SourceFormat(StrEnum):
    """The format of a new domain's landing files."""

    CSV = "csv"
    JSONL = "jsonl"


@dataclass(frozen=True)
class PlannedFile:
    """A file to create, relative to the project root."""

    path: Path
    content: str


@dataclass(frozen=True)
class Plan:
    """What a scaffold command will write."""

    files: tuple[PlannedFile, ...]
    workspace_entry: str | None = None
    """Text appended to workspace.yaml (a new code location), if any."""


def plan_domain(root: Path, name: str, owner: str, source: SourceFormat) -> Plan:
    """The files of a new domain: code location, contracts, tests, sample landing file."""
    _check_new_name(name, "domain")
    taken = {location for location, _ in read_workspace_modules(root / WORKSPACE_FILE)}
    if name in taken or (root / "domains" / name).exists():
        raise MeshError(
            f"domain {name!r} already exists (in {WORKSPACE_FILE} or domains/{name}/)",
            fix="pick another name, or add tables to it with `mesh new table`",
        )
    team = _team(owner)
    table = EXAMPLE_TABLE
    words = {"domain": name, "table": table, "team": team}
    source_class = "CsvSource" if source is SourceFormat.CSV else "JsonlSource"
    files = [
        PlannedFile(Path("domains", name, "__init__.py"), templates.DOMAIN_INIT.format(**words)),
        PlannedFile(Path("domains", name, "definitions.py"), templates.DEFINITIONS.format(**words)),
        PlannedFile(
            Path("domains", name, "sources.py"),
            templates.SOURCE.format(source_class=source_class, **words),
        ),
        PlannedFile(
            Path("domains", name, f"{table}.py"),
            templates.CURATED.format(singular=table.removesuffix("s"), **words),
        ),
        PlannedFile(
            Path("contracts", name, "raw", f"{table}.odcs.yaml"),
            _contract(
                name,
                Layer.RAW,
                table,
                team,
                "public",
                templates.RAW_SCHEMA,
                f"Every {table} record of the landing files, as text.",
            ),
        ),
        PlannedFile(
            Path("contracts", name, "curated", f"{table}.odcs.yaml"),
            _contract(
                name,
                Layer.CURATED,
                table,
                team,
                "private",
                templates.CURATED_SCHEMA,
                f"Valid {table}, typed, one row per id.",
            ),
        ),
        PlannedFile(
            Path("data", "landing", name, table, f"sample.{source.value}"),
            sample_landing_file(table, source),
        ),
        PlannedFile(
            Path("tests", "domains", f"test_{name}.py"), templates.DOMAIN_TEST.format(**words)
        ),
    ]
    plan = Plan(files=tuple(files), workspace_entry=templates.WORKSPACE_ENTRY.format(**words))
    _check_free(root, plan)
    return plan


def plan_table(root: Path, domain: str, table: str, layer: Layer, read: str) -> Plan:
    """A new table in an existing domain: its module and its contract."""
    if not (root / "domains" / domain / "definitions.py").is_file():
        raise MeshError(
            f"domain {domain!r} does not exist (no domains/{domain}/definitions.py)",
            fix=f"create it first with `mesh new domain {domain} --owner team:{domain}`",
        )
    _check_new_name(table, "table")
    if layer is Layer.RAW:
        raise MeshError(
            "raw tables come from landing sources",
            fix="declare a CsvSource or JsonlSource in the domain (see its sources.py)",
        )
    description = f"Describe what one row of {table} is."
    plan = Plan(
        files=(
            PlannedFile(
                Path("domains", domain, f"{table}.py"),
                templates.TABLE.format(
                    table=table,
                    layer_title=layer.value.capitalize(),
                    layer_upper=layer.name,
                    read=read,
                    description=description,
                ),
            ),
            PlannedFile(
                Path("contracts", domain, layer.value, f"{table}.odcs.yaml"),
                _contract(
                    domain, layer, table, domain, "private", templates.TABLE_SCHEMA, description
                ),
            ),
        )
    )
    _check_free(root, plan)
    return plan


def sample_landing_file(table: str, source: SourceFormat) -> str:
    """The sample records of a new domain's landing folder, as CSV or JSON Lines."""
    columns = (f"{table}_id", "account_id", "amount", "occurred_at")
    rows = [
        (f"{table[:3]}_{n}", account, amount, at)
        for n, account, amount, at in templates.SAMPLE_ROWS
    ]
    if source is SourceFormat.CSV:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return out.getvalue()
    lines = []
    for row in rows:
        record = {c: v for c, v in zip(columns, row, strict=True) if v}
        lines.append(json.dumps(record))
    return "\n".join(lines) + "\n"


def write_plan(root: Path, plan: Plan) -> None:
    """Create the planned files (their folders too) and append the workspace entry."""
    for planned in plan.files:
        target = root / planned.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(planned.content)
    if plan.workspace_entry is not None:
        workspace = root / WORKSPACE_FILE
        text = workspace.read_text()
        workspace.write_text(text + ("" if text.endswith("\n") else "\n") + plan.workspace_entry)


def _contract(
    domain: str, layer: Layer, table: str, team: str, access: str, schema: str, purpose: str
) -> str:
    header = templates.CONTRACT_HEADER.format(
        comment=f"{domain}/{layer.value}/{table}: scaffolded by `mesh new`; make it yours.",
        domain=domain,
        layer=layer.value,
        table=table,
        title=f"{domain} {layer.value} {table}",
        purpose=purpose,
        team=team,
        access=access,
    )
    return header + schema.format(table=table)


MAX_NAME_LENGTH = 30


def _check_new_name(name: str, what: str) -> None:
    too_long = len(name) > MAX_NAME_LENGTH
    if not NAME_PATTERN.match(name) or keyword.iskeyword(name) or "__" in name or too_long:
        raise MeshError(
            f"{what} name {name!r} is not valid",
            fix=f"use up to {MAX_NAME_LENGTH} lower-case letters, digits and single underscores, "
            "starting with a letter (and not a Python keyword)",
        )


def _team(owner: str) -> str:
    team = owner.removeprefix("team:")
    if not owner.startswith("team:") or not NAME_PATTERN.match(team):
        raise MeshError(
            f"owner {owner!r} is not a team",
            fix="name the owning team as team:<name>, e.g. --owner team:shipping",
        )
    return team


def _check_free(root: Path, plan: Plan) -> None:
    existing = [str(f.path) for f in plan.files if (root / f.path).exists()]
    if existing:
        raise MeshError(
            f"refusing to overwrite: {', '.join(existing)} already exist(s)",
            fix="remove them first, or choose another name",
        )
