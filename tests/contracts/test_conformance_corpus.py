"""The project's own ODCS conformance corpus is there, and its README says what each file covers."""

import re

from tests.contracts.conformance_corpus import CORPUS, corpus_contracts

README = CORPUS / "README.md"
TABLE_ROW = re.compile(r"^\| `(?P<file>[^`]+\.odcs\.yaml)` \|", re.MULTILINE)


def test_the_conformance_corpus_is_there() -> None:
    assert len(corpus_contracts()) >= 20, f"the ODCS conformance corpus is missing: {CORPUS}"


def test_the_readme_table_lists_every_corpus_file_once() -> None:
    listed = TABLE_ROW.findall(README.read_text(encoding="utf-8"))
    assert sorted(listed) == sorted(contract.path.name for contract in corpus_contracts())
