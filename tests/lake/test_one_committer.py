"""Exactly one module of platform_lib commits to Delta: ``platform_lib/lake/committer.py``.

Read from the source tree: a call of ``write_deltalake`` (or a mention of it, e.g. passed as a
function), of a ``.merge(``, ``.delete(`` or ``.restore(`` method, or ``DeltaTable.create`` /
``convert_to_deltalake``, anywhere else is a commit that bypasses the write scope, the retries
and the error mapping the committer applies to every commit.
"""

import ast
from pathlib import Path

import platform_lib

SOURCE_ROOT = Path(platform_lib.__file__).resolve().parents[1]
"""The folder holding the ``platform_lib`` package."""
COMMITTER = "platform_lib/lake/committer.py"
COMMITTING_FUNCTIONS = frozenset({"write_deltalake", "convert_to_deltalake"})
"""deltalake functions that commit (or create a table), however they are reached."""
COMMITTING_METHODS = frozenset({"merge", "delete", "restore"})
"""Method names of ``DeltaTable`` that commit."""


def delta_commits(source: str) -> list[tuple[int, str]]:
    """``(line, what)`` of every Delta commit in the Python ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in COMMITTING_FUNCTIONS:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.ImportFrom):
            found += [(node.lineno, a.name) for a in node.names if a.name in COMMITTING_FUNCTIONS]
        elif isinstance(node, ast.Attribute) and node.attr in COMMITTING_FUNCTIONS:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, owner = node.func.attr, node.func.value
            if method in COMMITTING_METHODS:
                found.append((node.lineno, f".{method}("))
            elif method == "create" and isinstance(owner, ast.Name) and owner.id == "DeltaTable":
                found.append((node.lineno, "DeltaTable.create("))
    return sorted(set(found))


def commits_by_module(root: Path) -> dict[str, list[tuple[int, str]]]:
    """Per module of ``root/platform_lib`` (its path from ``root``), the Delta commits in it."""
    found: dict[str, list[tuple[int, str]]] = {}
    for path in sorted((root / "platform_lib").rglob("*.py")):
        commits = delta_commits(path.read_text())
        if commits:
            found[path.relative_to(root).as_posix()] = commits
    return found


def stray_commits(root: Path) -> list[str]:
    """``<module>:<line> commits to Delta (<what>)`` for each commit outside the committer."""
    return [
        f"{module}:{line} commits to Delta ({what})"
        for module, commits in commits_by_module(root).items()
        if module != COMMITTER
        for line, what in commits
    ]


def test_only_the_committer_commits_to_delta() -> None:
    stray = stray_commits(SOURCE_ROOT)

    assert not stray, (
        f"only {COMMITTER} may commit to Delta; commit through a Committer instead:\n"
        + "\n".join(stray)
    )
    assert COMMITTER in commits_by_module(SOURCE_ROOT), f"{COMMITTER} commits nothing: moved?"


def test_every_kind_of_stray_commit_is_named_with_its_module_and_line(tmp_path: Path) -> None:
    lake = tmp_path / "platform_lib" / "lake"
    lake.mkdir(parents=True)
    (lake / "committer.py").write_text(
        "from deltalake import write_deltalake\n\ndef commit(uri, rows):\n"
        "    write_deltalake(uri, rows)\n"
    )
    (lake / "sneaky.py").write_text(
        "import deltalake\n"
        "from deltalake import DeltaTable, write_deltalake\n"
        "\n"
        "def sneak(uri, rows):\n"
        "    write_deltalake(uri, rows)\n"
        "    deltalake.write_deltalake(uri, rows, mode='append')\n"
        "    DeltaTable(uri).merge(rows, 'a = b').when_not_matched_insert_all().execute()\n"
        '    DeltaTable(uri).delete("a = 1")\n'
        "    DeltaTable(uri).restore(0)\n"
        "    DeltaTable.create(uri, rows.schema)\n"
        "    return DeltaTable(uri).version(), DeltaTable(uri).history(1)\n"
    )
    (tmp_path / "platform_lib" / "reading.py").write_text(
        "from deltalake import DeltaTable\n\ndef version(uri):\n"
        "    return DeltaTable(uri).version()\n"
    )

    stray = stray_commits(tmp_path)

    assert stray == [
        f"platform_lib/lake/sneaky.py:{line} commits to Delta ({what})"
        for line, what in [
            (2, "write_deltalake"),
            (5, "write_deltalake"),
            (6, "write_deltalake"),
            (7, ".merge("),
            (8, ".delete("),
            (9, ".restore("),
            (10, "DeltaTable.create("),
        ]
    ]
