"""JSON-schema errors about a contract, explained: one :class:`Issue` per mistake, at its field.

``jsonschema`` reports what the schema could not match; a person needs to know what to change.
So an unknown field names the closest valid one, a failed ``oneOf``/``anyOf`` reports the
alternative that came closest (rather than "is not valid under any of the given schemas"), a
missing field quotes the standard's description of it, and the follow-on
``unevaluatedProperties`` complaints that a failed sub-schema causes about fields that are in
fact valid are left out.
"""

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

from platform_lib.contracts.findings import FieldPath, FindingLevel, Issue, field_path_text

ODCS_SCHEMA = "odcs-schema"
_UNKNOWN_FIELD_KEYWORDS = {"additionalProperties", "unevaluatedProperties"}
_ALTERNATIVE_KEYWORDS = {"oneOf", "anyOf"}
_SHAPE_KEYWORDS = {"type", "required", "const", "enum"}
_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
    "null": "null",
}


def explain_schema_errors(
    errors: Sequence[ValidationError], root_schema: dict[str, Any]
) -> list[Issue]:
    """One ``odcs-schema`` issue per mistake that the ``errors`` of one validation stand for.

    Args:
        errors: Every error of one ``iter_errors`` run over a document.
        root_schema: The schema validated against (its local ``$ref``s tell the valid fields).

    Returns:
        The issues in the errors' order, without repeats or follow-on complaints.

    Example:
        >>> validator = Draft201909Validator(schema)
        >>> errors = list(validator.iter_errors({**valid_document, "statuz": "draft"}))
        >>> [(i.path, i.fix) for i in explain_schema_errors(errors, schema)]
        [(('statuz',), "did you mean 'status'? rename the field")]
    """
    return unique_issues(
        issue for error in errors for issue in _explain(error, errors, root_schema)
    )


def short_field_name(path: FieldPath) -> str:
    """The field a message is about: ``quality[0]`` for ``schema[0].properties[1].quality[0]``."""
    if not path:
        return "the contract"
    end = len(path)
    while end > 0 and isinstance(path[end - 1], int):
        end -= 1
    return field_path_text(path[max(end - 1, 0) :])


