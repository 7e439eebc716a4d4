"""Request validation against the copied OpenAPI contracts (portal/vecozo/contracts/).

Schemas are taken from the contracts themselves (``$ref`` resolved here) and checked with the
OpenAPI 3.0 validator, so a change of contract changes the checks. Errors come back keyed by
field path, as ValidationProblemDetails ``errors`` wants them.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator

CONTRACTS = Path(__file__).resolve().parent.parent / "contracts"
FILES = {"push": "push-v1.json", "pull": "pull-v1.json", "status": "status-v3.json"}


@cache
def contract(name: str) -> dict[str, Any]:
    return json.loads((CONTRACTS / FILES[name]).read_text(encoding="utf-8"))


def _resolve(node: Any, spec: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node and len(node) == 1:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            target: Any = spec
            for part in ref[2:].split("/"):
                target = target[part]
            return _resolve(target, spec)
        return {k: _resolve(v, spec) for k, v in node.items() if k != "discriminator"}
    if isinstance(node, list):
        return [_resolve(v, spec) for v in node]
    return node


@cache
def schema(api: str, name: str) -> dict[str, Any]:
    spec = contract(api)
    return _resolve(spec["components"]["schemas"][name], spec)


@cache
def parameter_schema(api: str, path: str, method: str, param: str) -> dict[str, Any]:
    spec = contract(api)
    for p in spec["paths"][path][method].get("parameters", []):
        if p["name"] == param:
            return _resolve(p["schema"], spec)
    raise KeyError(param)


@cache
def zoekpad_schema(zoekpad_type: str) -> dict[str, Any] | None:
    """The concrete Zoekpad schema for a discriminator value.

    The contract models the variants as ``allOf: [Zoekpad]`` plus their own properties, both with
    ``additionalProperties: false``; read literally no object could pass both. As the discriminator
    intends, a variant is its own properties plus ``zoekpadType``.
    """
    spec = contract("pull")
    base = spec["components"]["schemas"]["Zoekpad"]
    mapping = base["discriminator"]["mapping"]
    if zoekpad_type not in mapping:
        return None
    variant = dict(schema("pull", mapping[zoekpad_type].rsplit("/", 1)[1]))
    variant.pop("allOf", None)
    variant["properties"] = {"zoekpadType": {"type": "string"}, **variant["properties"]}
    variant["required"] = ["zoekpadType", *variant.get("required", [])]
    return variant


_VALIDATORS: dict[int, OAS30Validator] = {}  # schemas below are cached objects: keyed by id


def errors_for(instance: Any, schema_: dict[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """Validation errors keyed by dotted field path (Dutch messages)."""
    validator = _VALIDATORS.get(id(schema_))
    if validator is None or validator.schema is not schema_:
        validator = OAS30Validator(schema_, format_checker=OAS30Validator.FORMAT_CHECKER)
        _VALIDATORS[id(schema_)] = validator
    found: dict[str, list[str]] = {}
    for error in validator.iter_errors(instance):
        path = [str(p) for p in error.absolute_path]
        text = _dutch(error)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path.append(missing)
        elif error.validator == "additionalProperties":
            extra = [
                k for k in (error.instance or {}) if k not in (error.schema.get("properties") or {})
            ]
            path.append(extra[0] if extra else "")
        key = ".".join(p for p in [prefix, *path] if p) or (prefix or "$")
        found.setdefault(key, []).append(text)
    return found


def _dutch(error) -> str:
    v = error.validator
    if v == "required":
        return "Dit veld is verplicht."
    if v == "additionalProperties":
        return "Dit veld is niet toegestaan."
    if v == "type":
        return f"Verwacht type {error.validator_value}."
    if v == "minLength":
        return f"Minimaal {error.validator_value} teken(s)."
    if v == "maxLength":
        return f"Maximaal {error.validator_value} tekens."
    if v in ("minimum", "maximum"):
        word = "Minimaal" if v == "minimum" else "Maximaal"
        return f"{word} {error.validator_value}."
    if v in ("minItems", "maxItems"):
        word = "Minimaal" if v == "minItems" else "Maximaal"
        return f"{word} {error.validator_value} element(en)."
    if v == "format":
        return f"Geen geldige {error.validator_value}."
    if v == "enum":
        return "Geen toegestane waarde."
    return error.message


def query_int(api: str, path: str, method: str, name: str, raw: str | None) -> tuple[Any, dict]:
    """A query parameter parsed and checked against its contract schema."""
    spec = parameter_schema(api, path, method, name)
    if raw is None:
        return spec.get("default"), {}
    try:
        value = int(raw)
    except ValueError:
        return None, {name: ["Verwacht een geheel getal."]}
    return value, errors_for(value, spec, name)


def query_uuid(api: str, path: str, method: str, name: str, raw: str) -> dict[str, list[str]]:
    return errors_for(raw, parameter_schema(api, path, method, name), name)
