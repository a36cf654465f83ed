"""Is a document valid ODCS? Checked against the standard's own JSON schema, then its model.

The JSON schema and the pydantic model both ship in the ``open-data-contract-standard`` package,
so the platform checks exactly what the standard's tooling checks. A compiled validator
(``jsonschema-rs``) answers "valid or not" in tens of microseconds; only for a document it
rejects does the reference implementation (``jsonschema``) collect every error (not just the
first), which ``schema_errors`` explains as ``odcs-schema`` issues. A document the schema accepts
is then read by the package's model; what the model rejects becomes ``odcs-model``.
"""

import functools
import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

import jsonschema_rs
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from open_data_contract_standard.model import OpenDataContractStandard
from pydantic import ValidationError as ModelValidationError

from platform_lib.contracts.findings import FieldPath, FindingLevel, Issue
from platform_lib.contracts.schema_errors import (
    ODCS_SCHEMA,
    describe_value,
    explain_schema_errors,
    short_field_name,
    unique_issues,
)

ODCS_MODEL = "odcs-model"
__all__ = ["ODCS_MODEL", "ODCS_SCHEMA", "model_issues", "schema_issues", "validate_standard"]


@functools.cache
def odcs_json_schema() -> dict[str, Any]:
    """The ODCS JSON schema shipped in the ``open-data-contract-standard`` package."""
    text = resources.files("open_data_contract_standard").joinpath("schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _fast_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(odcs_json_schema())


@functools.cache
def _validator() -> Validator:
    schema = odcs_json_schema()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_standard(document: dict[str, Any]) -> list[Issue]:
    """Every way ``document`` breaks the ODCS standard (empty when it is valid ODCS).

    Args:
        document: The contract as plain data (read with timestamps left as strings).

    Returns:
        ``odcs-schema`` issues; when there are none, the ``odcs-model`` issues.

    Example:
        >>> [issue.rule_id for issue in validate_standard({"kind": "DataContract"})]
        ['odcs-schema', 'odcs-schema', 'odcs-schema']
    """
    issues = schema_issues(document)
    return issues if issues else model_issues(document)


def schema_issues(document: dict[str, Any]) -> list[Issue]:
    """Every error the ODCS JSON schema finds in ``document``, one issue each."""
    if _fast_validator().is_valid(document):
        return []
    errors = list(_validator().iter_errors(document))
    return explain_schema_errors(errors, odcs_json_schema())


def model_issues(document: dict[str, Any]) -> list[Issue]:
    """Every error the ODCS pydantic model finds in ``document``, one issue each.

    For a field that may take several forms (``team``: an object or a list), the form that got
    furthest is reported: an error at a field is dropped when another one lies inside it.
    """
    try:
        OpenDataContractStandard.model_validate(document)
    except ModelValidationError as error:
        issues = []
        for detail in error.errors():
            path = _document_path(document, detail["loc"])
            field = short_field_name(path)
            issues.append(
                Issue(
                    path=path,
                    rule_id=ODCS_MODEL,
                    level=FindingLevel.STANDARD,
                    message=f"{field}: {detail['msg']} (got {describe_value(detail['input'])})",
                    fix=f"correct {field} as the ODCS standard defines it",
                )
            )
        paths = {issue.path for issue in issues}
        innermost = [
            issue
            for issue in issues
            if not any(
                len(p) > len(issue.path) and p[: len(issue.path)] == issue.path for p in paths
            )
        ]
        return unique_issues(innermost)
    return []


def _document_path(document: Any, loc: Iterable[int | str]) -> FieldPath:
    """The document path of a pydantic error location, without its union-member tags."""
    path: list[str | int] = []
    node = document
    for part in loc:
        in_mapping = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_mapping or in_list):
            continue  # e.g. "Team" or "list[TeamMember]" naming a union member
        node = node[part]
        path.append(part)
    return tuple(path)
