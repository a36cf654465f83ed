"""Read a contract file into plain data and the line and column of every field in it.

Contracts are YAML, read the way the ODCS standard means them: an unquoted date such as
``2022-10-03`` stays a string (YAML 1.1's implicit timestamps are switched off); integers, floats,
booleans and null are read as usual. Every mapping key and sequence item gets its 1-based
position, keyed by its :data:`FieldPath`, so a later finding about any field can name its line.

A file that cannot be read, is not YAML, or is not a mapping gives a ``yaml-syntax`` finding; a key
written twice in one mapping gives ``yaml-duplicate-key``. Nothing here raises for a user's mistake.
A document nesting deeper than :data:`MAX_DEPTH` levels is refused the same way. Aliases
(``*anchor``) may repeat at most :data:`MAX_ALIASED_VALUES` values in all: a few nested
aliases can otherwise stand for billions of values ("billion laughs"), which every later step
would walk.
"""

from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from platform_lib.contracts.findings import FieldPath, Finding, FindingLevel, field_path_text

YAML_SYNTAX = "yaml-syntax"
YAML_DUPLICATE_KEY = "yaml-duplicate-key"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_DEPTH = 100
"""Nesting levels a document may have (a contract needs fewer than ten)."""
MAX_ALIASED_VALUES = 10_000
"""Values (scalars, lists, mappings) aliases may repeat in one document, nested ones included."""


class Position(NamedTuple):
    """A 1-based line and column in a file."""

    line: int
    column: int


class YamlDocument(BaseModel):
    """A contract file as read: its data, where each field is, and what stopped the reading.

    ``data`` is None when the file could not be read as one YAML mapping; ``findings`` then says
    why. Duplicate keys are reported in ``findings`` while ``data`` keeps the last value, as YAML
    readers do.
    """

    model_config = ConfigDict(frozen=True)

    source: Path
    data: dict[str, Any] | None
    positions: dict[FieldPath, Position]
    """Where each mapping key (``(..., "name")``) and sequence item (``(..., 3)``) starts."""
    findings: tuple[Finding, ...] = ()


class _ContractLoader(yaml.CSafeLoader):
    """PyYAML's safe loader (on libyaml's parser) without YAML 1.1 implicit timestamps."""


_ContractLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Problem(Exception):
    """A structural problem found while walking the node tree (the walk stops)."""

    def __init__(self, message: str, fix: str, node: Node) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.node = node


