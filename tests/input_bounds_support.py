"""Finds the inputs a route accepts without a bound: strings and lists without a maximum
length, integers without a range, in bodies, forms, query strings and the models in them."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

from annotated_types import Ge, Le, MaxLen
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tests.test_isolation import http_routes


def _metadata_bounds(info: FieldInfo) -> set[str]:
    found = set()
    for item in info.metadata:
        if isinstance(item, MaxLen):
            found.add("max_length")
        if isinstance(item, Le) or getattr(item, "le", None) is not None:
            found.add("le")
        if isinstance(item, Ge) or getattr(item, "ge", None) is not None:
            found.add("ge")
        if getattr(item, "max_length", None) is not None:
            found.add("max_length")
    return found


def _unbounded(annotation: Any, bounds: set[str], where: str, seen: set[type]) -> Iterator[str]:
    """The places under ``annotation`` that accept input without a limit."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        inner, *extra = args
        extra_bounds = set(bounds)
        for item in extra:
            if isinstance(item, FieldInfo):
                extra_bounds |= _metadata_bounds(item)
            elif isinstance(item, MaxLen):
                extra_bounds.add("max_length")
            elif isinstance(item, Le):
                extra_bounds.add("le")
            elif isinstance(item, Ge):
                extra_bounds.add("ge")
        yield from _unbounded(inner, extra_bounds, where, seen)
        return
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            yield from _unbounded(arg, bounds, where, seen)
        return
    if origin is typing.Literal or annotation is type(None) or annotation is bool:
        return
    if origin in (list, set, frozenset, tuple, dict):
        if "max_length" not in bounds:
            yield f"{where}: a {origin.__name__} without max_length"
        for arg in args:
            if arg is not Ellipsis:
                yield from _unbounded(arg, set(), f"{where}[]", seen)
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for name, info in annotation.model_fields.items():
            yield from _unbounded(
                info.annotation, _metadata_bounds(info), f"{annotation.__name__}.{name}", seen
            )
        return
    if annotation is str and "max_length" not in bounds:
        yield f"{where}: a str without max_length"
    if annotation is int and not {"le", "ge"} <= bounds:
        yield f"{where}: an int without ge/le"
    if annotation is Any:
        yield f"{where}: Any"


def _unbounded_json(schema: Any, where: str) -> Iterator[str]:
    """The same, in a JSON schema a route documents for a body it validates itself."""
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    bounded = "maxLength" in schema or "enum" in schema or schema.get("format") == "date"
    if kind == "string" and not bounded:
        yield f"{where}: a string without maxLength"
    if kind == "array" and "maxItems" not in schema:
        yield f"{where}: an array without maxItems"
    for name, child in schema.get("properties", {}).items():
        yield from _unbounded_json(child, f"{where}.{name}")
    for key in ("items", "anyOf", "oneOf", "allOf"):
        children = schema.get(key)
        for child in children if isinstance(children, list) else [children]:
            yield from _unbounded_json(child, where)


def unbounded_inputs(app: FastAPI) -> list[str]:
    """Every unbounded input of every route, as ``METHOD path: where: what``.

    Integer path and query parameters are left out: one app-wide dependency answers 404 for
    any beyond the database's range. A body the route validates itself (a ``dict``) is
    judged by the schema the route documents for it.
    """
    problems: list[str] = []
    for route in http_routes(app):
        dependant: Dependant | None = getattr(route, "dependant", None)
        if dependant is None:
            continue
        label = f"{min(route.methods)} {route.path}"
        documented = (route.openapi_extra or {}).get("requestBody", {}).get("content", {})
        for content in documented.values():
            problems.extend(f"{label}: {p}" for p in _unbounded_json(content["schema"], "body"))
        stack = [dependant]
        while stack:
            current = stack.pop()
            for field in (*current.query_params, *current.body_params, *current.header_params):
                info = field.field_info
                if documented and typing.get_origin(info.annotation) is dict:
                    continue
                for problem in _unbounded(
                    info.annotation, _metadata_bounds(info), field.alias, set()
                ):
                    in_query = field in current.query_params
                    if not (in_query and problem.endswith("an int without ge/le")):
                        problems.append(f"{label}: {problem}")
            stack.extend(current.dependencies)
    return sorted(set(problems))
