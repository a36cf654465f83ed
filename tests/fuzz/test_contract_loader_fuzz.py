"""Fuzzing the contract loader: a malformed contract gives findings naming its file, never a crash.

Every example is a mutation of a real contract (the mesh's own ``contracts/``, the project's
ODCS conformance corpus in ``tests/contracts/conformance/``, and the standard's examples when a
folder of them is given in ``MESH_ODCS_EXAMPLES``) that makes it malformed for sure: a
required field deleted, a field retyped or given a value outside its enum, a broken quality rule,
an unknown physical type, an invalid regular expression, a key, column or rule written twice, or
bytes that are not a YAML mapping (tabs in indentation, an unclosed quote, control bytes, bytes
that are not UTF-8, deep nesting, nested aliases, several documents, an empty file, random
bytes). Each is written to its own file and loaded through :func:`load_contract`; the load must
hold findings, each naming the file with a line, a rule id, a message and a fix, and no contract
when the file is not valid ODCS.

The CI budget is 1,000 generated contracts (derandomized), plus a few through ``mesh contracts
lint`` (in process and as a subprocess): exit 1, every file named, no traceback. Run more with
``FUZZ_EXAMPLES=20000 .venv/bin/pytest -q tests/fuzz/test_contract_loader_fuzz.py`` (see
:mod:`tests.fuzz.budget`). Files live in a temporary folder outside any project, so the on-disk
contract cache is not involved (and is switched off besides).
"""

import copy
import itertools
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from platform_lib.cache import CACHE_SWITCH
from platform_lib.cli.app import build_app
from platform_lib.contracts.findings import FindingLevel
from platform_lib.contracts.loader import ContractLoad, load_contract
from platform_lib.contracts.yaml_source import parse_yaml
from tests.contracts.conformance_corpus import conformance_contracts
from tests.fuzz.budget import fuzz_settings

PROJECT = Path(__file__).resolve().parents[2]
MESH = Path(sys.executable).parent / "mesh"
MAX_BASE_BYTES = 50_000
"""Larger examples (one of 190 kB, 68 tables) would spend the budget re-validating one file."""


@dataclass(frozen=True)
class BaseContract:
    """A real contract: where it sits (relative to a project), its text and its data."""

    relative: Path
    text: str
    data: dict[str, Any]


def _bases() -> tuple[BaseContract, ...]:
    files = sorted((PROJECT / "contracts").rglob("*.odcs.yaml"))
    relatives = [path.relative_to(PROJECT) for path in files]
    for contract in conformance_contracts():
        files.append(contract.path)
        relatives.append(Path(contract.name))
    bases = []
    for path, relative in zip(files, relatives, strict=True):
        if path.stat().st_size > MAX_BASE_BYTES:
            continue
        text = path.read_text()
        data = parse_yaml(text, path).data
        if data is not None:
            bases.append(BaseContract(relative, text, data))
    return tuple(bases)