def _position(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


class _Walker:
    """Turns composed YAML nodes into plain data, recording positions and duplicate keys."""

    def __init__(self, loader: _ContractLoader, source: Path) -> None:
        self.loader = loader
        self.source = source
        self.positions: dict[FieldPath, Position] = {}
        self.findings: list[Finding] = []
        self._done: dict[int, Any] = {}
        self._active: set[int] = set()
        self._sizes: dict[int, int] = {}
        """Per collection node walked, the values it stands for (its own included)."""
        self._values = 0
        """Values walked so far, each alias counting the values it repeats."""
        self._aliased = 0

    def value(self, node: Node, path: FieldPath) -> Any:
        if isinstance(node, ScalarNode):
            self._values += 1
            return self._scalar(node)
        if len(path) >= MAX_DEPTH:
            raise _Problem(
                f"the document nests deeper than {MAX_DEPTH} levels",
                "flatten the structure; a contract needs only a few levels",
                node,
            )
        if id(node) in self._active:
            raise _Problem(
                "an alias refers to a node that contains it (a recursive structure)",
                "remove the recursive alias; a contract is a tree",
                node,
            )
        if id(node) in self._done:  # an alias: same data, positions stay at the anchor
            self._repeat(node)
            return self._done[id(node)]
        self._active.add(id(node))
        first = self._values
        self._values += 1
        result: Any
        if isinstance(node, MappingNode):
            result = self._mapping(node, path)
        elif isinstance(node, SequenceNode):
            result = []
            for index, item in enumerate(node.value):
                self.positions[(*path, index)] = _position(item)
                result.append(self.value(item, (*path, index)))
        else:  # pragma: no cover - the composer only makes the three node kinds
            raise _Problem("unsupported YAML node", "use plain YAML", node)
        self._active.discard(id(node))
        self._done[id(node)] = result
        self._sizes[id(node)] = self._values - first
        return result

    def _repeat(self, node: Node) -> None:
        """Count the values an alias of ``node`` repeats; too many is a problem."""
        size = self._sizes[id(node)]
        self._values += size
        self._aliased += size
        if self._aliased > MAX_ALIASED_VALUES:
            raise _Problem(
                f"aliases repeat more than {MAX_ALIASED_VALUES} values (nested aliases multiply)",
                "write the repeated parts out, or use fewer nested aliases",
                node,
            )

    def _scalar(self, node: ScalarNode) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, TypeError) as error:  # e.g. ``!!int zz``
            raise _Problem(
                f"the value {node.value!r} cannot be read as {node.tag}: {error}",
                "remove the explicit tag or write a value of that type",
                node,
            ) from error

    def _key(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            raise _Problem(
                "a mapping key is a collection",
                "use plain text as mapping keys",
                node,
            )
        key = self._scalar(node)
        return key if isinstance(key, str) else str(node.value)

    def _merged_pairs(self, node: Node) -> list[tuple[Node, Node]]:
        """The key/value pairs a merge key (``<<: *anchor``) brings in."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        pairs: list[tuple[Node, Node]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                raise _Problem(
                    "a merge key (<<) must name a mapping or a list of mappings",
                    "merge only mappings, or write the fields out",
                    source,
                )
            for key_node, value_node in source.value:
                if key_node.tag == _MERGE_TAG:
                    pairs.extend(self._merged_pairs(value_node))
                else:
                    pairs.append((key_node, value_node))
        return pairs

    def _mapping(self, node: MappingNode, path: FieldPath) -> dict[str, Any]:
        inherited: list[tuple[Node, Node]] = []
        own: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                inherited.extend(self._merged_pairs(value_node))
            else:
                own.append((key_node, value_node))
        result: dict[str, Any] = {}
        for key_node, value_node in inherited:
            key = self._key(key_node)
            if key not in result:
                self.positions[(*path, key)] = _position(key_node)
                result[key] = self.value(value_node, (*path, key))
        first_seen: dict[str, Position] = {}
        for key_node, value_node in own:
            key = self._key(key_node)
            where = _position(key_node)
            if key in first_seen:
                self._duplicate(path, key, where, first_seen[key])
            first_seen[key] = where
            self.positions[(*path, key)] = where
            result[key] = self.value(value_node, (*path, key))
        return result

    def _duplicate(self, path: FieldPath, key: str, where: Position, first: Position) -> None:
        field = (*path, key)
        for stale in [p for p in self.positions if p[: len(field)] == field]:
            del self.positions[stale]
        self.findings.append(
            Finding(
                file=self.source,
                line=where.line,
                column=where.column,
                field=field_path_text(field),
                rule_id=YAML_DUPLICATE_KEY,
                level=FindingLevel.STANDARD,
                message=f"key {key!r} appears twice in one mapping (first at line {first.line}); "
                "only the last one counts",
                fix=f"keep one {key!r} entry and delete the other",
            )
        )


def _syntax_finding(source: Path, message: str, fix: str, where: Position) -> Finding:
    return Finding(
        file=source,
        line=where.line,
        column=where.column,
        field=field_path_text(()),
        rule_id=YAML_SYNTAX,
        level=FindingLevel.STANDARD,
        message=message,
        fix=fix,
    )


def _failed(source: Path, message: str, fix: str, where: Position) -> YamlDocument:
    return YamlDocument(
        source=source,
        data=None,
        positions={},
        findings=(_syntax_finding(source, message, fix, where),),
    )


def _text_position(text: str, offset: int) -> Position:
    before = text[:offset]
    return Position(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def _decode(raw: bytes, source: Path) -> str | YamlDocument:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        where = Position(before.count(b"\n") + 1, error.start - (before.rfind(b"\n") + 1) + 1)
        return _failed(
            source,
            f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x} cannot be decoded)",
            "save the file as UTF-8",
            where,
        )


def _yaml_error(source: Path, text: str, error: yaml.YAMLError) -> YamlDocument:
    where = Position(1, 1)
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        if mark is not None:
            where = Position(mark.line + 1, mark.column + 1)
        message = error.problem or error.context or "invalid YAML"
        if error.problem and error.context:
            started = error.context_mark
            message += f" ({error.context}"
            message += f" started at line {started.line + 1})" if started else ")"
    elif isinstance(error, yaml.reader.ReaderError):
        where = _text_position(text, error.position)
        message = f"the character U+{error.character:04X} is not allowed in YAML"
    else:
        message = str(error).splitlines()[0] if str(error) else "invalid YAML"
    return _failed(
        source,
        f"the file is not valid YAML: {message}",
        "fix the YAML syntax at this position (indentation, quoting, a missing ':')",
        where,
    )


def read_yaml(path: Path) -> YamlDocument:
    """Read the YAML file at ``path`` into data and the position of every field.

    Args:
        path: The contract file.

    Returns:
        The document; when ``data`` is None, ``findings`` holds the ``yaml-syntax`` reason.

    Example:
        >>> document = read_yaml(Path("contracts/payments/curated/transactions.odcs.yaml"))
        >>> document.data["kind"], document.positions[("kind",)]
        ('DataContract', Position(line=3, column=1))
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        return _failed(
            path,
            f"the file cannot be read: {error.strerror or error}",
            "check that the path names a readable file",
            Position(1, 1),
        )
    return parse_yaml_bytes(raw, path)


def parse_yaml_bytes(raw: bytes, source: Path) -> YamlDocument:
    """Parse the bytes of ``source`` (UTF-8, a BOM allowed) into data and field positions."""
    text = _decode(raw, source)
    if isinstance(text, YamlDocument):
        return text
    return parse_yaml(text, source)


def parse_yaml(text: str, source: Path) -> YamlDocument:
    """Parse YAML ``text`` (the content of ``source``) into data and field positions.

    Args:
        text: The YAML text.
        source: The file it came from, named in findings.

    Returns:
        The document; when ``data`` is None, ``findings`` holds the ``yaml-syntax`` reason.

    Example:
        >>> parse_yaml("schema:\n  - name: orders\n", Path("c.odcs.yaml")).positions[
        ...     ("schema", 0, "name")
        ... ]
        Position(line=2, column=5)
    """
    try:
        loader = _ContractLoader(text)
    except yaml.YAMLError as error:  # the reader checks every character up front
        return _yaml_error(source, text, error)
    try:
        return _parse(loader, text, source)
    finally:
        loader.dispose()


def _parse(loader: _ContractLoader, text: str, source: Path) -> YamlDocument:
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as error:
        return _yaml_error(source, text, error)
    if root is None or (isinstance(root, ScalarNode) and root.value == ""):
        return _failed(
            source,
            "the file is empty",
            "write the contract as a YAML mapping (apiVersion, kind, id, version, ...)",
            Position(1, 1),
        )
    if not isinstance(root, MappingNode):
        kind = "a list" if isinstance(root, SequenceNode) else "a single value"
        return _failed(
            source,
            f"the document is {kind}, not a mapping of fields",
            "write the contract as a YAML mapping (apiVersion, kind, id, version, ...)",
            _position(root),
        )
    walker = _Walker(loader, source)
    try:
        data = walker.value(root, ())
    except _Problem as problem:
        return _failed(source, problem.message, problem.fix, _position(problem.node))
    except yaml.YAMLError as error:  # a tag without a constructor, e.g. ``!foo``
        return _yaml_error(source, text, error)
    return YamlDocument(
        source=source,
        data=data,
        positions={(): _position(root), **walker.positions},
        findings=tuple(walker.findings),
    )
