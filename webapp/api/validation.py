"""Request validation from the same JSON Schemas the OpenAPI document publishes.

Each operation declares its parameters and body as JSON Schema dicts
(:mod:`webapp.api.operations`); :mod:`webapp.api.openapi` puts those very dicts in the
document and this module compiles them (``jsonschema_rs``, draft 2020-12, the dialect
of OpenAPI 3.1) to check requests. One source of truth: the document cannot promise
what the validation refuses, or the reverse.

Refusals name the field (``contacts[3].phone``, ``limit``) and say what is expected:
400 when the body is not JSON at all, 422 when a value is wrong, 404 when a path
parameter cannot name anything. Strings PostgreSQL cannot store (NUL characters,
lone surrogates) are refused here, before they reach the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jsonschema_rs

from webapp.api.errors import ApiError
from webapp.api.schemas import COMPONENTS

#: Body bytes accepted by any JSON endpoint (larger contact lists: several requests).
MAX_BODY_BYTES = 8 * 1024 * 1024


@lru_cache(maxsize=512)
def _validator(schema_json: str) -> Any:
    schema = json.loads(schema_json)
    return jsonschema_rs.validator_for({**schema, "components": {"schemas": COMPONENTS}}, validate_formats=True)


def validator(schema: Mapping[str, Any]) -> Any:
    """A compiled validator for ``schema`` (``$ref`` s to ``#/components/schemas/...`` resolve)."""
    return _validator(json.dumps(schema, sort_keys=True))


def field_name(path: list[str | int]) -> str:
    """``["contacts", 3, "phone"]`` -> ``contacts[3].phone``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _first_error(schema: Mapping[str, Any], value: Any) -> tuple[str | None, str] | None:
    for error in validator(schema).iter_errors(value):
        path = list(error.instance_path)
        kind = error.kind
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            path.append(kind.property)
            return field_name(path), f"{field_name(path)} is required"
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            unexpected = list(kind.unexpected)
            name = field_name([*path, unexpected[0]]) if unexpected else field_name(path)
            return name, f"{name} is not a field of this request; remove it"
        where = field_name(path) or None
        return where, f"{where or 'the body'}: {error.message}"
    return None


def _unstorable(value: Any, path: list[str | int]) -> tuple[str, str] | None:
    """The first string (or key) PostgreSQL text cannot hold, with where it is."""
    if isinstance(value, str):
        bad = "\x00" in value
        if not bad:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                bad = True
        if bad:
            name = field_name(path) or "body"
            return name, f"{name}: text must be valid UTF-8 without NUL characters"
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _unstorable(key, path) or _unstorable(item, [*path, key])
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable(item, [*path, index])
            if found:
                return found
    return None


def check(schema: Mapping[str, Any], value: Any, *, status: int = 422, code: str = "validation-failed") -> None:
    """Raise :class:`ApiError` naming the first wrong field of ``value``."""
    problem = _unstorable(value, []) or _first_error(schema, value)
    if problem is not None:
        field, message = problem
        raise ApiError(status, code, message, field=field)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_body(raw: bytes, schema: Mapping[str, Any]) -> Any:
    """Decode and validate a JSON body (400 when it is not JSON, 422 when a value is wrong)."""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "payload-too-large", f"the body is larger than {MAX_BODY_BYTES} bytes; send less at once")
    if not raw.strip():
        raise ApiError(400, "bad-json", "this request needs a JSON body (Content-Type: application/json)")
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "bad-json", f"the body is not valid JSON: {exc}") from None
    check(schema, value)
    return value


# --- parameters ------------------------------------------------------------------------------


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    """Turn a query or path text into the type its schema declares (or leave it text,
    so the schema check reports it)."""
    kind = schema.get("type")
    if kind == "integer":
        text = raw.strip()
        if text.lstrip("-").isdigit() and len(text) <= 25:
            return int(text)
    elif kind == "number":
        try:
            number = float(raw)
        except ValueError:
            return raw
        return number if number == number and abs(number) != float("inf") else raw
    elif kind == "boolean":
        lowered = raw.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
    elif kind == "array":
        items = schema.get("items", {})
        return [_coerce(part, items) for part in raw.split(",") if part != ""]
    return raw


def parse_params(specs: list[Any], values: Mapping[str, str], location: str) -> dict[str, Any]:
    """Coerce and check the ``location`` (``path`` or ``query``) parameters of a request.

    Unknown query parameters are refused (a typo must not silently mean "no filter").
    A path parameter that does not fit its schema cannot name anything: 404.
    """
    declared = {p.name: p for p in specs if p.location == location}
    if location == "query":
        unknown = sorted(set(values) - set(declared))
        if unknown:
            allowed = ", ".join(sorted(declared)) or "none"
            raise ApiError(422, "validation-failed", f"unknown query parameter {unknown[0]!r}; this endpoint takes: "
                           f"{allowed}", field=unknown[0])
    out: dict[str, Any] = {}
    for name, spec in declared.items():
        if name not in values:
            if spec.required:
                raise ApiError(422, "validation-failed", f"query parameter {name} is required", field=name)
            continue
        value = _coerce(values[name], spec.schema)
        problem = _unstorable(value, [name]) or _first_error(spec.schema, value)
        if problem is not None:
            if location == "path":
                raise ApiError(404, "not-found", f"no resource matches {name} {values[name]!r}", field=name)
            raise ApiError(422, "validation-failed", problem[1].replace("the body", name), field=name)
        out[name] = value
    return out


def parse_time(text: str, field: str) -> datetime:
    """An RFC 3339 date-time (the schema's ``format: date-time``) as an aware datetime
    in UTC; one without an offset is read as UTC."""
    try:
        value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ApiError(422, "validation-failed", f"{field}: expected a date-time such as 2026-01-31T09:00:00Z, "
                       f"got {text!r}", field=field) from None
    return value