BASES = _bases()
MESH_BASES = tuple(base for base in BASES if base.relative.parts[0] == "contracts")
UNKNOWN_TYPES = (
    "uuid",
    "varchar2(10)",
    "decimal(0,0)",
    "decimal(40,2)",
    "decimal(5,6)",
    "int128",
    "map<string,int>",
    "timestamp(9)",
    "",
)
BAD_REGEXES = ("([", "a{2,1}", "(?P<name", "*a", "a)", "[z-a]", "(?<=a)b", "\\", "x{99999}")
BAD_RULES: tuple[dict[str, Any], ...] = (
    {"metric": "nullValues", "mustBe": 0},
    {"id": "bad-id", "metric": "nullValues", "mustBe": 0},
    {"id": "fz_rule", "metric": "nullValues", "mustBe": "zero"},
    {"id": "fz_rule", "metric": "nullValues", "mustBe": [1]},
    {"id": "fz_rule", "metric": "nullValues"},
    {"id": "fz_rule", "metric": "invalidValues", "mustBe": 0},
    {"id": "fz_rule", "metric": "invalidValues", "arguments": {"validValues": "EUR"}, "mustBe": 0},
    {"id": "fz_rule", "metric": "invalidValues", "arguments": {"validValues": [True]}, "mustBe": 0},
    {"id": "fz_rule", "metric": "invalidValues", "arguments": {"pattern": "(["}, "mustBe": 0},
    {"id": "fz_rule", "metric": "missingValues", "arguments": {"missingValues": 3}, "mustBe": 0},
    {"id": "fz_rule", "metric": "nullz", "mustBe": 0},
    {"id": "fz_rule", "type": "sql", "query": "DELETE FROM ${table}", "mustBe": 0},
    {"id": "fz_rule", "type": "sql", "query": "SELECT 1; DROP TABLE x", "mustBe": 0},
    {"id": "fz_rule", "type": "custom", "engine": "soda", "implementation": "x", "mustBe": 0},
    {"id": "fz_rule", "type": "magic", "mustBe": 0},
)
TABLE_LEVEL_BAD_RULES: tuple[dict[str, Any], ...] = (
    {"id": "fz_rule", "metric": "nullValues", "mustBe": 0},
    {"id": "fz_rule", "metric": "duplicateValues", "mustBe": 0},
)
WRONG_ENUMS: tuple[tuple[tuple[str | int, ...], Any], ...] = (
    (("apiVersion",), "v9.9.9"),
    (("apiVersion",), "3.1.0"),
    (("kind",), "Contract"),
    (("schema", 0, "properties", 0, "logicalType"), "strang"),
    (("schema", 0, "properties", 0, "logicalType"), "timestamp"),
)
CUSTOM_ENUMS = (
    ("layer", "bronze"),
    ("layer", None),
    ("access", "secret"),
    ("quarantineThreshold", 1.5),
    ("quarantineThreshold", -0.1),
    ("quarantineThreshold", "high"),
    ("quarantineThreshold", True),
    ("deprecationDate", "someday"),
)
REQUIRED = (
    ("apiVersion",),
    ("kind",),
    ("id",),
    ("version",),
    ("schema",),
    ("servers",),
    ("team",),
    ("domain",),
    ("customProperties",),
    ("schema", 0, "name"),
    ("schema", 0, "properties", 0, "name"),
    ("schema", 0, "properties", 0, "physicalType"),
)
STRING_FIELDS = (("apiVersion",), ("kind",), ("id",), ("version",), ("status",))
WRONG_TYPED = st.one_of(
    st.integers(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), min_size=1, max_size=2),
)
QUOTES = ('"', "'")
CONTROL_CHARACTERS = [chr(c) for c in [*range(0, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]]


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _get(data: Any, path: tuple[str | int, ...]) -> tuple[Any, str | int] | None:
    """The container holding ``path``'s last part and that part, if the whole path exists."""
    node = data
    for part in path[:-1]:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return None
        elif not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    last = path[-1]
    if isinstance(last, int):
        return (node, last) if isinstance(node, list) and last < len(node) else None
    return (node, last) if isinstance(node, dict) and last in node else None


def _properties(data: dict[str, Any]) -> list[dict[str, Any]]:
    schemas = data.get("schema")
    if not isinstance(schemas, list) or not schemas or not isinstance(schemas[0], dict):
        return []
    properties = schemas[0].get("properties")
    return [p for p in properties or [] if isinstance(p, dict)]


def _properties_or_one(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The first schema's columns; a one-column schema replaces a schema without any."""
    columns = _properties(data)
    if not columns:
        data["schema"] = [{"name": "t", "physicalType": "table", "properties": [{"name": "c"}]}]
        columns = data["schema"][0]["properties"]
    return columns


# -- mutations of the data ------------------------------------------------------------------------


@st.composite
def deleted_field(draw: st.DrawFn, base: BaseContract) -> str:
    data = copy.deepcopy(base.data)
    present = [p for p in REQUIRED if _get(data, p) is not None]
    if not present:
        return ""  # an empty file
    container, key = _get(data, draw(st.sampled_from(present)))  # type: ignore[misc]
    del container[key]
    return _dump(data)


@st.composite
def duplicated_entry(draw: st.DrawFn, base: BaseContract) -> str:
    """A column, or a quality rule, written twice: two rules with one id."""
    data = copy.deepcopy(base.data)
    columns = _properties(data)
    rules = [(c, r) for c in columns for r in c.get("quality") or [] if isinstance(r, dict)]
    if rules and draw(st.booleans()):
        column, rule = draw(st.sampled_from(rules))
        column["quality"].append(copy.deepcopy(rule))
    elif columns:
        data["schema"][0]["properties"].append(copy.deepcopy(draw(st.sampled_from(columns))))
    else:
        data["schema"] = [{"name": "t", "properties": [{"name": "c"}, {"name": "c"}]}]
    return _dump(data)


@st.composite
def retyped_field(draw: st.DrawFn, base: BaseContract) -> str:
    data = copy.deepcopy(base.data)
    choices = [p for p in STRING_FIELDS if _get(data, p) is not None]
    columns = _properties(data)
    flags = ("required", "unique", "primaryKey")
    choices += [("schema", 0, "properties", i, f) for i in range(len(columns)) for f in flags]
    choices += [("schema", 0, "properties", i, "physicalType") for i in range(len(columns))]
    path = draw(st.sampled_from(choices))
    value = draw(WRONG_TYPED if path[-1] not in flags else st.sampled_from(["yes", 1, [], {}]))
    container, key = _get(data, path) or _get(data, path[:-1]) or (data, path[0])
    if isinstance(container, list):
        container[key] = value  # type: ignore[index]
    elif key == path[-1] or path[-1] not in container:
        container[path[-1] if isinstance(container, dict) else key] = value
    return _dump(data)


@st.composite
def wrong_enum(draw: st.DrawFn, base: BaseContract) -> str:
    data = copy.deepcopy(base.data)
    options: list[Any] = [e for e in WRONG_ENUMS if _get(data, e[0]) is not None]
    options += [("custom", entry) for entry in CUSTOM_ENUMS]
    path, value = draw(st.sampled_from(options))
    if path == "custom":
        name, wrong = value
        entries = [e for e in data.get("customProperties") or [] if e.get("property") != name]
        data["customProperties"] = [*entries, {"property": name, "value": wrong}]
    else:
        container, key = _get(data, path)  # type: ignore[misc]
        container[key] = value
    return _dump(data)


@st.composite
def bad_rule(draw: st.DrawFn, base: BaseContract) -> str:
    data = copy.deepcopy(base.data)
    columns = _properties(data)
    if columns and draw(st.booleans()):
        column = draw(st.sampled_from(columns))
        rule = dict(draw(st.sampled_from(BAD_RULES)))
        column["quality"] = [*(column.get("quality") or []), rule]
    else:
        schemas = data.get("schema")
        if not isinstance(schemas, list) or not schemas:
            data["schema"] = schemas = [{"name": "t", "physicalType": "table"}]
        rule = dict(draw(st.sampled_from(BAD_RULES + TABLE_LEVEL_BAD_RULES)))
        schemas[0]["quality"] = [*(schemas[0].get("quality") or []), rule]
    return _dump(data)


@st.composite
def unknown_type(draw: st.DrawFn, base: BaseContract) -> str:
    data = copy.deepcopy(base.data)
    column = draw(st.sampled_from(_properties_or_one(data)))
    column["physicalType"] = draw(st.sampled_from(UNKNOWN_TYPES))
    column.pop("logicalType", None)
    return _dump(data)


@st.composite
def bad_pattern(draw: st.DrawFn, base: BaseContract) -> str:
    data = copy.deepcopy(base.data)
    column = draw(st.sampled_from(_properties_or_one(data)))
    column["logicalTypeOptions"] = {"pattern": draw(st.sampled_from(BAD_REGEXES))}
    column["logicalType"] = "string"
    column["physicalType"] = "string"
    return _dump(data)


# -- mutations of the text ------------------------------------------------------------------------


@st.composite
def tab_indented(draw: st.DrawFn, base: BaseContract) -> str:
    lines = base.text.splitlines(keepends=True)
    indented = [i for i, line in enumerate(lines) if line.startswith("  ") and line.strip()]
    index = draw(st.sampled_from(indented))
    lines[index] = "\t" + lines[index].lstrip(" ")
    return "".join(lines)


@st.composite
def unclosed_quote(draw: st.DrawFn, base: BaseContract) -> str:
    lines = base.text.splitlines(keepends=True)
    keyed = [
        i for i, line in enumerate(lines) if ": " in line and not line.lstrip().startswith("#")
    ]
    index = draw(st.sampled_from(keyed))
    key, _, value = lines[index].partition(": ")
    rest = "".join(lines[index + 1 :])
    quote = next((q for q in QUOTES if q not in rest and q not in value), None)
    if quote is None or draw(st.booleans()):  # the file ends inside the quoted value
        opening = draw(st.sampled_from(QUOTES))
        return "".join(lines[:index]) + f"{key}: {opening}{value}"
    lines[index] = f"{key}: {quote}{value}"
    return "".join(lines)


@st.composite
def control_byte(draw: st.DrawFn, base: BaseContract) -> str:
    at = draw(st.integers(0, len(base.text)))
    return base.text[:at] + draw(st.sampled_from(CONTROL_CHARACTERS)) + base.text[at:]


@st.composite
def not_utf8(draw: st.DrawFn, base: BaseContract) -> bytes:
    raw = base.text.encode()
    at = draw(st.integers(0, len(raw)))
    while 0 < at < len(raw) and (raw[at] & 0xC0) == 0x80:  # keep whole characters whole
        at -= 1
    bad = draw(st.sampled_from([b"\xff", b"\xfe", b"\xc3(", b"\xe2\x82", b"\x80", b"\xed\xa0\x80"]))
    return raw[:at] + bad + raw[at:]


@st.composite
def deep_nesting(draw: st.DrawFn, base: BaseContract) -> str:
    depth = draw(st.integers(20, 20_000))
    opening, closing = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
    nested = opening * depth + "1" + closing * depth
    where = draw(st.sampled_from(["top", "name", "id"]))
    if where == "top":
        return base.text + f"fuzzNested: {nested}\n"
    data = copy.deepcopy(base.data)
    data[where] = "__NESTED__"
    return _dump(data).replace("__NESTED__", nested, 1)


@st.composite
def alias_bomb(draw: st.DrawFn, base: BaseContract) -> str:
    levels, width = draw(st.integers(2, 9)), draw(st.integers(2, 9))
    lines = [f"  l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * width)}]" for n in range(1, levels)]
    bomb = "fuzzBomb:\n" + "\n".join(lines) + "\n"
    if draw(st.booleans()):
        return base.text + bomb
    return base.text + bomb + f"fuzzBombUse: *l{levels - 1}\n"


@st.composite
def duplicated_key(draw: st.DrawFn, base: BaseContract) -> str:
    lines = base.text.splitlines(keepends=True)
    top = [i for i, line in enumerate(lines) if line[:1].isalpha() and ": " in line]
    index = draw(st.sampled_from(top))
    lines.insert(draw(st.integers(index + 1, len(lines))), lines[index])
    if not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join(lines)


@st.composite
def not_one_mapping(draw: st.DrawFn, base: BaseContract) -> str:
    shape = draw(st.sampled_from(["two documents", "list", "scalar", "comment", "blank", "null"]))
    return {
        "two documents": base.text + "\n---\n" + base.text,
        "list": _dump([base.data]),
        "scalar": "just text\n",
        "comment": "# nothing but a comment\n",
        "blank": " \n\n   \n",
        "null": "~\n",
    }[shape]


MUTATIONS = (
    deleted_field,
    duplicated_entry,
    retyped_field,
    wrong_enum,
    bad_rule,
    unknown_type,
    bad_pattern,
    tab_indented,
    unclosed_quote,
    control_byte,
    not_utf8,
    deep_nesting,
    alias_bomb,
    duplicated_key,
    not_one_mapping,
)


@st.composite
def malformed_contracts(draw: st.DrawFn) -> tuple[Path, bytes, str]:
    """A malformed contract: where it sits in a project, its bytes, and what was done to it."""
    if draw(st.integers(0, 29)) == 0:
        content = draw(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
        return Path("contracts", "payments", "raw", "random.odcs.yaml"), content, "random bytes"
    base = draw(st.sampled_from(BASES))
    mutation = draw(st.sampled_from(MUTATIONS))
    content = draw(mutation(base))
    raw = content if isinstance(content, bytes) else content.encode()
    return base.relative, raw, f"{mutation.__name__} of {base.relative}"


_case_numbers = itertools.count()


def _write(root: Path, relative: Path, content: bytes) -> Path:
    path = root / f"case{next(_case_numbers)}" / relative
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    return path


def assert_structured_findings(load: ContractLoad, path: Path) -> None:
    """The load of a malformed ``path``: findings naming the file, and no usable contract."""
    assert isinstance(load, ContractLoad)
    assert load.source == path
    assert load.findings, "a malformed contract loaded without any finding"
    assert not load.ok
    for finding in load.findings:
        assert finding.file == path
        assert finding.line >= 1 and finding.column >= 1
        assert finding.rule_id and finding.message and finding.fix
        assert finding.render().startswith(f"{path}:{finding.line}:{finding.column}: [")
    if load.standard_findings:
        assert load.contract is None


@pytest.fixture(scope="module")
def cases_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder outside any project for the generated files, with the contract cache off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_SWITCH, "off")
        yield tmp_path_factory.mktemp("fuzz_contracts")


def test_the_mutated_contracts_are_valid_before_mutation(cases_root: Path) -> None:
    """The mesh's contracts load cleanly where they sit, so each finding comes from a mutation."""
    assert len(MESH_BASES) >= 5
    for base in MESH_BASES:
        path = _write(cases_root, base.relative, base.text.encode())
        load = load_contract(path)
        assert load.ok, [finding.render() for finding in load.findings]


@fuzz_settings(1_000)
@given(case=malformed_contracts())
def test_every_malformed_contract_gives_findings_naming_its_file(
    cases_root: Path, case: tuple[Path, bytes, str]
) -> None:
    relative, content, what = case
    path = _write(cases_root, relative, content)
    load = load_contract(path)
    assert_structured_findings(load, path)
    if what.startswith(("not_utf8", "control_byte", "tab_indented", "not_one_mapping")):
        assert load.findings[0].level is FindingLevel.STANDARD, what


def test_a_missing_file_gives_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "contracts" / "nowhere.odcs.yaml"
    load = load_contract(path)
    assert_structured_findings(load, path)
    assert load.findings[0].rule_id == "yaml-syntax"


@fuzz_settings(25)
@given(case=malformed_contracts())
def test_mesh_contracts_lint_exits_1_on_malformed_contracts(
    cases_root: Path, case: tuple[Path, bytes, str]
) -> None:
    relative, content, _ = case
    path = _write(cases_root, relative, content)
    result = CliRunner().invoke(build_app(), ["contracts", "lint", str(path)])
    assert isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1
    assert str(path) in result.stdout


def test_mesh_contracts_lint_as_a_process_reports_without_traceback(cases_root: Path) -> None:
    """A few generated cases through the installed command: exit 1, each file named, no
    traceback."""
    paths: list[Path] = []

    @fuzz_settings(8)
    @given(case=malformed_contracts())
    def collect(case: tuple[Path, bytes, str]) -> None:
        paths.append(_write(cases_root, case[0], case[1]))

    collect()
    run = subprocess.run(
        [str(MESH), "contracts", "lint", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "Traceback" not in output, output
    for path in paths:
        assert f"{path}:" in run.stdout
    assert run.stdout.splitlines()[-1].startswith(f"{len(paths)} contract(s): ")