def describe_value(value: Any) -> str:
    """A value as a message names it: ``the string 'yes'``, ``a list (2 item(s))``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list ({len(value)} item(s))"
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string"}
    text = repr(value)
    text = text if len(text) <= 40 else text[:37] + "..."
    return f"the {kinds.get(type(value), type(value).__name__)} {text}"


def unique_issues(issues: Iterable[Issue]) -> list[Issue]:
    """``issues`` without repeats (the same message about the same field), in their order."""
    seen: set[tuple[FieldPath, str]] = set()
    unique = []
    for issue in issues:
        if (issue.path, issue.message) not in seen:
            seen.add((issue.path, issue.message))
            unique.append(issue)
    return unique


# -- one error ---------------------------------------------------------------------------------


def _issue(path: FieldPath, message: str, fix: str) -> Issue:
    return Issue(
        path=path, rule_id=ODCS_SCHEMA, level=FindingLevel.STANDARD, message=message, fix=fix
    )


def _explain(
    error: ValidationError, siblings: Sequence[ValidationError], root: dict[str, Any]
) -> list[Issue]:
    """The issues one schema error stands for (none when it only echoes another error)."""
    path: FieldPath = tuple(error.absolute_path)
    keyword = str(error.validator)
    if keyword in _UNKNOWN_FIELD_KEYWORDS:
        return _unknown_fields(error, path, siblings, root)
    if keyword in _ALTERNATIVE_KEYWORDS:
        return _alternatives(error, path, root)
    if keyword == "required":
        return _missing(error, path)
    if keyword == "type":
        return [_wrong_type(error, path)]
    if keyword in {"enum", "const"}:
        return [_not_allowed_value(error, path)]
    if keyword in {"minItems", "maxItems"}:
        return [_item_count(error, path)]
    field = short_field_name(path)
    return [_issue(path, f"{field}: {error.message}", _described_fix(error.schema, field))]


def _unknown_fields(
    error: ValidationError,
    path: FieldPath,
    siblings: Sequence[ValidationError],
    root: dict[str, Any],
) -> list[Issue]:
    """Fields the schema does not allow here: misspelt, or valid only in another form."""
    instance = error.instance if isinstance(error.instance, dict) else {}
    schema = error.schema if isinstance(error.schema, dict) else {}
    known = _known_fields(schema, root)
    if error.validator == "additionalProperties":
        allowed = set(schema.get("properties") or {})
        unexpected = [name for name in instance if name not in allowed]
    else:  # the message names them: "('metric', 'mustBe' were unexpected)"
        unexpected = [name for name in instance if repr(name) in error.message]
    echoes_other_error = any(
        other.validator not in _UNKNOWN_FIELD_KEYWORDS
        and tuple(other.absolute_path)[: len(path)] == path
        for other in siblings
    )
    issues = []
    for name in unexpected:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            fix = (
                f"did you mean {close[0]!r}? rename the field"
                if close
                else "remove it, or keep it under customProperties (property/value pairs)"
            )
            issues.append(_issue((*path, name), f"unknown field {name!r}", fix))
        elif not echoes_other_error:  # else: unevaluated only because a sibling failed
            issues.append(
                _issue(
                    (*path, name),
                    f"field {name!r} is not allowed in this form of {short_field_name(path)}",
                    f"remove {name!r}, or change the entry's type so that {name!r} applies",
                )
            )
    return issues


def _known_fields(schema: dict[str, Any], root: dict[str, Any]) -> set[str]:
    """Every property name ``schema`` declares for an object, through references and branches."""
    names: set[str] = set()
    seen: set[int] = set()
    pending: list[Any] = [schema]
    while pending:
        node = pending.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        names.update(node.get("properties") or {})
        if isinstance(node.get("$ref"), str):
            pending.append(_resolve_local(node["$ref"], root))
        for keyword in ("allOf", "anyOf", "oneOf"):
            pending.extend(node.get(keyword) or [])
        pending.extend(node.get(keyword) for keyword in ("if", "then", "else"))
        pending.extend((node.get("dependentSchemas") or {}).values())
    return names


def _resolve_local(ref: str, root: dict[str, Any]) -> Any:
    """The part of ``root`` a local ``#/...`` reference names (None for other references)."""
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _alternatives(error: ValidationError, path: FieldPath, root: dict[str, Any]) -> list[Issue]:
    """A failed ``oneOf``/``anyOf``: report what the alternative that came closest needs."""
    field = short_field_name(path)
    keys = _discriminating_keys(error.validator_value)
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    if not branches:  # a oneOf that more than one alternative fits
        present = [
            key for key in keys if isinstance(error.instance, dict) and key in error.instance
        ]
        if present:
            message = f"{field} has {', '.join(present)}; only one of them is allowed"
            return [_issue(path, message, f"keep exactly one of: {', '.join(keys)}")]
        message = f"{field} fits more than one of the forms the standard allows"
        return [_issue(path, message, _described_fix(error.schema, field))]
    depth = len(error.absolute_path)
    plausible = [
        subs
        for subs in branches.values()
        if not any(s.validator == "type" and len(s.absolute_path) == depth for s in subs)
    ]
    if not plausible:  # the value's type fits no alternative
        types = [
            str(s.validator_value)
            for subs in branches.values()
            for s in subs
            if s.validator == "type"
        ]
        words = _either([_TYPE_WORDS.get(t, t) for t in dict.fromkeys(types)])
        message = f"{field} is {describe_value(error.instance)}; the standard expects {words}"
        return [_issue(path, message, f"write {field} as {words}")]
    if keys and all(_only_missing(subs, depth) for subs in plausible):
        message = f"{field} has none of: {', '.join(keys)}"
        return [_issue(path, message, f"add exactly one of: {', '.join(keys)}")]
    chosen = max(plausible, key=lambda subs: _closeness(subs, depth))
    issues = [issue for sub in chosen for issue in _explain(sub, chosen, root)]
    if issues:
        return issues
    closest = best_match(chosen)
    return [_issue(path, f"{field}: {closest.message}", f"correct {field}")]


