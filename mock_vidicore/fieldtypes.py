"""Metadata field types and value checking (reference §5.4). Pure functions, stdlib only."""

from __future__ import annotations

import re
from datetime import datetime

from mock_vidicore.errors import invalid_input
from mock_vidicore.model import FieldDefinition

FIELD_TYPES = frozenset({
    "string", "string-exact", "string-exact-sortable", "string-sortable", "string-noindex",
    "integer", "integer-sortable", "integer-noindex", "long", "long-noindex",
    "float", "float-sortable", "float-noindex", "boolean", "boolean-noindex",
    "date", "date-sortable", "date-noindex", "timeCode", "timeCode-noindex",
})
FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
TIME_CODE = re.compile(r"(-INF|\+INF|-?[0-9]+(@([0-9]+(:[0-9]+)?|PAL|NTSC|NTSC30))?)")


def value_problem(definition: FieldDefinition, value: str) -> str:
    """Why ``value`` does not fit the field's type, or "" when it does.

    Integers and longs are decimal, floats decimal or exponent notation,
    booleans exactly `true`/`false`, dates ISO 8601, time codes
    `{samples}[@{timebase}]`. A `stringRestriction` pattern must match fully.
    """
    base = definition.type.split("-")[0]
    if base in ("integer", "long") and not _INTEGER.fullmatch(value):
        return f"{value!r} is not an integer"
    if base == "float" and not _FLOAT.fullmatch(value):
        return f"{value!r} is not a number"
    if base == "boolean" and value not in ("true", "false"):
        return f"{value!r} is not a boolean (true or false)"
    if base == "date":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return f"{value!r} is not an ISO 8601 date"
    if base == "timeCode" and not TIME_CODE.fullmatch(value):
        return f"{value!r} is not a time code"
    if definition.pattern and base == "string" and not re.fullmatch(definition.pattern, value):
        return f"{value!r} does not match pattern {definition.pattern!r}"
    return ""


def check_value(definition: FieldDefinition, value: str) -> None:
    """Raise 400 `invalidInput` (context metadata) if ``value`` does not fit the field."""
    problem = value_problem(definition, value)
    if problem:
        raise invalid_input("metadata", f"field {definition.name} ({definition.type}): {problem}",
                            entity_id=definition.name, value=value)


def check_field_type(name: str, kind: str) -> None:
    """Raise 400 for an unknown field type or a field name VidiCore would refuse."""
    if not FIELD_NAME.fullmatch(name):
        raise invalid_input("metadata-field", f"invalid field name {name!r}", entity_id=name)
    if kind not in FIELD_TYPES:
        raise invalid_input("metadata-field", f"unknown field type {kind!r}", entity_id=name,
                            value=kind)
