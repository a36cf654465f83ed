"""Is a document valid ODCS? Checked against the JSON schema of its ``apiVersion``, then a model.

Each contract is checked by the standard's own JSON schema of the version it declares
(``odcs_versions``: v3.0.0 to v3.2.0, read offline); a document that declares no version is
checked by the newest, and one that declares a version without a schema gets that one finding,
naming the versions there are. A compiled validator (``jsonschema-rs``, one per version) answers
"valid or not" in tens of microseconds; only for a document it rejects does the reference
implementation (``jsonschema``) collect every error (not just the first), which
``schema_errors`` explains as ``odcs-schema`` issues. When a later version's schema accepts the
document, each issue's fix says so: the contract most likely means that version.

A document its schema accepts is then read by the pydantic model of the installed
``open-data-contract-standard`` package (ODCS v3.2.0), whatever version it declares: every v3
version since v3.0.0 only added to the standard, and the model checks what the schema cannot
express (dates, for one); what it rejects becomes ``odcs-model``.
"""

import functools
from collections.abc import Iterable
from typing import Any

import jsonschema_rs
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from open_data_contract_standard.model import OpenDataContractStandard
from pydantic import ValidationError as ModelValidationError

from platform_lib.contracts.findings import FieldPath, FindingLevel, Issue
from platform_lib.contracts.odcs_versions import (
    LATEST_API_VERSION,
    SUPPORTED_API_VERSIONS,
    later_versions,
    odcs_json_schema,
    supported_versions_text,
)
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
def _fast_validator(api_version: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(odcs_json_schema(api_version))


@functools.cache
def _validator(api_version: str) -> Validator:
    schema = odcs_json_schema(api_version)
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
    """Every error the JSON schema of the document's ``apiVersion`` finds in it, one issue each.

    A document without ``apiVersion`` is checked by the newest schema (which reports the missing
    field); one whose ``apiVersion`` has no schema gets only that finding, since every other
    check depends on the version.
    """
    api_version = document.get("apiVersion", LATEST_API_VERSION)
    if api_version not in SUPPORTED_API_VERSIONS:
        return [_unsupported_version(api_version)]
    if _fast_validator(api_version).is_valid(document):
        return []
    errors = list(_validator(api_version).iter_errors(document))
    issues = explain_schema_errors(errors, odcs_json_schema(api_version))
    accepting = [v for v in later_versions(api_version) if _fast_validator(v).is_valid(document)]
    if not accepting:
        return issues
    hint = f"or, if the contract is written for ODCS {accepting[0]}, whose schema accepts it, "
    hint += f"declare apiVersion: {accepting[0]}"
    return [issue.model_copy(update={"fix": f"{issue.fix}; {hint}"}) for issue in issues]


def _unsupported_version(api_version: Any) -> Issue:
    return Issue(
        path=("apiVersion",),
        rule_id=ODCS_SCHEMA,
        level=FindingLevel.STANDARD,
        message=(
            f"apiVersion is {describe_value(api_version)}, a version the platform has no ODCS "
            f"schema of; it checks contracts of ODCS {supported_versions_text()}"
        ),
        fix=(
            "declare the version the contract is written for: "
            f"{supported_versions_text('or')}; a contract of ODCS v2 is migrated to v3 first"
        ),
    )


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