def _only_missing(errors: list[ValidationError], depth: int) -> bool:
    return all(e.validator == "required" and len(e.absolute_path) == depth for e in errors)


def _closeness(errors: list[ValidationError], depth: int) -> tuple[int, int, int]:
    """How far an alternative got: errors deeper in the value mean its shape fitted."""
    shallow_shape = sum(
        1 for e in errors if e.validator in _SHAPE_KEYWORDS and len(e.absolute_path) == depth
    )
    deepest = max(len(e.absolute_path) for e in errors)
    return (-shallow_shape, deepest, -len(errors))


def _discriminating_keys(alternatives: Any) -> list[str]:
    """For alternatives that each require one distinct field (``mustBe``, ...), those fields."""
    if not isinstance(alternatives, list):
        return []
    keys = []
    for alternative in alternatives:
        required = alternative.get("required") if isinstance(alternative, dict) else None
        if not isinstance(required, list) or len(required) != 1:
            return []
        keys.append(str(required[0]))
    return keys


def _missing(error: ValidationError, path: FieldPath) -> list[Issue]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    required = error.validator_value if isinstance(error.validator_value, list) else []
    properties = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    issues = []
    for name in required:
        if name in instance:
            continue
        described = _first_sentence((properties.get(name) or {}).get("description"))
        issues.append(
            _issue(
                path,
                f"required field {name!r} is missing from {short_field_name(path)}",
                f"add `{name}:`" + (f" ({described})" if described else ""),
            )
        )
    return issues


def _wrong_type(error: ValidationError, path: FieldPath) -> Issue:
    field = short_field_name(path)
    expected = error.validator_value
    names = [str(n) for n in expected] if isinstance(expected, list) else [str(expected)]
    words = _either([_TYPE_WORDS.get(n, n) for n in names])
    instance = error.instance
    if "string" in names and isinstance(instance, bool | int | float):
        text = str(instance).lower() if isinstance(instance, bool) else str(instance)
        fix = f"quote the value ('{text}') so that it is read as text"
    elif "boolean" in names and isinstance(instance, str):
        fix = "write true or false, without quotes"
    elif {"number", "integer"} & set(names) and isinstance(instance, str):
        fix = "write the number without quotes"
    else:
        fix = f"write {field} as {words}"
    return _issue(path, f"{field} is {describe_value(instance)}; the standard expects {words}", fix)


def _not_allowed_value(error: ValidationError, path: FieldPath) -> Issue:
    value = error.validator_value
    allowed = list(value) if error.validator == "enum" and isinstance(value, list) else [value]
    texts = [str(v) for v in allowed]
    close = difflib.get_close_matches(str(error.instance), texts, n=1, cutoff=0.6)
    fix = f"did you mean {close[0]!r}? " if close else ""
    fix += f"use one of: {', '.join(texts)}" if len(texts) > 1 else f"use {texts[0]!r}"
    return _issue(path, f"{short_field_name(path)} {error.instance!r} is not allowed", fix)


def _item_count(error: ValidationError, path: FieldPath) -> Issue:
    field = short_field_name(path)
    count = len(error.instance) if isinstance(error.instance, list) else 0
    bound = "at least" if error.validator == "minItems" else "at most"
    fix = f"give {field} {bound} {error.validator_value} item(s)"
    if field.endswith("Between"):
        fix += ", smallest first"
    message = f"{field} has {count} item(s); the standard needs {bound} {error.validator_value}"
    return _issue(path, message, fix)


# -- wording -----------------------------------------------------------------------------------


def _either(words: Sequence[str]) -> str:
    """``a, b or c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _first_sentence(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    sentence = text.split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= 80 else sentence[:77] + "..."


def _described_fix(schema: Any, field: str) -> str:
    described = _first_sentence(schema.get("description")) if isinstance(schema, dict) else ""
    return f"correct {field}: {described}" if described else f"correct {field}"
